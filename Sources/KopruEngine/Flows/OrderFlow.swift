import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `sync.orders`: reads the channel's order feed from the stored position (and, now and then,
/// the overlap window behind it: `FeedScan`), and enqueues one `order.export` per new exportable order — with the position, the
/// versions seen and the bindings, all in the job's completion transaction. Webhook + poll +
/// overlap can meet the same order many times; its export is enqueued once (idempotency key)
/// and an unchanged version is skipped (stored version). An exported order holds its units
/// (a stock reservation) until the ERP has it, and lowers the other channels' stock at once.
public struct OrderPollJob: FlowJobHandler {
    public let kind = "sync.orders"
    let environment: FlowEnvironment
    /// Most new orders one run reads; a run that reads this many enqueues the next, which
    /// continues from there. The exports a run finds wait for its commit, so in a burst a
    /// smaller run starts them sooner (5,000 kept the first order waiting for 50 pages).
    let maxPerRun: Int

    public init(_ environment: FlowEnvironment, maxPerRun: Int = 500) {
        self.environment = environment
        self.maxPerRun = maxPerRun
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        var effects: [StoreEffect] = []
        for flow in environment.catalog.flows(.orders, from: context.job.connection, request: request) {
            effects += try await poll(flow, request: request, context: context)
        }
        return .done(effects)
    }

    static let versionEntity = "order.version"

    func poll(_ flow: FlowDefinition, request: SyncRequest, context: JobContext) async throws -> [StoreEffect] {
        var exported = 0
        let (effects, seen, more) = try await environment.scanOrders(
            flow, full: request.isFull, versionEntity: Self.versionEntity, maxPerRun: maxPerRun, now: context.now
        ) { order, externalID, seenBefore in
            let exportable = order.status != .cancelled && flow.exportStatuses.contains(order.status)
            var effects: [StoreEffect] = [
                .bind(Binding(connection: flow.source, entity: "order", externalID: externalID, internalID: order.id.rawValue)),
                .recordOrder(
                    OrderRecord(
                        order, externalID: externalID, seenVia: request.trigger ?? "poll", now: context.now,
                        exportTo: exportable ? flow.target : nil)),
            ]
            if [.cancelled, .refunded].contains(order.status) {
                effects.append(.releaseStock(order: order.id.rawValue, at: context.now))
            }
            if order.status == .cancelled {
                return effects + (try OrderCancellation.seen(order, flow: flow, exportPossible: seenBefore, now: context.now))
            }
            guard flow.exportStatuses.contains(order.status) else { return effects }
            effects.append(.enqueue(try OrderExportJob.job(flow: flow, order: order)))
            effects += try environment.catalog.reservation(for: order, channel: flow.source)
            exported += 1
            return effects
        }
        // The next pass keeps this one's priority: a webhook's pass goes before webhook jobs.
        return effects + (more ? [.enqueue(flow.syncJob(priority: context.job.priority))] : []) + [
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "sync_run", connection: flow.source, subject: "flow:\(flow.name)",
                    message: "orders polled: \(seen) read, \(exported) to export",
                    details: ["flow": flow.name, "read": "\(seen)", "enqueued": "\(exported)"]))
        ]
    }
}

extension FlowEnvironment {
    /// Reads a pass of a flow's order feed (`scanFeed`) and hands each
    /// order whose version this flow has not seen to `handle` (with whether an earlier version
    /// was seen), which says what to record. The
    /// versions seen and the new position are committed with the handler's effects, so webhook +
    /// poll + overlap meet an order many times and act on each version once.
    func scanOrders(
        _ flow: FlowDefinition, full: Bool, versionEntity: String, maxPerRun: Int, now: Date,
        handle: (Order, String, Bool) throws -> [StoreEffect]
    ) async throws -> (effects: [StoreEffect], seen: Int, more: Bool) {
        let feed = try await connectors.resolve(flow.source, as: (any OrderFeed).self)
        let skew = try await clockSkew(of: flow)
        var effects: [StoreEffect] = []
        let (cursors, seen, more) = try await scanFeed(
            flow, full: full, maxPerRun: maxPerRun, now: now, read: { try await feed.orders(after: $0, limit: $1) }
        ) { page in
            let versions = try await store.snapshots(connection: flow.source, entity: versionEntity, keys: page.map(\.externalID))
            var snapshots: [SnapshotEntry] = []
            for item in page {
                let seen = FeedVersion(item)
                guard seen.supersedes(versions[item.externalID].map(FeedVersion.init(stored:)), tolerance: skew) else { continue }
                snapshots.append(
                    SnapshotEntry(connection: flow.source, entity: versionEntity, key: item.externalID, value: seen.stored, confirmedAt: now))
                effects += try handle(item.record, item.externalID, versions[item.externalID] != nil)
            }
            if !snapshots.isEmpty { effects.append(.putSnapshots(snapshots)) }
        }
        return (effects + cursors, seen, more)
    }
}

