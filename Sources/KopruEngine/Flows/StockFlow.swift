import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `sync.stock`: reads every level from the source (page by page), keeps only those that differ
/// from what the target last confirmed, and enqueues them in `stock.push` jobs of the size the
/// target takes. Nothing is recorded as pushed until the target confirms it.
public struct StockSyncJob: JobHandler {
    public let kind = "sync.stock"
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) {
        self.environment = environment
    }

    static let entity = "stock"

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        var effects: [StoreEffect] = []
        for flow in environment.catalog.flows(.stock, from: context.job.connection, request: request) {
            let source = try await environment.connectors.resolve(flow.source, as: (any StockSource).self)
            var levels: [SKU: Int] = [:]
            var cursor: String?
            repeat {
                let page = try await source.stockLevels(after: cursor, limit: 1000)
                for level in page.records { levels[level.sku] = level.quantity }
                cursor = page.next
            } while cursor != nil
            let keys = levels.keys.map(\.rawValue).sorted()
            var changed: [StockRow] = []
            for start in stride(from: 0, to: keys.count, by: 5_000) {
                let chunk = Array(keys[start..<min(start + 5_000, keys.count)])
                let confirmed = try await environment.store.snapshots(connection: flow.target, entity: Self.entity, keys: chunk)
                for sku in chunk where request.isFull || confirmed[sku] != "\(levels[SKU(sku)]!)" {
                    changed.append(StockRow(sku: sku, quantity: levels[SKU(sku)]!))
                }
            }
            let batch = try await batchSize(flow)
            for (index, start) in stride(from: 0, to: changed.count, by: batch).enumerated() {
                let rows = Array(changed[start..<min(start + batch, changed.count)])
                effects.append(
                    .enqueue(
                        try NewJob(
                            kind: StockPushJob.kind, idempotencyKey: "\(flow.name):\(context.job.id):\(index)",
                            json: StockPushJob.Payload(flow: flow.name, rows: rows), connection: flow.target)))
            }
            effects.append(
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "sync_run", connection: flow.target, subject: "flow:\(flow.name)",
                        message: "stock read: \(levels.count) SKUs, \(changed.count) changed",
                        details: ["flow": flow.name, "skus": "\(levels.count)", "changed": "\(changed.count)"])))
        }
        return .done(effects)
    }

    /// Rows per push job: ten bulk operations, or one synchronous request.
    func batchSize(_ flow: FlowDefinition) async throws -> Int {
        let target = try await environment.connectors.resolve(flow.target, as: (any Sendable).self)
        if let bulk = target as? any BulkStockSink, bulk.usesBulkStock { return bulk.bulkOperationSize * 10 }
        if let sink = target as? any StockSink { return sink.stockBatchLimit * 10 }
        throw ConnectorError.permanent("connection \(flow.target) cannot take stock")
    }
}

public struct StockRow: Codable, Hashable, Sendable {
    public var sku: String
    public var quantity: Int

    var level: StockLevel { StockLevel(sku: SKU(sku), quantity: quantity, observedAt: Date()) }
}

