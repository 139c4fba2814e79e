import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `sync.stock`: streams the source's levels page by page and, for every stock flow it feeds,
/// turns each level into the channel's sellable stock (on hand − held by accepted orders not
/// yet in the ERP − the channel's buffer, never below zero). What differs from the value the
/// channel last confirmed is queued in `stock.push` jobs of the size the channel takes, as the
/// read goes; only one page and the changed rows not yet queued are ever in memory, whatever the
/// catalogue's size. Nothing counts as sent until the target confirms it.
///
/// A full run sends everything, except what this same run already got confirmed: a run
/// resumed after a crash does not send a confirmed row twice.
public struct StockSyncJob: FlowJobHandler {
    public let kind = "sync.stock"
    let environment: FlowEnvironment
    let pageSize: Int

    public init(_ environment: FlowEnvironment, pageSize: Int = 1000) {
        self.environment = environment
        self.pageSize = pageSize
    }

    static let entity = "stock"

    /// One stock flow's state during a run.
    struct Lane {
        var flow: FlowDefinition
        var run: String
        var batch: Int
        var pending: [StockRow] = []
        var queued = 0
        var quiet: [SnapshotEntry] = []
        /// Counts not yet written to the run, and when they last were: one write per quarter
        /// second, not one per page (each is a commit).
        var unreported = 0
        var reportedAt = Date.distantPast
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        let flows = environment.catalog.flows(.stock, from: context.job.connection, request: request)
        guard let first = flows.first else { return .done }
        let source = try await environment.connectors.resolve(first.source, as: (any StockSource).self)
        let runStart = context.job.createdAt
        var lanes: [Lane] = []
        for flow in flows {
            lanes.append(Lane(flow: flow, run: "\(flow.name)#\(context.job.id)", batch: try await batchSize(flow)))
        }
        var read = 0
        // The next page is on its way while this one is compared.
        let pageSize = self.pageSize
        func fetch(_ cursor: String?) -> Task<(Date, Page<StockLevel>), any Error> {
            Task {
                let readAt = Date()
                return (readAt, try await source.stockLevels(after: cursor, limit: pageSize))
            }
        }
        var next: Task<(Date, Page<StockLevel>), any Error>? = fetch(nil)
        while let pending = next {
            let (readAt, page) = try await pending.value
            next = page.next.map(fetch)
            read += page.records.count
            let reserved = try await environment.store.reservedQuantities(asOf: readAt)
            for index in lanes.indices {
                try await compare(page.records, reserved: reserved, readAt: readAt, full: request.isFull, runStart: runStart, &lanes[index])
                try await flush(&lanes[index], context: context, read: read, all: false)
            }
        }
        var effects: [StoreEffect] = []
        for index in lanes.indices {
            try await flush(&lanes[index], context: context, read: read, all: true)
            let lane = lanes[index]
            effects.append(
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "sync_run", connection: lane.flow.target, subject: "flow:\(lane.flow.name)",
                        message: "stock read: \(read) SKUs, \(lane.queued) changed and queued (run \(lane.run))",
                        details: ["flow": lane.flow.name, "run": lane.run, "skus": "\(read)", "changed": "\(lane.queued)"])))
        }
        return .done(effects)
    }

    private func compare(
        _ levels: [StockLevel], reserved: [String: Int], readAt: Date, full: Bool, runStart: Date, _ lane: inout Lane
    ) async throws {
        let flow = lane.flow
        let keys = levels.map { flow.skuMap[$0.sku.rawValue] ?? $0.sku.rawValue }
        // Page by page, never the whole snapshot: memory stays the same at any catalogue size
        // (a page of a sorted catalogue is one range scan in the SQLite store).
        let confirmed = try await environment.store.snapshots(connection: flow.target, entity: Self.entity, keys: keys)
        for (level, sku) in zip(levels, keys) {
            let sellable = SellableStock(onHand: level.quantity, reserved: reserved[level.sku.rawValue] ?? 0).quantity(buffer: flow.buffer)
            let row = StockRow(sku: sku, quantity: sellable, onHand: level.quantity, readAt: readAt)
            let known = StockSnapshot(confirmed[sku])
            if full {
                if let known, known.sent == sellable, let at = known.readAt, at >= runStart { continue }
            } else if let known, known.sent == sellable {
                // The channel has the right number; only remember the level it came from.
                if known.onHand != level.quantity {
                    lane.quiet.append(
                        SnapshotEntry(connection: flow.target, entity: Self.entity, key: sku, value: row.snapshot.value, confirmedAt: readAt))
                }
                continue
            }
            lane.pending.append(row)
        }
    }

    /// Queues full chunks (all of them at the end), each under a name made of its content.
    private func flush(_ lane: inout Lane, context: JobContext, read: Int, all: Bool) async throws {
        var jobs: [NewJob] = []
        var sizes: [Int] = []
        while lane.pending.count >= lane.batch || (all && !lane.pending.isEmpty) {
            let rows = Array(lane.pending.prefix(lane.batch))
            lane.pending.removeFirst(rows.count)
            jobs.append(
                try NewJob(
                    kind: StockPushJob.kind, idempotencyKey: "\(lane.run):\(rows.count):\(rows.fingerprint)",
                    json: StockPushJob.Payload(flow: lane.flow.name, rows: rows, run: lane.run), priority: StockPriority.push,
                    connection: lane.flow.target))
            sizes.append(rows.count)
        }
        let inserted = jobs.isEmpty ? [] : try await environment.store.enqueue(jobs, now: Date())
        let queued = zip(inserted, sizes).reduce(0) { $0 + ($1.0.inserted ? $1.1 : 0) }
        lane.queued += queued
        lane.unreported += queued
        if !lane.quiet.isEmpty && (all || lane.quiet.count >= 5_000) {
            try await environment.store.putSnapshots(lane.quiet)
            lane.quiet = []
        }
        let now = Date()
        guard all || now.timeIntervalSince(lane.reportedAt) >= 0.25 else { return }
        try await environment.store.updateSyncRun(
            SyncRunUpdate(
                run: lane.run, flow: lane.flow.name, target: lane.flow.target, at: now, read: read, readDone: all, queued: lane.unreported))
        lane.unreported = 0
        lane.reportedAt = now
    }

    /// Rows per push job: ten bulk operations, or ten synchronous requests.
    func batchSize(_ flow: FlowDefinition) async throws -> Int {
        let target = try await environment.connectors.resolve(flow.target, as: (any Sendable).self)
        if let bulk = target as? any BulkStockSink, bulk.usesBulkStock { return bulk.bulkOperationSize * 10 }
        if let sink = target as? any StockSink { return sink.stockBatchLimit * 10 }
        throw ConnectorError.permanent("connection \(flow.target) cannot take stock")
    }
}