/// `order.export`: one channel order into the ERP, exactly once. An order already bound on the
/// target is done. Once an attempt went unanswered, every later one (a replay and the final
/// check included) asks the target whether the order is there and binds it if so.
public struct OrderExportJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var order: Order
    }

    public static let kind = "order.export"
    public var kind: String { Self.kind }
    public var checksBeforeGivingUp: Bool { true }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    static func key(flow: FlowDefinition, order: Order) -> String { "\(flow.name):\(order.id.rawValue)" }

    static func job(flow: FlowDefinition, order: Order) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: key(flow: flow, order: order), json: Payload(flow: flow.name, order: order),
            orderingKey: OrderCancellation.orderingKey(flow: flow, order: order), connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let order = payload.order
        let release = StoreEffect.releaseStock(order: order.id.rawValue, at: context.now)
        if let bound = try await environment.store.binding(connection: flow.target, entity: "order", internalID: order.id.rawValue) {
            // Already there (a replay, or an order exported before the order index): the list says so.
            return .done([
                release, .recordOrderExport(order: order.id.rawValue, target: flow.target, reference: bound.externalID, at: context.now),
            ])
        }
        try order.validate()
        let sink = try await environment.connectors.resolve(flow.target, as: (any OrderSink).self)
        let key = "\(flow.target.rawValue):\(order.source.externalNumber ?? order.source.externalID)"
        if try await OrderCancellation.isCancelled(order, flow: flow, store: environment.store) {
            return try await skipCancelled(order, flow: flow, sink: sink, key: key, context: context, release: release)
        }
        let delivery = try await deliver(
            context, resendIsSafe: sink.resendIsSafe, find: { try await sink.findOrder(order, idempotencyKey: key) },
            create: { try await sink.createOrder(order, idempotencyKey: key) })
        var reference = delivery.reference
        if reference == nil, !sink.resendIsSafe { reference = try await sink.findOrder(order, idempotencyKey: key) }
        let how = delivery.how
        let ref = reference ?? key
        var effects: [StoreEffect] = [
            .bind(Binding(connection: flow.target, entity: "order", externalID: ref, internalID: order.id.rawValue)),
            .recordOrderExport(order: order.id.rawValue, target: flow.target, reference: ref, at: context.now),
            // The ERP has it now; its next stock read includes it.
            release,
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "export", connection: flow.target, subject: "order:\(order.id)",
                    message: "order \(order.source.externalNumber ?? order.id.rawValue) \(how) as \(ref)",
                    details: ["flow": flow.name, "reference": ref])),
        ]
        if flow.notes {
            effects.append(.enqueue(try OrderNoteJob.job(flow: flow, order: order, note: "ERP'ye aktarıldı (ref \(ref))")))
        }
        return .done(effects)
    }

    /// The order was cancelled in the channel before it was exported: nothing is sent. Unless
    /// an earlier attempt may have landed: then what the ERP holds is bound (asked, or sent
    /// again where a resend cannot double), and the cancellation that follows this job cancels it.
    func skipCancelled(
        _ order: Order, flow: FlowDefinition, sink: any OrderSink, key: String, context: JobContext, release: StoreEffect
    ) async throws -> JobResult {
        let number = order.source.externalNumber ?? order.id.rawValue
        var found: String?
        if context.outcomeUncertain {
            if sink.canBeAsked {
                found = try await sink.findOrder(order, idempotencyKey: key)
            } else if sink.resendIsSafe, !context.finalCheck {
                // Not to be asked, but a resend with the key is answered with what is there:
                // the order is booked now if it was not, and its cancellation follows.
                do { found = try await sink.createOrder(order, idempotencyKey: key) } catch let error as ConnectorError {
                    guard case .alreadyDone(let reference) = error.disposition else { throw error }
                    found = reference ?? key
                }
            } else {
                throw ConnectorError.permanent(
                    "order \(number) was cancelled in the channel after an attempt whose answer was lost, and the ERP cannot be asked "
                        + "whether it has it: if it does, cancel it there by hand")
            }
        }
        guard let found else {
            return .done([
                release,
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "export", connection: flow.target, subject: "order:\(order.id)",
                        message: "order \(number) not exported: cancelled in the channel first", details: ["flow": flow.name])),
            ])
        }
        // The cancellation queued behind this export runs next; if it ran already (this is a
        // replay, and it found nothing bound), one more, under its own key, cancels what is
        // bound now.
        let first = try await environment.store.job(kind: OrderCancelJob.kind, idempotencyKey: try OrderCancelJob.job(flow: flow, order: order).idempotencyKey)
        let again: [StoreEffect] =
            first.map { [.succeeded, .dead].contains($0.status) } ?? true
            ? [.enqueue(try OrderCancelJob.job(flow: flow, order: order, again: "after-export-\(context.job.id)"))] : []
        return .done(
            again + [
            .bind(Binding(connection: flow.target, entity: "order", externalID: found, internalID: order.id.rawValue)), release,
            .log(
                EventRecord(
                    at: context.now, level: .notice, kind: "export", connection: flow.target, subject: "order:\(order.id)",
                    message: "order \(number), cancelled in the channel, had reached the ERP as \(found); its cancellation follows",
                    details: ["flow": flow.name, "reference": found])),
        ])
    }

    /// The merchant sees a final failure on the order itself, as the seed's module did. An order
    /// that may be in the ERP (an attempt went unanswered and the ERP could not say otherwise)
    /// is not called "not sent".
    public func deadLetterEffects(_ job: Job, reason: String, now: Date) -> [StoreEffect] {
        let headline =
            job.outcomeUncertain && !reason.contains(absentAfterAsking)
            ? "ERP'YE ULAŞTIĞI BİLİNMİYOR, KONTROL BEKLİYOR" : "ERP'YE GÖNDERİLEMEDİ"
        guard let payload = try? job.decodePayload(Payload.self), let flow = try? environment.catalog.flow(named: payload.flow), flow.notes,
            let note = try? OrderNoteJob.job(
                flow: flow, order: payload.order, note: "\(headline) (Köprü iş #\(job.id), hata listesinde): \(reason.prefix(300))")
        else { return [] }
        return [.enqueue(note)]
    }
}

