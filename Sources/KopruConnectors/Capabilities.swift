import Foundation
import KopruCore

/// What a connector can do, one protocol per capability, so a flow asks for exactly what it needs
/// (`any OrderFeed`, `any StockSink`) and a connector implements only what its platform offers.
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

/// A position in a source's change feed: the keyset `(updatedAt, id)`. Records sharing a second
/// are told apart by id, so a page boundary inside one second neither skips nor repeats.
public struct FeedPosition: Hashable, Sendable, Codable, Comparable {
    public var updatedAt: Date
    public var id: Int64

    public init(updatedAt: Date, id: Int64) {
        self.updatedAt = updatedAt
        self.id = id
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.updatedAt == rhs.updatedAt ? lhs.id < rhs.id : lhs.updatedAt < rhs.updatedAt
    }
}

/// One record from a change feed: the record, its id on the source, the version the source gave
/// it (its `updated_at` as sent) and its feed position.
public struct FeedItem<Record: Sendable>: Sendable {
    public var record: Record
    public var externalID: String
    public var version: String
    public var position: FeedPosition

    public init(record: Record, externalID: String, version: String, position: FeedPosition) {
        self.record = record
        self.externalID = externalID
        self.version = version
        self.position = position
    }
}

/// Orders in change order: those after `position`, oldest first, at most `limit`.
public protocol OrderFeed: Sendable {
    func orders(after position: FeedPosition, limit: Int) async throws -> [FeedItem<Order>]
}

public protocol OrderSink: Sendable {
    /// Creates the order on the target; returns the target's id for it (bound by the engine).
    func createOrder(_ order: Order, idempotencyKey: String) async throws -> String
    /// After an ambiguous outcome: does the target already hold this order? Its id if so.
    func findOrder(_ order: Order, idempotencyKey: String) async throws -> String?
    /// True where sending an order again with the same idempotency key cannot double it (the
    /// target answers a repeat with the first record, or "already there"): such a sink is not
    /// asked before a resend, there being nothing to ask, and its last attempt may send.
    var resendIsSafe: Bool { get }
    /// Whether `findOrder` can tell "absent" from "cannot say" (a lookup is configured): a
    /// sink without one answers nil for both.
    var canBeAsked: Bool { get }
}

extension OrderSink {
    public var canBeAsked: Bool { true }
}

/// Cancels an order the target already holds (one cancelled in the channel after export).
public protocol OrderCancelSink: Sendable {
    /// False when this connection is not set up to cancel (the target has no cancel call, or
    /// the merchant cancels there by hand): the hub then asks an operator instead.
    var cancelsOrders: Bool { get }
    /// Cancels the target's document `reference` for `order`. A target that says the document
    /// is already cancelled answers `alreadyDone`.
    func cancelOrder(_ order: Order, reference: String, idempotencyKey: String) async throws
}

/// Notes on an order where the merchant sees them (Magento's status history).
public protocol OrderNotes: Sendable {
    func addOrderNote(externalID: String, note: String) async throws
    /// Whether a note containing `marker` is already there (to reconcile before writing again).
    func hasOrderNote(externalID: String, containing marker: String) async throws -> Bool
}

public protocol StockSource: Sendable {
    /// One page of levels; pass the returned `next` to continue.
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

/// Writes stock and answers at once. A request that fails for one bad row fails as a whole
/// (a permanent error); the engine then splits the batch to find the row.
public protocol StockSink: Sendable {
    /// The most items one request may carry.
    var stockBatchLimit: Int { get }
    func pushStock(_ levels: [StockLevel]) async throws -> BatchResult<SKU>
}

/// Reads what a channel holds now, for the drift report: the quantity each SKU has on the
/// channel, SKUs it does not know left out. Asked for a page of SKUs at a time.
public protocol StockReader: Sendable {
    /// The most SKUs one call should be asked for.
    var stockReadLimit: Int { get }
    func stockQuantities(skus: [SKU]) async throws -> [SKU: Int]
}

/// The state of one operation of an asynchronous bulk request.
public enum BulkOperationState: Hashable, Sendable {
    case complete
    case open
    /// Failed, worth sending again as it is.
    case retriable(String)
    /// Failed because of its data.
    case failed(String)
}

/// Writes stock asynchronously: a submission returns an id, and each operation (one chunk of
/// rows) completes or fails later.
public protocol BulkStockSink: Sendable {
    /// False when this connection is set to write stock synchronously (a `StockSink`) instead.
    var usesBulkStock: Bool { get }
    /// Rows per operation.
    var bulkOperationSize: Int { get }
    func submitStock(_ operations: [[StockLevel]]) async throws -> String
    /// One state per submitted operation, in submission order.
    func bulkStatus(_ id: String) async throws -> [BulkOperationState]
}

public protocol PriceSource: Sendable {
    /// One page of prices; pass the returned `next` to continue.
    func prices(after cursor: String?, limit: Int) async throws -> Page<Price>
}

/// Writes prices; rows it refuses come back in `failed`, the rest were saved.
public protocol PriceSink: Sendable {
    var priceBatchLimit: Int { get }
    func pushPrices(_ prices: [Price]) async throws -> BatchResult<SKU>
}

/// A customer as a source shows it, with the address to create them with.
public struct CustomerProfile: Hashable, Sendable, Codable {
    public var customer: Customer
    public var address: Address?

