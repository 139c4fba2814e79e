import Foundation
import KopruCore

/// Reads a request body by the JSON types the spec and the seeds give, unlike the connectors'
/// lenient `JSON` accessors (which turn numbers into strings and numeric strings into numbers):
/// a total sent as `"12.5"` or a code sent as `801452` where text is due is a wrong type here,
/// reported with the field's path so each sandbox can answer in its system's own words.
public struct WireReader: Sendable {
    public enum Expected: String, Sendable {
        case string, integer, number, boolean, object, array
    }

    /// A field present with the wrong JSON type.
    public struct WrongType: Error, Sendable, CustomStringConvertible {
        public let field: String
        public let expected: Expected
        /// The value as sent, for the error message.
        public let found: String

        public var description: String { "\(field): expected \(expected.rawValue), got \(found)" }
    }

    public let value: JSON
    /// This value's path from the body's root (`items[0]`), empty at the root.
    public let path: String

    public init(_ value: JSON, path: String = "") {
        self.value = value
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func wrong(_ key: String, _ expected: Expected, _ found: JSON) -> WrongType {
        let text = String(decoding: found.data.prefix(60), as: UTF8.self)
        return WrongType(field: field(key), expected: expected, found: text)
    }

    /// Nil when absent or `null`; the callers decide what is required.
    func present(_ key: String) -> JSON? {
        guard let member = value[key], !member.isNull else { return nil }
        return member
    }

    public func string(_ key: String) throws(WrongType) -> String? {
        guard let member = present(key) else { return nil }
        guard case .string(let text) = member else { throw wrong(key, .string, member) }
        return text
    }

    public func integer(_ key: String) throws(WrongType) -> Int? {
        guard let member = present(key) else { return nil }
        guard case .number(let number) = member, number == number.rounded(scale: 0, .halfEven), let whole = Int(number.plainString)
        else { throw wrong(key, .integer, member) }
        return whole
    }

    public func number(_ key: String) throws(WrongType) -> Decimal? {
        guard let member = present(key) else { return nil }
        guard case .number(let number) = member else { throw wrong(key, .number, member) }
        return number
    }

    public func boolean(_ key: String) throws(WrongType) -> Bool? {
        guard let member = present(key) else { return nil }
        guard case .bool(let flag) = member else { throw wrong(key, .boolean, member) }
        return flag
    }

    public func object(_ key: String) throws(WrongType) -> WireReader? {
        guard let member = present(key) else { return nil }
        guard case .object = member else { throw wrong(key, .object, member) }
        return WireReader(member, path: field(key))
    }

    /// The elements, each with its own path (`items[2]`).
    public func array(_ key: String) throws(WrongType) -> [WireReader]? {
        guard let member = present(key) else { return nil }
        guard case .array(let elements) = member else { throw wrong(key, .array, member) }
        return elements.enumerated().map { WireReader($0.element, path: "\(field(key))[\($0.offset)]") }
    }

    /// Checks every listed field that is present has its type: a whole body in one call.
    public func check(_ fields: [(String, Expected)]) throws(WrongType) {
        for (key, expected) in fields {
            switch expected {
            case .string: _ = try string(key)
            case .integer: _ = try integer(key)
            case .number: _ = try number(key)
            case .boolean: _ = try boolean(key)
            case .object: _ = try object(key)
            case .array: _ = try array(key)
            }
        }
    }

    /// Checks every value whose path the schema lists, anywhere in the body. Paths are dotted,
    /// array elements written `[]` (`items[].qty`, `[]` for the elements of a top-level array);
    /// the error names the real position (`items[2].qty`). Absent and `null` values pass: which
    /// fields are required is each route's own rule.
    public static func check(_ body: JSON, schema: [String: Expected]) throws(WrongType) {
        try walk(body, path: "", pattern: "", schema: schema)
    }

    static func matches(_ value: JSON, _ expected: Expected) -> Bool {
        switch (expected, value) {
        case (.string, .string), (.number, .number), (.boolean, .bool), (.object, .object), (.array, .array): true
        case (.integer, .number(let number)): number == number.rounded(scale: 0, .halfEven)
        default: false
        }
    }

    private static func walk(_ value: JSON, path: String, pattern: String, schema: [String: Expected]) throws(WrongType) {
        switch value {
        case .object(let members):
            for key in members.keys.sorted() {
                let child = members[key]!
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                let childPattern = pattern.isEmpty ? key : "\(pattern).\(key)"
                try visit(child, path: childPath, pattern: childPattern, schema: schema)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                try visit(element, path: "\(path)[\(index)]", pattern: "\(pattern)[]", schema: schema)
            }
        default: break
        }
    }

    private static func visit(_ value: JSON, path: String, pattern: String, schema: [String: Expected]) throws(WrongType) {
        if let expected = schema[pattern], !value.isNull, !matches(value, expected) {
            throw WrongType(field: path, expected: expected, found: String(decoding: value.data.prefix(60), as: UTF8.self))
        }
        try walk(value, path: path, pattern: pattern, schema: schema)
    }
}
