import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// A cancellation can be seen before its order (the order was cancelled before the first poll,
/// or while its export waited or was on the wire). The poll that sees it marks the order
/// cancelled and enqueues `order.cancel` in the order's own lane (its ordering key), so it runs
/// after the export whatever state that export is in: an export that has not sent yet reads the
/// mark and sends nothing; one that landed is bound by then, and the cancellation cancels it.
enum OrderCancellation {
    static let markEntity = "order.cancelled"

    /// Export and cancellation of one order run one at a time, in the order they were enqueued.
    static func orderingKey(flow: FlowDefinition, order: Order) -> String { "order:\(flow.name):\(order.id.rawValue)" }

    /// What the poll records on seeing `order` cancelled. An order seen for the first time
    /// cancelled had no export enqueued (exports start from a poll that saw the order), so it is
    /// only marked, and no job is queued for it.
    static func seen(_ order: Order, flow: FlowDefinition, exportPossible: Bool, now: Date) throws -> [StoreEffect] {
        let mark = SnapshotEntry(connection: flow.source, entity: markEntity, key: order.id.rawValue, value: "cancelled", confirmedAt: now)
        return [.putSnapshots([mark])] + (exportPossible ? [.enqueue(try OrderCancelJob.job(flow: flow, order: order))] : [])
    }

    static func isCancelled(_ order: Order, flow: FlowDefinition, store: any Store) async throws -> Bool {
        try await store.snapshots(connection: flow.source, entity: markEntity, keys: [order.id.rawValue])[order.id.rawValue] != nil
    }
}

/// `order.cancel`: an order cancelled in the channel, cancelled on the ERP too if it got there.
/// Never exported: nothing to do. Exported, and the connection cancels: the ERP is asked to (a
/// repeat is answered "already cancelled", so a retry cannot do harm). Exported, and it does not:
/// a dead letter and a note on the channel order say which ERP document to cancel by hand.
public struct OrderCancelJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var order: Order
    }

    public static let kind = "order.cancel"
    public var kind: String { Self.kind }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    /// `again` names a later cancellation of the same order (one bound after the first ran).
    static func job(flow: FlowDefinition, order: Order, again: String? = nil) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(flow.name):\(order.id.rawValue):cancel\(again.map { ":\($0)" } ?? "")",
            json: Payload(flow: flow.name, order: order),
            orderingKey: OrderCancellation.orderingKey(flow: flow, order: order), connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let order = payload.order
        let number = order.source.externalNumber ?? order.id.rawValue
        func event(_ level: EventLevel, _ message: String, reference: String? = nil) -> StoreEffect {
            .log(
                EventRecord(
                    at: context.now, level: level, kind: "cancel", connection: flow.target, subject: "order:\(order.id)",
                    message: message, details: ["flow": flow.name, "reference": reference ?? ""]))
        }
        guard let bound = try await environment.store.binding(connection: flow.target, entity: "order", internalID: order.id.rawValue)
        else {
            // An export held in the dead letters as possibly on the ERP may be there, open.
            let export = try await environment.store.job(kind: OrderExportJob.kind, idempotencyKey: OrderExportJob.key(flow: flow, order: order))
            if let export, export.status == .dead, export.outcomeUncertain {
                throw ConnectorError.permanent(
                    "order \(number) was cancelled in the channel while its export (job #\(export.id)) was held as possibly in the ERP: "
                        + "if the ERP has it, cancel it there by hand")
            }
            return .done([event(.info, "order \(number) cancelled in the channel before it reached the ERP: nothing to cancel")])
        }
        let reference = bound.externalID
        let sink = try await environment.connectors.resolve(flow.target, as: (any OrderSink).self)
        guard let target = sink as? any OrderCancelSink, target.cancelsOrders else {
            throw ConnectorError.permanent(
                "order \(number) was cancelled in the channel after it reached the ERP as \(reference), and this connection does not "
                    + "cancel orders (settings.cancel): cancel \(reference) in the ERP by hand")
        }
        var how = "cancelled"
        do {
            try await target.cancelOrder(order, reference: reference, idempotencyKey: "\(flow.target.rawValue):cancel:\(number)")
        } catch let error as ConnectorError {
            guard case .alreadyDone = error.disposition else { throw error }
            how = "was cancelled already"
        }
        var effects = [event(.info, "order \(number) cancelled in the channel; ERP document \(reference) \(how)", reference: reference)]
        if flow.notes {
            effects.append(
                .enqueue(try OrderNoteJob.job(flow: flow, order: order, note: "ERP'de iptal edildi (ref \(reference))", purpose: "cancelled")))
        }
        return .done(effects)
    }

    public func deadLetterEffects(_ job: Job, reason: String, now: Date) -> [StoreEffect] {
        guard let payload = try? job.decodePayload(Payload.self), let flow = try? environment.catalog.flow(named: payload.flow), flow.notes,
            let note = try? OrderNoteJob.job(
                flow: flow, order: payload.order,
                note: "ERP'DE İPTAL EDİLMEDİ, ELLE İPTAL GEREKİYOR (Köprü iş #\(job.id), hata listesinde): \(reason.prefix(300))",
                purpose: "cancel-failed")
        else { return [] }
        return [.enqueue(note)]
    }
}

/// A feed item's version as the hub stores it: the source's `updated_at` in milliseconds, then
/// the version text. A page can hold an older snapshot than one already seen (a replica behind,
/// a list read while it moved); it must not count as news, or an order seen cancelled would be
/// exported again from the state before. Stored versions without the time (written before it
/// was kept) compare by text alone.
struct FeedVersion: Equatable {
    var updatedAt: Int64?
    var text: String

    init(_ item: FeedItem<some Sendable>) {
        updatedAt = Int64((item.position.updatedAt.timeIntervalSince1970 * 1000).rounded())
        text = item.version
    }

    init(stored: String) {
        let parts = stored.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[0].hasPrefix("@"), let ms = Int64(parts[0].dropFirst()) {
            (updatedAt, text) = (ms, String(parts[1]))
        } else {
            (updatedAt, text) = (nil, stored)
        }
    }

    var stored: String { updatedAt.map { "@\($0) \(text)" } ?? text }

    /// Whether a page's version is news against the stored one: another text, and not older
    /// by more than `tolerance` (the source's clock skew: a change written by a node whose clock
    /// is behind carries an earlier time and is still news).
    func supersedes(_ stored: FeedVersion?, tolerance: Duration = .zero) -> Bool {
        guard let stored else { return true }
        guard stored.text != text else { return false }
        guard let then = stored.updatedAt, let now = updatedAt else { return true }
        return now >= then - Int64(tolerance.components.seconds) * 1000
    }
}