    public init(customer: Customer, address: Address?) {
        self.customer = customer
        self.address = address
    }
}

public protocol CustomerFeed: Sendable {
    func customers(after position: FeedPosition, limit: Int) async throws -> [FeedItem<CustomerProfile>]
}

public protocol CustomerSink: Sendable {
    /// Creates the customer under our `reference`; returns the target's id for them.
    func createCustomer(_ profile: CustomerProfile, reference: String, idempotencyKey: String) async throws -> String
    func findCustomer(reference: String) async throws -> String?
}

/// "This order left the warehouse": what an ERP reports for the channel.
public struct ShippedNotice: Hashable, Sendable, Codable {
    /// The order's reference on the ERP (the channel's order number we sent).
    public var orderReference: String
    public var carrier: String
    public var trackingNumber: String
    public var shippedAt: Date

    public init(orderReference: String, carrier: String, trackingNumber: String, shippedAt: Date) {
        self.orderReference = orderReference
        self.carrier = carrier
        self.trackingNumber = trackingNumber
        self.shippedAt = shippedAt
    }
}

public protocol ShipmentFeed: Sendable {
    /// Shipments the source reports since the given time, oldest first.
    func shippedOrders(since: Date) async throws -> [ShippedNotice]
}

/// Records a shipment with its tracking number on a channel order.
public protocol OrderShipmentSink: Sendable {
    func shipOrder(externalID: String, notice: ShippedNotice) async throws -> String
    func findShipment(externalID: String, trackingNumber: String) async throws -> String?
}

public protocol ShipmentSink: Sendable {
    /// Creates the shipment; returns the carrier's tracking number or reference.
    func createShipment(_ shipment: Shipment) async throws -> String
}

/// A carrier's label for an accepted shipment order: the barcode printed on the parcels, and the
/// carrier's id for the goods-acceptance record behind it.
public struct CarrierLabel: Hashable, Sendable, Codable {
    public var barcode: String
    public var acceptanceID: String?

    public init(barcode: String, acceptanceID: String? = nil) {
        self.barcode = barcode
        self.acceptanceID = acceptanceID
    }
}

/// Makes the label for a shipment order the carrier already holds. Not idempotent where the
/// carrier makes a new record per call, so the engine asks `findLabel` before any retry.
public protocol CarrierLabels: Sendable {
    func createLabel(reference: String) async throws -> CarrierLabel
    func findLabel(reference: String) async throws -> CarrierLabel?
}

/// Where a shipment is, as the carrier reports it.
public struct TrackingState: Hashable, Sendable, Codable {
    /// Nil until the carrier has taken the goods in.
    public var trackingNumber: String?
    /// The carrier's own words.
    public var status: String?

    public init(trackingNumber: String?, status: String? = nil) {
        self.trackingNumber = trackingNumber
        self.status = status
    }
}

public protocol CarrierTracking: Sendable {
    /// The name a channel shows next to the tracking number ("Horoz Lojistik").
    var carrierTitle: String { get }
    /// Nil when the carrier does not know the reference.
    func tracking(reference: String) async throws -> TrackingState?
}

/// A connector that can say more about its connection than its settings do: asked when the
/// connection is saved (a refusal is a `ConnectorError` naming the setting) and shown in the
/// connection's health while a warning stands (e.g. an ERP whose lost answers cannot be checked).
public protocol ConnectionChecks: Sendable {
    /// Probes the target; throws a permanent error naming the setting that cannot work.
    func checkBeforeSaving() async throws
    /// What the operator must know about this connection now; empty when nothing.
    var warnings: [String] { get }
}

extension OrderSink {
    public var resendIsSafe: Bool { false }
}
