import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// A flow, as declared in configuration: records of one kind move from a source connection to a
/// target connection, started by a schedule, a webhook, or `POST /api/integrations/{id}/sync`.
public struct FlowDefinition: Hashable, Sendable {
    /// What kind of flow this is; the descriptor says what it needs, runs and accepts.
    public typealias Kind = FlowKind

    public var name: String
    public var kind: Kind
    public var source: ConnectionID
    public var target: ConnectionID
    /// How far back a recheck re-reads, for rows committed late with an older `updated_at`.
    public var overlap: Duration
    /// How often the overlap window is re-read (`FeedScan`); zero: on every pass.
    public var recheckInterval: Duration
    /// Channel order statuses that are exported (default: paid/confirmed only).
    public var exportStatuses: Set<OrderStatus>
    /// Write a note on the channel order after export and after final failure.
    public var notes: Bool
    /// How long to wait between bulk status checks, and how many checks before alarming.
    public var bulkPollInterval: Duration
    public var bulkMaxPolls: Int
    /// Stock flows: units held back from this channel (its safety buffer).
    public var buffer: Int
    /// Stock and price flows: the channel's SKU for a source SKU, where they differ.
    public var skuMap: [String: String]
    /// Price flows: how the channel's price is made from the source's.
    public var priceRule: PriceRule
    /// Shipping flows: channel order statuses that send the goods back (a return shipment), for
    /// orders that went out with this carrier.
    public var returnStatuses: Set<OrderStatus>
    /// Shipping flows: how often to ask the carrier for a tracking number, and for how long.
    public var trackingPollInterval: Duration
    public var trackingMaxPolls: Int
    /// How this flow's jobs retry, over their connection's `retry.*` settings; nil: those.
    public var retryPolicy: RetryPolicy?
    /// Order flows: how far back the reconciliation compares the source with what was delivered.
    public var reconcileWindow: Duration = .seconds(86_400)
    /// When the kind's reconciliation runs (a cron expression; nil: never, or the kind has none).
    public var reconcileSchedule: String?

    public init(
        name: String, kind: Kind, source: ConnectionID, target: ConnectionID, overlap: Duration = .seconds(300),
        recheckInterval: Duration = .seconds(60),
        exportStatuses: Set<OrderStatus> = [.accepted], notes: Bool = true, bulkPollInterval: Duration = .seconds(10),
        bulkMaxPolls: Int = 60, buffer: Int = 0, skuMap: [String: String] = [:], priceRule: PriceRule = .identity,
        returnStatuses: Set<OrderStatus> = [.returned, .refunded], trackingPollInterval: Duration = .seconds(900),
        trackingMaxPolls: Int = 1_344, retryPolicy: RetryPolicy? = nil
    ) {
        self.retryPolicy = retryPolicy
        self.returnStatuses = returnStatuses
        self.trackingPollInterval = trackingPollInterval
        self.trackingMaxPolls = max(1, trackingMaxPolls)
        self.priceRule = priceRule
        self.buffer = max(0, buffer)
        self.skuMap = skuMap
        self.name = name
        self.kind = kind
        self.reconcileSchedule = kind.reconciliation?.defaultSchedule
        self.source = source
        self.target = target
        self.overlap = overlap
        self.recheckInterval = recheckInterval
        self.exportStatuses = exportStatuses
        self.notes = notes
        self.bulkPollInterval = bulkPollInterval
        self.bulkMaxPolls = bulkMaxPolls
    }

    /// The job kind that runs one pass of this flow on its source connection.
    public var syncKind: String { kind.syncKind }

    /// A job that runs this flow now; concurrent requests collapse into one pending run, which
    /// waits for the running one (one ordering key per flow): a burst of webhooks makes one pass
    /// at a time over the feed, not one per worker slot reading the same pages. Bulk traffic
    /// (stock, prices) runs below zero: orders go first.
    public func syncJob(mode: String = "delta", priority: Int? = nil, trigger: String? = nil) -> NewJob {
        let priority = priority ?? kind.lane.syncPriority
        return NewJob(
            kind: syncKind, idempotencyKey: "sync:\(name):\(UUID().uuidString)",
            payload: (try? JSONEncoder.kopru.encode(SyncRequest(flow: kind.id, mode: mode, name: name, trigger: trigger))) ?? Data(),
            // A full run has its own coalescing key: a webhook's delta must not replace a full
            // run someone asked for while it waits behind the running pass.
            priority: priority, orderingKey: "sync:\(name)", coalescingKey: mode == "full" ? "sync:\(name):full" : "sync:\(name)",
            connection: source)
    }
}

