import Foundation

/// A JSON document whose numbers stay exact `Decimal`s, so money read from one API and written
/// to another never passes through a `Double`. Connectors and sandboxes build and read wire
/// bodies with it; keys of an object are kept sorted on output.
public enum JSON: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case number(Decimal)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Decimal.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public static func parse(_ data: Data) throws -> JSON { try read(data) }

    /// Compact, keys sorted, slashes as they are.
    public var data: Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return Data(bytes)
    }

    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public subscript(index: Int) -> JSON? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    /// RFC 6901 pointer (`/items/0/sku`); `""` is the whole document.
    public func at(pointer: String) -> JSON? {
        guard !pointer.isEmpty else { return self }
        var current: JSON? = self
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if case .array = current, let index = Int(token) { current = current?[index] } else { current = current?[token] }
        }
        return current
    }

    public var string: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value.plainString
        case .bool(let value): value ? "true" : "false"
        default: nil
        }
    }

    /// A number, or a string holding one (many APIs quote their amounts).
    public var decimal: Decimal? {
        switch self {
        case .number(let value): value
        case .string(let value): Decimal(exactly: value)
        default: nil
        }
    }

    /// A whole number, from a number or a numeric string; nil for fractions.
    public var int: Int? {
        guard let value = decimal else { return nil }
        if let whole = value.wholeInt64 { return Int(whole) }
        guard value == value.rounded(scale: 0, .halfEven) else { return nil }
        return Int(value.plainString)
    }

    public var bool: Bool? {
        switch self {
        case .bool(let value): value
        case .number(let value): value != 0
        case .string(let value): ["1", "true"].contains(value) ? true : ["0", "false"].contains(value) ? false : nil
        default: nil
        }
    }

    public var array: [JSON]? { if case .array(let value) = self { value } else { nil } }
    public var object: [String: JSON]? { if case .object(let value) = self { value } else { nil } }
    public var isNull: Bool { self == .null }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Decimal(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSON {
    public init(_ value: Int) { self = .number(Decimal(value)) }
    public init(_ value: Decimal) { self = .number(value) }
    public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
}
