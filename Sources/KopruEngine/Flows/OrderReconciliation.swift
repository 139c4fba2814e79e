import CoreMetrics
import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `reconcile.orders`: the safety net under the safety net. Webhooks are hints and the poll
/// reads from its position, so an order written late with an old `updated_at` (past the
/// overlap), or one a bug or an outage skipped, would never be seen again. Once an hour (the
/// flow's `reconcileSchedule`) this job reads the source over `reconcileHours` and compares it
/// with what the hub delivered: an exportable order with no binding on the target is queued for
/// export (the export's own key keeps one already queued or held from being queued twice), and
/// two orders bound to one target document are reported. The report is an event
/// (`kind=reconciliation`), served by `GET /api/reconciliation` and printed by `kopru reconcile`.
/// The same pass raises the silence alert: a source that has sent webhooks, and none for longer
/// than its `webhook.silenceMinutes`, has probably stopped sending them.
public struct OrderReconcileJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
    }

    public static let kind = "reconcile.orders"
    public var kind: String { Self.kind }
    let environment: FlowEnvironment
    /// Most orders one pass reads; a larger window is reported as cut short.
    let maximumOrders: Int

    public init(_ environment: FlowEnvironment, maximumOrders: Int = 100_000) {
        self.environment = environment
        self.maximumOrders = maximumOrders
    }

    /// One pass over `flow`; passes asked for while one waits collapse into it.
    public static func job(flow: FlowDefinition, key: String = UUID().uuidString) -> NewJob {
        NewJob(
            kind: kind, idempotencyKey: "reconcile:\(flow.name):\(key)",
            payload: (try? JSONEncoder.kopru.encode(Payload(flow: flow.name))) ?? Data(),
            orderingKey: "reconcile:\(flow.name)", coalescingKey: "reconcile:\(flow.name)", connection: flow.source)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        var report = Report(flow: flow.name, since: context.now.addingTimeInterval(-flow.reconcileWindow.seconds))
        var effects: [StoreEffect] = []
        let feed = try await environment.connectors.resolve(flow.source, as: (any OrderFeed).self)
        var position = FeedPosition(updatedAt: report.since, id: 0)
        var references: [String: [String]] = [:]
        let settled = context.now.addingTimeInterval(-max(flow.overlap.seconds, Self.settling.seconds))
        reading: while true {
            let page = try await feed.orders(after: position, limit: 500)
            guard let last = page.last else { break }
            position = last.position
            for item in page {
                // The latest minutes are the poll's: an order there may be on its way.
                if item.position.updatedAt > settled { break reading }
                report.read += 1
                let order = item.record
                guard flow.exportStatuses.contains(order.status) else { continue }
                report.exportable += 1
                if let bound = try await environment.store.binding(connection: flow.target, entity: "order", internalID: order.id.rawValue) {
                    report.delivered += 1
                    references[bound.externalID, default: []].append(order.source.externalNumber ?? item.externalID)
                } else {
                    report.missing.append(order.source.externalNumber ?? item.externalID)
                    // As the poll records an order it hands on: bound to its source record, and
                    // its version seen, so a later change (a cancellation) is known to follow an export.
                    effects += [
                        .bind(Binding(connection: flow.source, entity: "order", externalID: item.externalID, internalID: order.id.rawValue)),
                        .recordOrder(OrderRecord(order, externalID: item.externalID, seenVia: "reconciliation", now: context.now, exportTo: flow.target)),
                        .putSnapshots([
                            SnapshotEntry(
                                connection: flow.source, entity: OrderPollJob.versionEntity, key: item.externalID, value: FeedVersion(item).stored,
                                confirmedAt: context.now)
                        ]),
                    ]
                    effects.append(.enqueue(try OrderExportJob.job(flow: flow, order: order)))
                    effects += try environment.catalog.reservation(for: order, channel: flow.source)
                }
                if report.read >= maximumOrders {
                    report.cutShort = true
                    break reading
                }
            }
        }
        report.boundTwice = references.filter { $0.value.count > 1 }.mapValues { $0.sorted() }
        effects.append(.log(report.event(at: context.now, connection: flow.source)))
        if !report.missing.isEmpty {
            Counter(label: "kopru_reconciliation_missing_total", dimensions: [("flow", flow.name)]).increment(by: report.missing.count)
        }
        effects += try await silenceAlert(flow, now: context.now)
        return .done(effects)
    }

    /// A critical event and `kopru_alerts_total{kind="webhook_silence"}` when the source has
    /// sent webhooks before and none for longer than its `webhook.silenceMinutes`.
    func silenceAlert(_ flow: FlowDefinition, now: Date) async throws -> [StoreEffect] {
        guard let text = try await environment.store.connection(flow.source)?.settings[Self.silenceSetting],
            let minutes = Int(text), minutes > 0,
            let last = try await environment.store.lastWebhookReceived(connection: flow.source),
            now.timeIntervalSince(last) > Double(minutes) * 60
        else { return [] }
        Counter(label: "kopru_alerts_total", dimensions: [("kind", "webhook_silence"), ("connection", flow.source.rawValue)]).increment()
        let silent = Int(now.timeIntervalSince(last) / 60)
        return [
            .log(
                EventRecord(
                    at: now, level: .critical, kind: "alert", connection: flow.source, subject: "webhooks",
                    message: "no webhook from \(flow.source) for \(silent) min (threshold \(minutes) min): check the store's webhook "
                        + "settings; orders still arrive by polling",
                    details: ["alert": "webhook_silence", "lastReceived": last.formatted(.iso8601), "minutes": "\(silent)"]))
        ]
    }

    public static let silenceSetting = "webhook.silenceMinutes"
    /// Orders changed more recently than this (or the flow's overlap) are left to the poll.
    static let settling: Duration = .seconds(600)

    struct Report {
        var flow: String
        var since: Date
        var read = 0
        var exportable = 0
        var delivered = 0
        var missing: [String] = []
        var boundTwice: [String: [String]] = [:]
        var cutShort = false

        func event(at now: Date, connection: ConnectionID) -> EventRecord {
            var message = "reconciled \(read) orders since \(since.formatted(.iso8601)): \(exportable) to deliver, \(delivered) delivered, "
                + "\(missing.count) not delivered (queued for export, unless held in the dead letters)"
            if !boundTwice.isEmpty { message += ", \(boundTwice.count) target documents bound to more than one order" }
            if cutShort { message += "; cut short at \(read) orders" }
            var details = [
                "flow": flow, "since": since.formatted(.iso8601), "read": "\(read)", "exportable": "\(exportable)",
                "delivered": "\(delivered)", "missing": "\(missing.count)", "boundTwice": "\(boundTwice.count)",
                "missingOrders": missing.prefix(50).joined(separator: ","), "cutShort": "\(cutShort)",
            ]
            if !boundTwice.isEmpty {
                details["boundTwiceDocuments"] = boundTwice.sorted { $0.key < $1.key }.prefix(20)
                    .map { "\($0.key)=\($0.value.joined(separator: "+"))" }.joined(separator: ",")
            }
            return EventRecord(
                at: now, level: missing.isEmpty && boundTwice.isEmpty ? .info : .warning, kind: "reconciliation", connection: connection,
                subject: "flow:\(flow)", message: message, details: details)
        }
    }
}

extension FlowOption {
    public static let reconcileHours = FlowOption(
        "reconcileHours", default: "24", help: "orders: how far back the reconciliation compares the source with what was delivered"
    ) { value, flow throws(Problem) in flow.reconcileWindow = .seconds(try value.integer(atLeast: 1) * 3600) }

    public static let reconcileSchedule = reconcileSchedule(
        default: "45 * * * *", help: "orders: when the reconciliation runs (cron; \"off\" for never)")
}