/// `order.note`: a status-history comment on the channel order. Comments are not idempotent, so
/// a retry first looks for the comment it may already have written.
public struct OrderNoteJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var externalID: String
        public var note: String
    }

    public static let kind = "order.note"
    public var kind: String { Self.kind }
    public var checksBeforeGivingUp: Bool { true }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    /// `purpose` tells one order's notes apart: one of each is written.
    static func job(flow: FlowDefinition, order: Order, note: String, purpose: String? = nil) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(flow.name):\(order.id.rawValue):\(purpose ?? (note.hasPrefix("ERP'ye") ? "exported" : "failed"))",
            json: Payload(flow: flow.name, externalID: order.source.externalID, note: note), connection: flow.source)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let notes = try await environment.connectors.resolve(flow.source, as: (any OrderNotes).self)
        let written = try await askFirst(context) {
            try await notes.hasOrderNote(externalID: payload.externalID, containing: payload.note) ? true : nil
        }
        if written != nil { return .done }
        try await notes.addOrderNote(externalID: payload.externalID, note: payload.note)
        return .done
    }
}

extension FlowKind {
    /// Channel orders → ERP orders, with a note written back on the channel order.
    public static let orders = FlowKind(
        id: "orders", summary: "channel orders → ERP orders, with a note back on the channel order",
        source: [[.orderFeed]], target: [[.orderSink]], defaultSchedule: "* * * * *", lane: .realTime, wokenByWebhook: true,
        options: [.overlapSeconds, .recheckSeconds, .exportStatuses, .notes, .reconcileHours, .reconcileSchedule],
        reconciliation: .init(defaultSchedule: "45 * * * *") { flow, key, _ in OrderReconcileJob.job(flow: flow, key: key) }
    ) { environment, retryPolicy in
        [
            OrderPollJob(environment), OrderExportJob(environment, retryPolicy: retryPolicy),
            OrderNoteJob(environment, retryPolicy: retryPolicy), SellableStockJob(environment, retryPolicy: retryPolicy),
            OrderCancelJob(environment, retryPolicy: retryPolicy), OrderReconcileJob(environment),
        ]
    }
}

extension OrderRecord {
    /// The order as the dashboard's list keeps it, from what the channel says now.
    init(_ order: Order, externalID: String, seenVia: String, now: Date, exportTo target: ConnectionID?) {
        self.init(
            id: order.id.rawValue, connection: order.source.connection, externalID: externalID,
            number: order.source.externalNumber ?? externalID, status: order.status.rawValue, total: order.grandTotal.amount.plainString,
            currency: order.currency.code, placedAt: order.placedAt, firstSeenAt: now, updatedAt: order.updatedAt, seenVia: seenVia,
            exportQueuedAt: target == nil ? nil : now, exportTarget: target)
    }
}
