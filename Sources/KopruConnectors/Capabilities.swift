import Foundation
import KopruCore

/// What a connector can do, one protocol per capability, so a flow asks for exactly what it needs
/// (`any OrderSource`, `any StockSink`) and a connector implements only what its platform offers.
/// Connectors translate and classify; they never touch the store, sleep or retry.

/// A page of records and where the next page starts (nil at the end).
public struct Page<Record: Sendable>: Sendable {
    public var records: [Record]
    public var next: String?

    public init(records: [Record], next: String?) {
        self.records = records
        self.next = next
    }
}

public protocol OrderSource: Sendable {
    /// Orders changed since the cursor (a keyset the connector encodes), oldest first.
    func changedOrders(after cursor: String?, limit: Int) async throws -> Page<Order>
    func order(externalID: String) async throws -> Order?
}

public protocol OrderSink: Sendable {
    /// Creates the order on the target; returns the target's id for it (bound by the engine).
    func createOrder(_ order: Order, idempotencyKey: String) async throws -> String
    /// After an ambiguous outcome: does the target already hold this order? Its id if so.
    func findOrder(_ order: Order, idempotencyKey: String) async throws -> String?
}

public protocol StockSource: Sendable {
    func stockLevels(after cursor: String?, limit: Int) async throws -> Page<StockLevel>
}

/// Per-item result of a bulk write: the items the target confirmed, and the ones it refused.
public struct BatchResult<Key: Hashable & Sendable>: Sendable {
    public var confirmed: [Key]
    public var failed: [Key: ConnectorError]

    public init(confirmed: [Key], failed: [Key: ConnectorError] = [:]) {
        self.confirmed = confirmed
        self.failed = failed
    }
}

public protocol StockSink: Sendable {
    /// The most items one request may carry.
    var stockBatchLimit: Int { get }
    func pushStock(_ levels: [StockLevel]) async throws -> BatchResult<SKU>
}

public protocol PriceSink: Sendable {
    var priceBatchLimit: Int { get }
    func pushPrices(_ prices: [Price]) async throws -> BatchResult<SKU>
}

public protocol ShipmentSink: Sendable {
    /// Creates the shipment; returns the carrier's tracking number or reference.
    func createShipment(_ shipment: Shipment) async throws -> String
}
