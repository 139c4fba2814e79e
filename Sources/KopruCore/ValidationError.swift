/// A rule a value broke, named so that an operator (and an API client) can act on it.
public struct ValidationRule: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    public static let required = ValidationRule("required")
    public static let positive = ValidationRule("positive")
    public static let nonNegative = ValidationRule("non-negative")
    public static let format = ValidationRule("format")
    public static let currency = ValidationRule("currency")
    public static let totals = ValidationRule("totals")
    public static let oneOf = ValidationRule("one-of")
    public static func maxLength(_ limit: Int) -> ValidationRule { ValidationRule("max-length:\(limit)") }

    public var description: String { name }
}

/// One field that failed one rule. `field` is a path such as `lines[2].quantity`.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let field: String
    public let rule: ValidationRule
    public let message: String

    public init(field: String, rule: ValidationRule, message: String) {
        self.field = field
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(field): \(message) [\(rule)]" }
}

/// Every problem found in one value, so a caller fixes them all at once rather than one per try.
public struct ValidationErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ValidationError]

    public init(_ errors: [ValidationError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// Collects validation errors for one value; `check()` throws them together.
public struct Validator: Sendable {
    public private(set) var errors: [ValidationError] = []
    private let prefix: String

    public init(prefix: String = "") { self.prefix = prefix }

    private func path(_ field: String) -> String { prefix.isEmpty ? field : "\(prefix).\(field)" }

    public mutating func fail(_ field: String, _ rule: ValidationRule, _ message: String) {
        errors.append(ValidationError(field: path(field), rule: rule, message: message))
    }

    public mutating func require(_ value: String?, _ field: String) {
        if (value ?? "").allSatisfy(\.isWhitespace) { fail(field, .required, "is required") }
    }

    public mutating func requirePositive(_ value: Int, _ field: String) {
        if value <= 0 { fail(field, .positive, "must be greater than zero (got \(value))") }
    }

    public mutating func requireMaxLength(_ value: String?, _ limit: Int, _ field: String) {
        if let value, value.count > limit {
            fail(field, .maxLength(limit), "must be at most \(limit) characters (got \(value.count))")
        }
    }

    public mutating func merge(_ other: Validator) { errors += other.errors }

    public func check() throws(ValidationErrors) {
        if !errors.isEmpty { throw ValidationErrors(errors) }
    }
}