/// What starts a sync: the flow kind (from the admin API), optionally one flow by name
/// (schedules), and `delta` or `full`.
public struct SyncRequest: Codable, Sendable {
    public var flow: String?
    public var mode: String?
    public var name: String?
    /// What asked for the pass, where the order list shows it: `webhook`; nil for a schedule,
    /// an operator, or a pass continuing another.
    public var trigger: String?

    public init(flow: String? = nil, mode: String? = nil, name: String? = nil, trigger: String? = nil) {
        self.flow = flow
        self.mode = mode
        self.name = name
        self.trigger = trigger
    }

    var isFull: Bool { mode == "full" }
}

/// The configured flows, and the questions handlers ask about them.
public struct FlowCatalog: Sendable {
    public let flows: [FlowDefinition]

    public init(_ flows: [FlowDefinition]) { self.flows = flows }

    /// Flows of `kind` from `source` that a sync job should run.
    func flows(_ kind: FlowDefinition.Kind, from source: ConnectionID?, request: SyncRequest) -> [FlowDefinition] {
        flows.filter { $0.kind == kind && $0.source == source && (request.name == nil || $0.name == request.name) }
    }

    /// Stock flows delivering to `channel`.
    func stockFlows(to channel: ConnectionID) -> [FlowDefinition] {
        flows.filter { $0.kind == .stock && $0.target == channel }
    }

    var stockFlows: [FlowDefinition] { flows.filter { $0.kind == .stock } }

    func flow(named name: String) throws -> FlowDefinition {
        guard let flow = flows.first(where: { $0.name == name }) else {
            throw ConnectorError.permanent("no flow named \(name) is configured")
        }
        return flow
    }

    /// A webhook from a connection that feeds order flows makes those flows poll now: the
    /// webhook is a hint, the poll is the truth. The poll goes before the other webhooks'
    /// jobs (10): in a burst it would otherwise wait for all of them, moving no order.
    public func jobs(afterWebhookFrom connection: ConnectionID) -> [NewJob] {
        flows.filter { $0.source == connection && $0.kind.wokenByWebhook }.map { $0.syncJob(priority: 11, trigger: "webhook") }
    }
}

/// Builds connectors from stored connections, so a fixed setting (a mapping, a key) takes
/// effect on the next job, a replay included. The composition root knows the concrete types.
public struct ConnectorResolver: Sendable {
    public typealias Factory = @Sendable (Connection) throws -> any Sendable
    private let store: any Store
    private let factory: Factory

    public init(store: any Store, factory: @escaping Factory) {
        self.store = store
        self.factory = factory
    }

    public func resolve<Capability>(_ id: ConnectionID, as capability: Capability.Type) async throws -> Capability {
        guard let connection = try await store.connection(id) else {
            throw ConnectorError.permanent("connection \(id) is not configured")
        }
        if connection.paused {
            throw ConnectorError.rateLimited("connection \(id) is paused", retryAfter: .seconds(60))
        }
        guard let connector = try factory(connection) as? Capability else {
            throw ConnectorError.permanent("a \(connection.type) connection cannot act as \(Capability.self)")
        }
        return connector
    }
}

extension FeedPosition {
    /// Stored as `updated_at-in-ms:id`, readable in `GET /api/integrations/{id}`.
    var cursorValue: String { "\(updatedAt.millisecondsSince1970):\(id)" }

    init?(cursorValue: String) {
        let parts = cursorValue.split(separator: ":")
        guard parts.count == 2, let ms = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(updatedAt: Date(millisecondsSince1970: ms), id: id)
    }

