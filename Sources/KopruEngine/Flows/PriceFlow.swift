import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `sync.prices`: streams the source's prices page by page, applies each channel's price rule
/// (markup or fixed list, `.90`/`.99` endings, minimum) and queues, in `price.push` jobs of the
/// channel's batch size, only the prices that differ from what the channel last confirmed.
public struct PriceSyncJob: FlowJobHandler {
    public let kind = "sync.prices"
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) {
        self.environment = environment
    }

    static let entity = "price"

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        let flows = environment.catalog.flows(.prices, from: context.job.connection, request: request)
        guard let first = flows.first else { return .done }
        let source = try await environment.connectors.resolve(first.source, as: (any PriceSource).self)
        var effects: [StoreEffect] = []
        var pending: [String: [PricePushJob.Row]] = [:]
        var queued: [String: Int] = [:]
        var batches: [String: Int] = [:]
        for flow in flows {
            batches[flow.name] = max(1, try await environment.connectors.resolve(flow.target, as: (any PriceSink).self).priceBatchLimit) * 10
        }
        var read = 0
        var cursor: String?
        repeat {
            let page = try await source.prices(after: cursor, limit: 1000)
            read += page.records.count
            for flow in flows {
                let keys = page.records.map { flow.skuMap[$0.sku.rawValue] ?? $0.sku.rawValue }
                let confirmed = try await environment.store.snapshots(connection: flow.target, entity: Self.entity, keys: keys)
                for (price, sku) in zip(page.records, keys) {
                    let amount = flow.priceRule.apply(price.amount)
                    let row = PricePushJob.Row(sku: sku, amount: amount.amount, currency: amount.currency.code)
                    if request.isFull || confirmed[sku] != row.snapshot { pending[flow.name, default: []].append(row) }
                }
                let batch = batches[flow.name]!
                while let rows = pending[flow.name], rows.count >= batch || (page.next == nil && !rows.isEmpty) {
                    let chunk = Array(rows.prefix(batch))
                    pending[flow.name] = Array(rows.dropFirst(chunk.count))
                    queued[flow.name, default: 0] += chunk.count
                    effects.append(.enqueue(try PricePushJob.job(flow: flow, rows: chunk, sync: context.job.id, index: effects.count)))
                }
            }
            cursor = page.next
        } while cursor != nil
        for flow in flows {
            effects.append(
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "sync_run", connection: flow.target, subject: "flow:\(flow.name)",
                        message: "prices read: \(read) SKUs, \(queued[flow.name] ?? 0) changed",
                        details: ["flow": flow.name, "skus": "\(read)", "changed": "\(queued[flow.name] ?? 0)"])))
        }
        return .done(effects)
    }
}

/// `price.push`: sends prices to the channel; what it saved is recorded as confirmed, what it
/// refused is reported (a warning naming the SKUs) without stopping the rest.
public struct PricePushJob: FlowJobHandler {
    public struct Row: Codable, Hashable, Sendable {
        public var sku: String
        public var amount: Decimal
        public var currency: String

        /// The snapshot value: the price as sent, with its currency.
        var snapshot: String { "\(amount.plainString) \(currency)" }
    }

    public struct Payload: Codable, Sendable {
        public var flow: String
        public var rows: [Row]
    }

    public static let kind = "price.push"
    public var kind: String { Self.kind }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    static func job(flow: FlowDefinition, rows: [Row], sync: JobID, index: Int) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(flow.name):\(sync):\(index)", json: Payload(flow: flow.name, rows: rows),
            priority: StockPriority.push, connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let sink = try await environment.connectors.resolve(flow.target, as: (any PriceSink).self)
        var confirmed: [Row] = []
        var refused: [(String, String)] = []
        let limit = max(1, sink.priceBatchLimit)
        for start in stride(from: 0, to: payload.rows.count, by: limit) {
            let rows = Array(payload.rows[start..<min(start + limit, payload.rows.count)])
            let prices = try rows.map { Price(sku: SKU($0.sku), amount: Money($0.amount, try Currency($0.currency))) }
            let result = try await sink.pushPrices(prices)
            let saved = Set(result.confirmed.map(\.rawValue))
            confirmed += rows.filter { saved.contains($0.sku) }
            refused += result.failed.map { ($0.key.rawValue, $0.value.message) }
        }
        var effects: [StoreEffect] = []
        if !confirmed.isEmpty {
            effects.append(
                .putSnapshots(
                    confirmed.map {
                        SnapshotEntry(connection: flow.target, entity: PriceSyncJob.entity, key: $0.sku, value: $0.snapshot, confirmedAt: context.now)
                    }))
        }
        if let warning = refusedWarning(flow: flow, kind: "price", what: "price(s)", refused: refused, now: context.now) {
            effects.append(warning)
        }
        return .done(effects)
    }
}

extension FlowKind {
    /// ERP prices → channel prices through the channel's price rule, only what changed.
    public static let prices = FlowKind(
        id: "prices", summary: "ERP prices → channel prices through the channel's price rule",
        source: [[.priceSource]], target: [[.priceSink]], defaultSchedule: "0 * * * *", lane: .bulk,
        options: [
            FlowOption("priceRule", default: "identity", help: "e.g. markup=15%,ending=.90,min=99.90 or fixed=349.90") {
                value, flow throws(FlowOption.Problem) in
                let text = try value.text()
                do throws(ValidationError) { flow.priceRule = try PriceRule(parsing: text) } catch {
                    throw FlowOption.Problem("\(error.message) (e.g. markup=15%,ending=.90,min=99.90 or fixed=349.90)")
                }
            },
            .skuMap,
        ]
    ) { environment, retryPolicy in [PriceSyncJob(environment), PricePushJob(environment, retryPolicy: retryPolicy)] }
}