/// `stock.push`: sends rows to the target. Rows the target already confirmed (a duplicate chunk
/// after a crash, or a newer push) are dropped first. A bulk target gets one asynchronous
/// request and a `stock.bulk-status` follow-up; a synchronous one gets requests of its batch
/// size, and a request refused for its data is split in halves until the bad rows are found,
/// so one bad SKU never stops the rest. If the target stops answering part-way, what it
/// confirmed is recorded and only the rest is queued again. Refused SKUs are reported once per
/// push as a warning.
public struct StockPushJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var rows: [StockRow]
        /// The sync run whose counts this push adds to.
        public var run: String?
        /// Rows per bulk operation, when a retry splits operations smaller than the target's size.
        public var operationSize: Int?
        /// Per SKU, the quantity the channel was last confirmed to hold when the row was worked
        /// out: a row whose SKU has had another quantity confirmed since is dropped, not sent over
        /// it; one whose confirmed quantity is unchanged is sent even though that quantity equals
        /// the row's (the channel was found to hold something else). Set by the drift report's
        /// push, whose rows may wait behind newer ones.
        public var basis: [String: Int]?

        public init(flow: String, rows: [StockRow], run: String?, operationSize: Int? = nil, basis: [String: Int]? = nil) {
            self.flow = flow
            self.rows = rows
            self.run = run
            self.operationSize = operationSize
            self.basis = basis
        }

        enum CodingKeys: String, CodingKey { case flow, rows, run, operationSize, basis }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            flow = try container.decode(String.self, forKey: .flow)
            rows = try PackedStockRows.unpack(try container.decode(String.self, forKey: .rows))
            run = try container.decodeIfPresent(String.self, forKey: .run)
            operationSize = try container.decodeIfPresent(Int.self, forKey: .operationSize)
            basis = try container.decodeIfPresent([String: Int].self, forKey: .basis)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(flow, forKey: .flow)
            try container.encode(PackedStockRows.pack(rows), forKey: .rows)
            try container.encodeIfPresent(run, forKey: .run)
            try container.encodeIfPresent(operationSize, forKey: .operationSize)
            try container.encodeIfPresent(basis, forKey: .basis)
        }
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
        let confirmed = try await environment.store.snapshots(
            connection: flow.target, entity: StockSyncJob.entity, keys: payload.rows.map(\.sku))
        let rows = payload.rows.filter { row in
            let snapshot = StockSnapshot(confirmed[row.sku])
            if let basis = payload.basis { return snapshot?.sent == basis[row.sku] }
            return snapshot?.covers(row) != true
        }
        let progress = Progress(flow: flow, run: payload.run, now: context.now)
        var effects = progress.effects(confirmed: payload.rows.count - rows.count)
        guard !rows.isEmpty else { return .done(effects) }
        let target = try await environment.connectors.resolve(flow.target, as: (any Sendable).self)
        if let bulk = target as? any BulkStockSink, bulk.usesBulkStock {
            let size = max(1, payload.operationSize ?? bulk.bulkOperationSize)
            let operations = stride(from: 0, to: rows.count, by: size).map { Array(rows[$0..<min($0 + size, rows.count)]) }
            let id = try await bulk.submitStock(operations.map { $0.map(\.level) })
            effects.append(
                .enqueue(try BulkStatusJob.job(flow: flow, bulkID: id, operations: operations, run: payload.run, poll: 1, now: context.now)))
            return .done(effects)
        }
        guard let sink = target as? any StockSink else { throw ConnectorError.permanent("connection \(flow.target) cannot take stock") }
        var sent = Sent()
        let limit = max(1, sink.stockBatchLimit)
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(start + limit, rows.count)])
            do {
                try await push(chunk, sink, &sent)
            } catch {
                // Nothing settled yet: an ordinary retry of the whole job.
                guard !sent.confirmed.isEmpty || !sent.refused.isEmpty else { throw error }
                effects += Self.outcome(flow: flow, sent: sent, progress: progress, now: context.now)
                effects.append(
                    .enqueue(
                        try NewJob(
                            kind: Self.kind, idempotencyKey: "\(context.job.idempotencyKey):rest:\(start)",
                            json: Payload(flow: flow.name, rows: Array(rows[start...]), run: payload.run, basis: payload.basis),
                            priority: context.job.priority,
                            // From now, not from the job's start: Retry-After counts from the answer.
                            runAt: Date().addingTimeInterval(Self.delay(after: error)), connection: flow.target)))
                return .done(effects)
            }
            start += chunk.count
        }
        return .done(effects + Self.outcome(flow: flow, sent: sent, progress: progress, now: context.now))
    }

    /// The rows of one push that the target confirmed or refused so far.
    struct Sent {
        var confirmed: [StockRow] = []
        var refused: [(sku: String, reason: String)] = []
    }

    private func push(_ rows: [StockRow], _ sink: any StockSink, _ sent: inout Sent) async throws {
        let result: BatchResult<SKU>
        do {
            result = try await sink.pushStock(rows.map(\.level))
        } catch let error as ConnectorError where error.disposition == .permanent {
            guard rows.count > 1 else {
                sent.refused.append((rows[0].sku, error.message))
                return
            }
            let half = rows.count / 2
            try await push(Array(rows[..<half]), sink, &sent)
            try await push(Array(rows[half...]), sink, &sent)
            return
        }
        let ok = Set(result.confirmed.map(\.rawValue))
        sent.confirmed += rows.filter { ok.contains($0.sku) }
        sent.refused += result.failed.map { ($0.key.rawValue, $0.value.message) }
    }

    /// When to send the rest after the target stopped part-way.
    static func delay(after error: any Error) -> TimeInterval {
        guard let error = error as? ConnectorError else { return 1 }
        switch error.disposition {
        case .rateLimited(let after), .unavailable(let after), .retryable(after: .some(let after)):
            return Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        default: return 1
        }
    }

    public func deadLetterEffects(_ job: Job, reason: String, now: Date) -> [StoreEffect] {
        guard let payload = try? job.decodePayload(Payload.self), let flow = try? environment.catalog.flow(named: payload.flow) else {
            return []
        }
        return Progress(flow: flow, run: payload.run, now: now).effects(refused: payload.rows.count)
    }

    /// Adds to a sync run's counts, when the push belongs to one.
    struct Progress {
        var flow: FlowDefinition
        var run: String?
        var now: Date

        func effects(confirmed: Int = 0, refused: Int = 0) -> [StoreEffect] {
            guard let run, confirmed + refused > 0 else { return [] }
            return [
                .updateSyncRun(
                    SyncRunUpdate(run: run, flow: flow.name, target: flow.target, at: now, confirmed: confirmed, refused: refused))
            ]
        }
    }

    /// The snapshot for what was confirmed, the run's counts, and a warning naming what was refused.
    static func outcome(flow: FlowDefinition, sent: Sent, progress: Progress, now: Date) -> [StoreEffect] {
        var effects = progress.effects(confirmed: sent.confirmed.count, refused: sent.refused.count)
        if !sent.confirmed.isEmpty {
            effects.append(
                .putSnapshots(
                    sent.confirmed.map {
                        SnapshotEntry(connection: flow.target, entity: StockSyncJob.entity, key: $0.sku, value: $0.snapshot.value, confirmedAt: now)
                    }))
        }
        if let warning = refusedWarning(flow: flow, kind: "stock", what: "SKU(s)", refused: sent.refused.map { ($0.sku, $0.reason) }, now: now) {
            effects.append(warning)
        }
        return effects
    }
}

