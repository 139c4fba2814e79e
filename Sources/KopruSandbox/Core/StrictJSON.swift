import Foundation
import KopruCore

/// A request body read the way the real system reads it: by the types its spec gives. The
/// lenient accessors of `KopruCore.JSON` (`.decimal` takes `"576.73"`, `.string` takes `576.73`)
/// are right for a connector reading a careless API, and wrong for a sandbox, which must refuse
/// what the real system refuses: a total sent as a string passes them and fails in production.
///
///     let body = try StrictJSON.object(request.body)          // 400 if not a JSON object
///     let total = try body.number("total")                     // 422 "total must be a number, not a string"
///     for item in try body.array("items") { _ = try item.wholeNumber("qty") }  // "items[0].qty …"
///
/// Every failure is a `WireTypeError` naming the field by its path in the body, for the system
/// to render in its own error shape.
public struct StrictJSON: Sendable {
    public let value: JSON
    /// Where this value sits in the body (`items[2]`); "" for the body itself.
    public let path: String

    public init(_ value: JSON, path: String = "") {
        self.value = value
        self.path = path
    }

    /// The body as a JSON object, or a 400 (`field` "") when it is not JSON or not an object.
    public static func object(_ body: Data) throws(WireTypeError) -> StrictJSON {
        guard let value = try? JSON.parse(body) else { throw WireTypeError(status: 400, field: "", reason: "body is not valid JSON") }
        guard case .object = value else { throw WireTypeError(status: 400, field: "", reason: "body must be a JSON object") }
        return StrictJSON(value)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member, nil when absent or `null` (which every spec we simulate treats alike).
    public func member(_ key: String) -> JSON? {
        guard let member = value[key], member != .null else { return nil }
        return member
    }

    public func has(_ key: String) -> Bool { member(key) != nil }

    func typed<Value>(_ key: String, _ expected: String, _ read: (JSON) -> Value?) throws(WireTypeError) -> Value? {
        guard let member = member(key) else { return nil }
        guard let typed = read(member) else {
            throw WireTypeError(status: 422, field: name(key), reason: "must be \(expected), not \(Self.kind(of: member))")
        }
        return typed
    }

    func required<Value>(_ key: String, _ value: Value?, _ expected: String) throws(WireTypeError) -> Value {
        guard let value else { throw WireTypeError(status: 422, field: name(key), reason: "is required (\(expected))") }
        return value
    }

    // MARK: Optional members: nil when absent, an error when present with another type.

    public func optionalString(_ key: String) throws(WireTypeError) -> String? {
        try typed(key, "a string") { if case .string(let text) = $0 { text } else { nil } }
    }

    /// A JSON number; a numeric string is refused.
    public func optionalNumber(_ key: String) throws(WireTypeError) -> Decimal? {
        try typed(key, "a number") { if case .number(let number) = $0 { number } else { nil } }
    }

    /// A JSON number without a fraction (`2`, not `2.5`, not `"2"`).
    public func optionalWholeNumber(_ key: String) throws(WireTypeError) -> Int? {
        guard let number = try optionalNumber(key) else { return nil }
        guard number == number.rounded(scale: 0, .halfEven), let whole = Int(number.plainString) else {
            throw WireTypeError(status: 422, field: name(key), reason: "must be a whole number, not \(number.plainString)")
        }
        return whole
    }

    public func optionalBool(_ key: String) throws(WireTypeError) -> Bool? {
        try typed(key, "true or false") { if case .bool(let flag) = $0 { flag } else { nil } }
    }

    /// The elements of a JSON array, each named `key[index]`.
    public func optionalArray(_ key: String) throws(WireTypeError) -> [StrictJSON]? {
        let name = name(key)
        return try typed(key, "a list") { member in
            member.array.map { elements in elements.indices.map { index in StrictJSON(elements[index], path: "\(name)[\(index)]") } }
        }
    }

    public func optionalObject(_ key: String) throws(WireTypeError) -> StrictJSON? {
        let name = name(key)
        return try typed(key, "an object") { member in member.object.map { _ in StrictJSON(member, path: name) } }
    }

    // MARK: Required members: absent or null is a 422 too.

    public func string(_ key: String) throws(WireTypeError) -> String { try required(key, optionalString(key), "a string") }
    public func number(_ key: String) throws(WireTypeError) -> Decimal { try required(key, optionalNumber(key), "a number") }
    public func wholeNumber(_ key: String) throws(WireTypeError) -> Int { try required(key, optionalWholeNumber(key), "a whole number") }
    public func bool(_ key: String) throws(WireTypeError) -> Bool { try required(key, optionalBool(key), "true or false") }
    public func array(_ key: String) throws(WireTypeError) -> [StrictJSON] { try required(key, optionalArray(key), "a list") }
    public func object(_ key: String) throws(WireTypeError) -> StrictJSON { try required(key, optionalObject(key), "an object") }

    /// A refusal of this value's member `key` for a reason other than its type (a rule of the system).
    public func invalid(_ key: String, _ reason: String) -> WireTypeError { WireTypeError(status: 422, field: name(key), reason: reason) }

    static func kind(of value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// A body member of the wrong JSON type (or missing, or against a rule), named by its path.
public struct WireTypeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400 when the body itself is unreadable, 422 for one field.
    public let status: Int
    /// The member's path in the body (`items[0].qty`); "" for the body itself.
    public let field: String
    public let reason: String

    public init(status: Int = 422, field: String, reason: String) {
        self.status = status
        self.field = field
        self.reason = reason
    }

    /// "items[0].qty must be a number, not a string".
    public var message: String { field.isEmpty ? reason : "\(field) \(reason)" }
    public var description: String { message }
}
