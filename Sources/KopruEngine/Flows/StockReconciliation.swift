import CoreMetrics
import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `reconcile.stock`: the drift report. The hub sends a channel only what differs from what the
/// channel last confirmed, so a quantity changed on the channel behind its back (edited in the
/// admin, deducted by a shipment, a lost write the channel acknowledged) stays wrong until the
/// source changes again: the channel oversells or hides stock. Once a night (the flow's
/// `reconcileSchedule`) this job reads the source page by page, works out the sellable quantity
/// the hub would send (as `sync.stock` does: on hand − held by orders not yet in the ERP − the
/// buffer), reads what the channel holds for the same SKUs, and reports each difference:
/// - **drifted**: the hub confirmed this quantity and the channel now holds another;
/// - **not yet sent**: the hub has not confirmed it yet (the next sync sends it);
/// - **not on the channel**: the channel has no such product.
///
/// With `push` (the "push the difference" action: `kopru reconcile … --push`, or
/// `POST /api/reconciliation/{flow}` with `{"push": true}`) the drifted rows go out as
/// `stock.push` jobs under keys made of their content, counted in a sync run of their own. Each
/// carries the snapshot it was compared against, and a row whose SKU has had a newer value
/// confirmed by the time it is sent is dropped rather than sent over it. A push works from a
/// fresh comparison, never from a stored report a later change may have made stale.
public struct StockReconcileJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var push: Bool
    }

    public static let kind = "reconcile.stock"
    public var kind: String { Self.kind }
    let environment: FlowEnvironment
    let pageSize: Int

    public init(_ environment: FlowEnvironment, pageSize: Int = 1000) {
        self.environment = environment
        self.pageSize = pageSize
    }

    /// One pass over `flow`. Report-only passes asked for while one waits collapse into it, and
    /// so do pushes, but a push never gives way to a report.
    public static func job(flow: FlowDefinition, key: String = UUID().uuidString, push: Bool = false) -> NewJob {
        NewJob(
            kind: kind, idempotencyKey: "reconcile:\(flow.name):\(push ? "push:" : "")\(key)",
            payload: (try? JSONEncoder.kopru.encode(Payload(flow: flow.name, push: push))) ?? Data(), priority: StockPriority.sync,
            orderingKey: "reconcile:\(flow.name)", coalescingKey: "reconcile:\(flow.name)\(push ? ":push" : "")", connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        var report = Report(flow: flow.name, push: payload.push)
        let channel = try await environment.connectors.resolve(flow.target, as: (any Sendable).self)
        guard let reader = channel as? any StockReader else {
            report.unreadable = true
            return .done([.log(report.event(at: context.now, connection: flow.target, run: nil))])
        }
        let source = try await environment.connectors.resolve(flow.source, as: (any StockSource).self)
        let batch = try await StockSyncJob(environment).batchSize(flow)
        let run = payload.push ? Self.run(flow: flow, job: context.job.id) : nil
        var pending: [(row: StockRow, basis: Int)] = []
        var cursor: String?
        repeat {
            let readAt = Date()
            let page = try await source.stockLevels(after: cursor, limit: pageSize)
            cursor = page.next
            let keys = page.records.map { flow.skuMap[$0.sku.rawValue] ?? $0.sku.rawValue }
            let reserved = try await environment.store.reservedQuantities(asOf: readAt)
            let confirmed = try await environment.store.snapshots(connection: flow.target, entity: StockSyncJob.entity, keys: keys)
            var held: [SKU: Int] = [:]
            let limit = max(1, reader.stockReadLimit)
            for start in stride(from: 0, to: keys.count, by: limit) {
                let chunk = keys[start..<min(start + limit, keys.count)].map { SKU($0) }
                held.merge(try await reader.stockQuantities(skus: chunk)) { $1 }
            }
            for (level, sku) in zip(page.records, keys) {
                report.read += 1
                let expected = SellableStock(onHand: level.quantity, reserved: reserved[level.sku.rawValue] ?? 0).quantity(buffer: flow.buffer)
                guard let onChannel = held[SKU(sku)] else {
                    report.notOnChannel.add(sku)
                    continue
                }
                guard onChannel != expected else { continue }
                let difference = Difference(sku: sku, channel: onChannel, expected: expected)
                // Only drift is pushed: a value not yet confirmed is the sync's to send (it may
                // be queued already), and a second push beside it would race it.
                guard StockSnapshot(confirmed[sku])?.sent == expected else {
                    report.unsent.add(difference)
                    continue
                }
                report.drifted.add(difference)
                if payload.push {
                    pending.append((StockRow(sku: sku, quantity: expected, onHand: level.quantity, readAt: readAt), expected))
                }
            }
            let queued = try await queue(&pending, flow: flow, batch: batch, job: context.job, run: run, all: cursor == nil)
            report.pushed += queued
            if let run {
                try await environment.store.updateSyncRun(
                    SyncRunUpdate(run: run, flow: flow.name, target: flow.target, at: Date(), read: report.read, readDone: cursor == nil, queued: queued))
            }
        } while cursor != nil
        Gauge(label: "kopru_stock_drift_skus", dimensions: [("flow", flow.name)]).record(report.drifted.count)
        return .done([.log(report.event(at: context.now, connection: flow.target, run: run))])
    }

    /// The sync run a push's counts go to, which `kopru reconcile --push` follows.
    public static func run(flow: FlowDefinition, job: JobID) -> String { "\(flow.name)#reconcile-\(job)" }

    /// Queues full chunks of `rows` (all at the end) as `stock.push` jobs, each carrying the
    /// snapshot its rows were compared against; the rows queued.
    private func queue(
        _ rows: inout [(row: StockRow, basis: Int)], flow: FlowDefinition, batch: Int, job: Job, run: String?, all: Bool
    ) async throws -> Int {
        var jobs: [NewJob] = []
        var sizes: [Int] = []
        while rows.count >= batch || (all && !rows.isEmpty) {
            let chunk = Array(rows.prefix(batch))
            rows.removeFirst(chunk.count)
            let basis = Dictionary(chunk.map { ($0.row.sku, $0.basis) }) { first, _ in first }
            jobs.append(
                try NewJob(
                    kind: StockPushJob.kind, idempotencyKey: "\(job.idempotencyKey):\(chunk.count):\(chunk.map(\.row).fingerprint)",
                    json: StockPushJob.Payload(flow: flow.name, rows: chunk.map(\.row), run: run, basis: basis), priority: StockPriority.push,
                    connection: flow.target))
            sizes.append(chunk.count)
        }
        guard !jobs.isEmpty else { return 0 }
        let inserted = try await environment.store.enqueue(jobs, now: Date())
        return zip(inserted, sizes).reduce(0) { $0 + ($1.0.inserted ? $1.1 : 0) }
    }

    struct Difference {
        var sku: String
        var channel: Int
        var expected: Int
        var text: String { "\(sku)=\(channel)>\(expected)" }
    }

    /// A count and the first SKUs of one kind of finding: a catalogue may drift by 100 000 rows,
    /// the report keeps the first `sampleSize`.
    struct Findings<Item> {
        var count = 0
        var sample: [Item] = []
        static var sampleSize: Int { 200 }

        mutating func add(_ item: Item) {
            count += 1
            if sample.count < Self.sampleSize { sample.append(item) }
        }
    }

    struct Report {
        var flow: String
        var push: Bool
        var unreadable = false
        var read = 0
        var drifted = Findings<Difference>()
        var unsent = Findings<Difference>()
        var notOnChannel = Findings<String>()
        var pushed = 0

        func event(at now: Date, connection: ConnectionID, run: String?) -> EventRecord {
            if unreadable {
                return EventRecord(
                    at: now, level: .info, kind: "reconciliation", connection: connection, subject: "flow:\(flow)",
                    message: "no drift report: connection \(connection) cannot read its stock back",
                    details: ["flow": flow, "flow_kind": "stock", "unreadable": "true"])
            }
            var message = "compared \(read) SKUs with the channel: \(drifted.count) drifted, \(unsent.count) not yet sent, "
                + "\(notOnChannel.count) not on the channel"
            if push { message += "; \(pushed) drifted queued to send (run \(run ?? "-"))" }
            return EventRecord(
                at: now, level: drifted.count == 0 ? .info : .warning, kind: "reconciliation", connection: connection,
                subject: "flow:\(flow)", message: message,
                details: [
                    "flow": flow, "flow_kind": "stock", "read": "\(read)", "drifted": "\(drifted.count)", "unsent": "\(unsent.count)",
                    "notOnChannel": "\(notOnChannel.count)", "pushed": "\(pushed)", "push": "\(push)",
                    "driftedSKUs": drifted.sample.map(\.text).joined(separator: ","),
                    "unsentSKUs": unsent.sample.map(\.text).joined(separator: ","),
                    "notOnChannelSKUs": notOnChannel.sample.joined(separator: ","), "run": run ?? "",
                ])
        }
    }
}

extension FlowOption {
    /// When a kind's reconciliation runs: cron, or "off".
    static func reconcileSchedule(default schedule: String, help: String) -> FlowOption {
        FlowOption("reconcileSchedule", default: schedule, help: help) { value, flow throws(Problem) in
            let text = try value.text()
            if text == "off" {
                flow.reconcileSchedule = nil
                return
            }
            do { _ = try CronExpression(text) } catch { throw Problem("must be a cron expression or off: \(error)") }
            flow.reconcileSchedule = text
        }
    }

    public static let stockReconcileSchedule = reconcileSchedule(
        default: "30 3 * * *",
        help: "stock: when the drift report compares the channel's quantities with what the hub would send (cron; \"off\" for never)")
}
