import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `stock.sellable`: a channel accepted an order, so every channel's sellable stock of that SKU
/// drops now, not at the next ERP read. It starts from the on-hand level each channel's last
/// push was computed from and the units now held by all accepted orders, and sends the new
/// number only where it changed. The channel that took the order is included: two channels
/// selling the last unit at once must both end at zero, and the first order's job cannot know
/// of the second. One job per SKU: a newer order for the same SKU supersedes a job still
/// waiting (it would compute the same thing, later).
public struct SellableStockJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        /// The source (ERP-side) SKU.
        public var sku: String
        /// The channel that took the order.
        public var channel: ConnectionID
    }

    public static let kind = "stock.sellable"
    public var kind: String { Self.kind }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    static func job(sku: String, channel: ConnectionID, order: String) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(order):\(sku)", json: Payload(sku: sku, channel: channel), priority: StockPriority.sellable,
            coalescingKey: "sellable:\(sku)")
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        var effects: [StoreEffect] = []
        for flow in environment.catalog.stockFlows {
            let sku = flow.skuMap[payload.sku] ?? payload.sku
            let stored = try await environment.store.snapshots(connection: flow.target, entity: StockSyncJob.entity, keys: [sku])
            // Never pushed by a sync yet: nothing to start from; the first sync sends it.
            guard let last = StockSnapshot(stored[sku]), let onHand = last.onHand, let readAt = last.readAt else { continue }
            let reserved = try await environment.store.reservedQuantities(skus: [payload.sku], asOf: readAt)[payload.sku] ?? 0
            let sellable = SellableStock(onHand: onHand, reserved: reserved).quantity(buffer: flow.buffer)
            guard sellable != last.sent else { continue }
            let sink = try await environment.connectors.resolve(flow.target, as: (any StockSink).self)
            let row = StockRow(sku: sku, quantity: sellable, onHand: onHand, readAt: readAt)
            let result = try await sink.pushStock([row.level])
            if let failure = result.failed.values.first { throw failure }
            effects.append(
                .putSnapshots([
                    SnapshotEntry(connection: flow.target, entity: StockSyncJob.entity, key: sku, value: row.snapshot.value, confirmedAt: context.now)
                ]))
            effects.append(
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "stock", connection: flow.target, subject: "flow:\(flow.name)",
                        message: "\(sku): sellable \(last.sent) → \(sellable) after an order on \(payload.channel)",
                        details: ["flow": flow.name, "sku": sku, "sent": "\(sellable)", "reserved": "\(reserved)"])))
        }
        return .done(effects)
    }
}

extension FlowCatalog {
    /// What an order accepted on `channel` holds, in source SKUs, and the jobs that lower the
    /// other channels' stock for those SKUs now. Nothing when no stock flow is configured.
    func reservation(for order: Order, channel: ConnectionID) throws -> [StoreEffect] {
        guard !stockFlows.isEmpty else { return [] }
        let inverse = Dictionary(
            stockFlows(to: channel).flatMap { $0.skuMap.map { ($0.value, $0.key) } }, uniquingKeysWith: { first, _ in first })
        var held: [String: Int] = [:]
        for line in order.lines where line.quantity > 0 {
            held[inverse[line.sku.rawValue] ?? line.sku.rawValue, default: 0] += line.quantity
        }
        guard !held.isEmpty else { return [] }
        let key = order.id.rawValue
        var effects: [StoreEffect] = [
            .reserveStock(held.sorted { $0.key < $1.key }.map { StockReservation(order: key, sku: $0.key, quantity: $0.value) })
        ]
        for sku in held.keys.sorted() {
            effects.append(.enqueue(try SellableStockJob.job(sku: sku, channel: channel, order: key)))
        }
        return effects
    }
}
