import Foundation
import KopruCore

/// Reads a request body by the JSON types the spec and the seeds give, unlike the connectors'
/// lenient `JSON` accessors (which turn numbers into strings and numeric strings into numbers):
/// a total sent as `"12.5"` or a code sent as `801452` where text is due is a wrong type here,
/// reported with the field's path so each sandbox can answer in its system's own words.
public enum WireReader {
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