    static let beginning = FeedPosition(updatedAt: Date(timeIntervalSince1970: 0), id: 0)
}

/// What every flow job reads: the configured flows, the connectors and the store.
public struct FlowEnvironment: Sendable {
    public let catalog: FlowCatalog
    public let connectors: ConnectorResolver
    public let store: any Store

    public init(catalog: FlowCatalog, connectors: ConnectorResolver, store: any Store) {
        self.catalog = catalog
        self.connectors = connectors
        self.store = store
    }
}

/// How a write to a target that may already hold the record ended.
struct Delivery {
    /// The target's id for the record; nil when it said "already there" without one.
    var reference: String?
    var how: String
}

/// The one way a flow writes a record that is not idempotent on its target: once any attempt of
/// the job ended without an answer (`outcomeUncertain`, kept across releases and replays), every
/// later one asks the target first and binds what it finds; otherwise it creates, counting
/// "already there" as done. A final check only asks. A sink whose resend cannot double (an
/// honoured idempotency key) is never asked: it sends again.
func deliver(
    _ context: JobContext, resendIsSafe: Bool = false, find: () async throws -> String?, create: () async throws -> String
) async throws -> Delivery {
    if !resendIsSafe, let found = try await askFirst(context, find: find) {
        return Delivery(reference: found, how: "found on the target after an unanswered attempt")
    }
    do {
        return Delivery(reference: try await create(), how: "exported")
    } catch let error as ConnectorError {
        guard case .alreadyDone(let existing) = error.disposition else { throw error }
        return Delivery(reference: existing, how: "already on the target")
    }
}

/// What the target holds of an earlier uncertain attempt, if one was seen; nil means "send".
/// In a final check (no attempts left) nothing is sent: absence ends the job as a dead letter
/// that says the target was asked.
let absentAfterAsking = "asked before giving up, the target does not have it"

func askFirst<Found>(_ context: JobContext, find: () async throws -> Found?) async throws -> Found? {
    guard context.outcomeUncertain || context.finalCheck else { return nil }
    if let found = try await find() { return found }
    if context.finalCheck { throw ConnectorError.permanent(absentAfterAsking) }
    return nil
}

extension FlowDefinition {
    var cursorName: String { "flow:\(name)" }
}

/// What every flow job's payload says of its flow: `flow` (a sync's is its kind) and a sync's `name`.
private struct FlowNames: Decodable {
    var flow: String?
    var name: String?
}

/// A job of a configured flow: its payload names the flow (`flow`, or a sync's `name`).
protocol FlowJobHandler: JobHandler {
    var environment: FlowEnvironment { get }
}

extension FlowJobHandler {
    /// The flow's own `retry`, where the configuration sets one for it. The payload is read only
    /// when some flow sets one.
    public func retryPolicy(for job: Job) -> RetryPolicy? {
        guard environment.catalog.flows.contains(where: { $0.retryPolicy != nil }) else { return nil }
        guard let names = try? job.decodePayload(FlowNames.self) else { return nil }
        let named = names.name ?? names.flow
        return environment.catalog.flows.first { $0.name == named }?.retryPolicy
    }
}

extension JobRegistry {
    /// Every flow job: the handlers of each installed flow kind and of each kind a configured
    /// flow uses (the first registration of a job kind wins, as kinds share some jobs).
    /// `retryPolicy` applies to the jobs that call a target.
    public static func flows(
        _ catalog: FlowCatalog, kinds: [FlowKind] = [], connectors: ConnectorResolver, store: any Store,
        retryPolicy: RetryPolicy = .exponentialJitter()
    ) -> [any JobHandler] {
        let environment = FlowEnvironment(catalog: catalog, connectors: connectors, store: store)
        var seen = Set<String>()
        var handlers: [any JobHandler] = []
        var used: [FlowKind] = []
        for kind in kinds + catalog.flows.map(\.kind) where !used.contains(kind) { used.append(kind) }
        for handler in used.flatMap({ $0.handlers(environment, retryPolicy) }) where seen.insert(handler.kind).inserted {
            handlers.append(handler)
        }
        return handlers
    }
}