/// `stock.bulk-status`: follows one bulk request to its per-operation results. Complete rows are
/// recorded as confirmed; retriable operations are sent again; failed ones are split and sent
/// again until single bad rows remain, which are reported. Operations still open after the
/// flow's last check are an alarm: the store's `async.operations.all` consumer is not running.
public struct BulkStatusJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var bulkID: String
        public var operations: [[StockRow]]
        /// Indexes still to settle.
        public var pending: [Int]
        public var poll: Int
        public var run: String?

        init(flow: String, bulkID: String, operations: [[StockRow]], pending: [Int], poll: Int, run: String?) {
            self.flow = flow
            self.bulkID = bulkID
            self.operations = operations
            self.pending = pending
            self.poll = poll
            self.run = run
        }

        enum CodingKeys: String, CodingKey { case flow, bulkID, operations, pending, poll, run }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            flow = try container.decode(String.self, forKey: .flow)
            bulkID = try container.decode(String.self, forKey: .bulkID)
            operations = try container.decode([String].self, forKey: .operations).map(PackedStockRows.unpack)
            pending = try container.decode([Int].self, forKey: .pending)
            poll = try container.decode(Int.self, forKey: .poll)
            run = try container.decodeIfPresent(String.self, forKey: .run)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(flow, forKey: .flow)
            try container.encode(bulkID, forKey: .bulkID)
            try container.encode(operations.map(PackedStockRows.pack), forKey: .operations)
            try container.encode(pending, forKey: .pending)
            try container.encode(poll, forKey: .poll)
            try container.encodeIfPresent(run, forKey: .run)
        }
    }

    public static let kind = "stock.bulk-status"
    public var kind: String { Self.kind }
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) {
        self.environment = environment
    }

    static func job(
        flow: FlowDefinition, bulkID: String, operations: [[StockRow]], pending: [Int]? = nil, run: String?, poll: Int, now: Date
    ) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(bulkID):\(poll)",
            json: Payload(
                flow: flow.name, bulkID: bulkID, operations: operations, pending: pending ?? Array(operations.indices), poll: poll,
                run: run),
            priority: StockPriority.push, runAt: poll == 1 ? now : now.addingTimeInterval(flow.bulkPollInterval.seconds),
            connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let sink = try await environment.connectors.resolve(flow.target, as: (any BulkStockSink).self)
        let states = try await sink.bulkStatus(payload.bulkID)
        var confirmed: [StockRow] = []
        var refused: [(sku: String, reason: String)] = []
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
        let progress = StockPushJob.Progress(flow: flow, run: payload.run, now: context.now)
        var effects = StockPushJob.outcome(
            flow: flow, sent: StockPushJob.Sent(confirmed: confirmed, refused: refused), progress: progress, now: context.now)
        for (index, rows) in resend.enumerated() {
            effects.append(
                .enqueue(
                    try NewJob(
                        kind: StockPushJob.kind, idempotencyKey: "\(payload.bulkID):resend:\(index)",
                        json: StockPushJob.Payload(flow: flow.name, rows: rows, run: payload.run, operationSize: rows.count),
                        priority: StockPriority.push, connection: flow.target)))
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
                        flow: flow, bulkID: payload.bulkID, operations: payload.operations, pending: open, run: payload.run,
                        poll: payload.poll + 1, now: context.now)))
        }
        return .done(effects)
    }
}