/// `stock.push`: sends rows to the target. A bulk target gets one asynchronous request and a
/// `stock.bulk-status` follow-up; a synchronous one gets requests of its batch size, and a
/// request refused for its data is split in halves until the bad rows are found, so one bad
/// SKU never stops the rest. Refused SKUs are reported once per push as a warning.
public struct StockPushJob: JobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var rows: [StockRow]
        /// Rows per bulk operation, when a retry splits operations smaller than the target's size.
        public var operationSize: Int?
    }

    public static let kind = "stock.push"
    public var kind: String { Self.kind }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let target = try await environment.connectors.resolve(flow.target, as: (any Sendable).self)
        if let bulk = target as? any BulkStockSink, bulk.usesBulkStock {
            let size = max(1, payload.operationSize ?? bulk.bulkOperationSize)
            let operations = stride(from: 0, to: payload.rows.count, by: size).map {
                Array(payload.rows[$0..<min($0 + size, payload.rows.count)])
            }
            let id = try await bulk.submitStock(operations.map { $0.map(\.level) })
            return .done([
                .enqueue(try BulkStatusJob.job(flow: flow, bulkID: id, operations: operations, poll: 1, now: context.now))
            ])
        }
        guard let sink = target as? any StockSink else { throw ConnectorError.permanent("connection \(flow.target) cannot take stock") }
        var confirmed: [StockRow] = []
        var refused: [(String, String)] = []
        let limit = max(1, sink.stockBatchLimit)
        for start in stride(from: 0, to: payload.rows.count, by: limit) {
            try await push(Array(payload.rows[start..<min(start + limit, payload.rows.count)]), sink, &confirmed, &refused)
        }
        return .done(Self.outcome(flow: flow, confirmed: confirmed, refused: refused, now: context.now))
    }

    private func push(
        _ rows: [StockRow], _ sink: any StockSink, _ confirmed: inout [StockRow], _ refused: inout [(String, String)]
    ) async throws {
        do {
            let result = try await sink.pushStock(rows.map(\.level))
            let ok = Set(result.confirmed.map(\.rawValue))
            confirmed += rows.filter { ok.contains($0.sku) }
            refused += result.failed.map { ($0.key.rawValue, $0.value.message) }
        } catch let error as ConnectorError where error.disposition == .permanent {
            guard rows.count > 1 else {
                refused.append((rows[0].sku, error.message))
                return
            }
            let half = rows.count / 2
            try await push(Array(rows[..<half]), sink, &confirmed, &refused)
            try await push(Array(rows[half...]), sink, &confirmed, &refused)
        }
    }

    static func outcome(flow: FlowDefinition, confirmed: [StockRow], refused: [(String, String)], now: Date) -> [StoreEffect] {
        var effects: [StoreEffect] = []
        if !confirmed.isEmpty {
            effects.append(
                .putSnapshots(
                    confirmed.map {
                        SnapshotEntry(connection: flow.target, entity: StockSyncJob.entity, key: $0.sku, value: "\($0.quantity)", confirmedAt: now)
                    }))
        }
        if !refused.isEmpty {
            let sample = refused.prefix(20).map { "\($0.0): \($0.1)" }.joined(separator: "; ")
            effects.append(
                .log(
                    EventRecord(
                        at: now, level: .warning, kind: "stock", connection: flow.target, subject: "flow:\(flow.name)",
                        message: "\(refused.count) SKU(s) refused by the target, the rest pushed: \(sample)",
                        details: ["flow": flow.name, "refused": refused.map(\.0).prefix(200).joined(separator: ",")])))
        }
        return effects
    }
}

/// `stock.bulk-status`: follows one bulk request to its per-operation results. Complete rows are
/// recorded as confirmed; retriable operations are sent again; failed ones are split and sent
/// again until single bad rows remain, which are reported. Operations still open after the
/// flow's last check are an alarm: the store's `async.operations.all` consumer is not running.
public struct BulkStatusJob: JobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var bulkID: String
        public var operations: [[StockRow]]
        /// Indexes still to settle.
        public var pending: [Int]
        public var poll: Int
    }

    public static let kind = "stock.bulk-status"
    public var kind: String { Self.kind }
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) {
        self.environment = environment
    }

    static func job(
        flow: FlowDefinition, bulkID: String, operations: [[StockRow]], pending: [Int]? = nil, poll: Int, now: Date
    ) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(bulkID):\(poll)",
            json: Payload(flow: flow.name, bulkID: bulkID, operations: operations, pending: pending ?? Array(operations.indices), poll: poll),
            runAt: poll == 1 ? now : now.addingTimeInterval(flow.bulkPollInterval.seconds), connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let sink = try await environment.connectors.resolve(flow.target, as: (any BulkStockSink).self)
        let states = try await sink.bulkStatus(payload.bulkID)
        var confirmed: [StockRow] = []
        var refused: [(String, String)] = []
        var open: [Int] = []
        var resend: [[StockRow]] = []
        for index in payload.pending {
            let rows = payload.operations[index]
            switch index < states.count ? states[index] : .open {
            case .complete: confirmed += rows
            case .open: open.append(index)
            case .retriable: resend.append(rows)
            case .failed(let message):
                if rows.count == 1 {
                    refused.append((rows[0].sku, message))
                } else {
                    resend += [Array(rows[..<(rows.count / 2)]), Array(rows[(rows.count / 2)...])]
                }
            }
        }
        var effects = StockPushJob.outcome(flow: flow, confirmed: confirmed, refused: refused, now: context.now)
        for (index, rows) in resend.enumerated() {
            effects.append(
                .enqueue(
                    try NewJob(
                        kind: StockPushJob.kind, idempotencyKey: "\(payload.bulkID):resend:\(index)",
                        json: StockPushJob.Payload(flow: flow.name, rows: rows, operationSize: rows.count), connection: flow.target)))
        }
        if !open.isEmpty {
            guard payload.poll < flow.bulkMaxPolls else {
                throw ConnectorError.permanent(
                    "bulk \(payload.bulkID): \(open.count) operation(s) still open after \(payload.poll) checks; "
                        + "is the store's async.operations.all consumer running?")
            }
            effects.append(
                .enqueue(
                    try Self.job(
                        flow: flow, bulkID: payload.bulkID, operations: payload.operations, pending: open,
                        poll: payload.poll + 1, now: context.now)))
        }
        return .done(effects)
    }
}
