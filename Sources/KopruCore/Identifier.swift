/// A string identifier tagged with what it identifies, so an order id can never be passed
/// where a SKU or a connection id is expected.
public struct Identifier<Tag>: RawRepresentable, Hashable, Sendable, Codable,
    ExpressibleByStringLiteral, CustomStringConvertible, Comparable
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

public enum ConnectionTag {}
public typealias ConnectionID = Identifier<ConnectionTag>
public typealias OrderID = Identifier<Order>
public typealias CustomerID = Identifier<Customer>
public typealias ProductID = Identifier<Product>
public typealias SKU = Identifier<Variant>