/// One warning per push naming what the target refused and why (the first 20 reasons, up to 200
/// SKUs in `details["refused"]`); nil when nothing was refused.
func refusedWarning(flow: FlowDefinition, kind: String, what: String, refused: [(String, String)], now: Date) -> StoreEffect? {
    guard !refused.isEmpty else { return nil }
    let sample = refused.prefix(20).map { "\($0.0): \($0.1)" }.joined(separator: "; ")
    return .log(
        EventRecord(
            at: now, level: .warning, kind: kind, connection: flow.target, subject: "flow:\(flow.name)",
            message: "\(refused.count) \(what) refused by the target, the rest saved: \(sample)",
            details: ["flow": flow.name, "refused": refused.map(\.0).prefix(200).joined(separator: ",")]))
}

extension FlowKind {
    /// ERP stock → channel stock, only what changed (seed 000: hourly as the safety net).
    public static let stock = FlowKind(
        id: "stock", summary: "ERP stock → channel stock, only what changed",
        source: [[.stockSource]], target: [[.stockSink, .bulkStockSink]], defaultSchedule: "0 * * * *", lane: .bulk,
        options: [
            FlowOption("buffer", default: "0", help: "units held back from this channel (its safety buffer)") { value, flow throws(FlowOption.Problem) in
                flow.buffer = try value.integer(atLeast: 0)
            },
            .skuMap,
            FlowOption("bulkPollMilliseconds", default: "10000", help: "how long to wait between bulk status checks") {
                value, flow throws(FlowOption.Problem) in flow.bulkPollInterval = .milliseconds(try value.integer(atLeast: 1))
            },
            .stockReconcileSchedule,
        ],
        reconciliation: .init(defaultSchedule: "30 3 * * *", pushes: true) { flow, key, push in StockReconcileJob.job(flow: flow, key: key, push: push) }
    ) { environment, retryPolicy in
        [
            StockSyncJob(environment), StockPushJob(environment, retryPolicy: retryPolicy), BulkStatusJob(environment),
            SellableStockJob(environment, retryPolicy: retryPolicy), StockReconcileJob(environment),
        ]
    }
}
