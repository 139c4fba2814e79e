import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// A kind of flow (`orders`, `stock`, ...), described once: what it needs of its connections,
/// the jobs that run it, when it runs by default, which lane its traffic takes and the options
/// a flow of this kind may set. The configuration reader, the runtime, the admin API and the
/// OpenAPI test read this; a new kind is its own file plus one line in the installed list.
public struct FlowKind: Sendable, Hashable, CustomStringConvertible {
    /// Real time (orders, customers, shipments) or bulk (stock, prices): bulk traffic waits
    /// behind real-time jobs on a shared queue.
    public enum Lane: String, Sendable {
        case realTime, bulk

        /// The priority of this lane's sync jobs (higher runs first).
        public var syncPriority: Int { self == .bulk ? StockPriority.sync : 5 }
    }

    public let id: String
    public var summary: String
    /// Each entry is a set of which the source connection's kind needs at least one.
    public var sourceNeeds: [Set<Capability>]
    public var targetNeeds: [Set<Capability>]
    /// The handlers of every job this kind enqueues, its sync first.
    public var handlers: @Sendable (_ environment: FlowEnvironment, _ retryPolicy: RetryPolicy) -> [any JobHandler]
    /// Cron, in the flow's time zone, for its safety-net poll when the configuration sets none.
    public var defaultSchedule: String
    public var lane: Lane
    /// A webhook from the source makes the flow poll now (the webhook is a hint, the poll the truth).
    public var wokenByWebhook: Bool
    /// The options a flow of this kind may set, beyond the ones every flow has.
    public var options: [FlowOption]
    /// How a flow of this kind compares what its source holds with what was delivered (nil: it
    /// has no reconciliation).
    public var reconciliation: Reconciliation?

    /// A kind's reconciliation: when it runs unless the flow says otherwise, and the job of one pass.
    public struct Reconciliation: Sendable {
        public var defaultSchedule: String
        /// Whether a pass can be asked to send the differences it finds (`push`); one that
        /// cannot either sends them by itself or has nothing to send.
        public var pushes: Bool
        /// One pass over `flow`; `key` tells passes apart (a schedule slot, or a fresh id), and
        /// `push` asks it to also send what it finds different where the kind can.
        public var job: @Sendable (_ flow: FlowDefinition, _ key: String, _ push: Bool) -> NewJob

        public init(
            defaultSchedule: String, pushes: Bool = false,
            job: @escaping @Sendable (_ flow: FlowDefinition, _ key: String, _ push: Bool) -> NewJob
        ) {
            self.defaultSchedule = defaultSchedule
            self.pushes = pushes
            self.job = job
        }
    }

    public init(
        id: String, summary: String, source: [Set<Capability>], target: [Set<Capability>], defaultSchedule: String, lane: Lane,
        wokenByWebhook: Bool = false, options: [FlowOption] = [], reconciliation: Reconciliation? = nil,
        handlers: @escaping @Sendable (_ environment: FlowEnvironment, _ retryPolicy: RetryPolicy) -> [any JobHandler]
    ) {
        self.id = id
        self.summary = summary
        self.sourceNeeds = source
        self.targetNeeds = target
        self.defaultSchedule = defaultSchedule
        self.lane = lane
        self.wokenByWebhook = wokenByWebhook
        self.options = options
        self.reconciliation = reconciliation
        self.handlers = handlers
    }

    /// The job kind that runs one pass of a flow of this kind on its source connection.
    public var syncKind: String { "sync.\(id)" }

    public var description: String { id }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Why a connection of `kind` cannot be this flow's source (or target); nil when it can.
    public func missing(on kind: ConnectorKind, as side: Side) -> String? {
        let needs = side == .source ? sourceNeeds : targetNeeds
        guard let unmet = needs.first(where: { $0.isDisjoint(with: kind.capabilities) }) else { return nil }
        let names = unmet.sorted().map(\.rawValue).joined(separator: " or ")
        return "a connection of type \(kind.id) cannot be the \(side.rawValue) of a \(id) flow: it has no \(names)"
    }

    public enum Side: String, Sendable { case source, target }
}

/// One option of a flow kind (`buffer`, `priceRule`, ...): its key, what it means, its default,
/// and how its value is checked and applied to the flow.
public struct FlowOption: Sendable {
    /// A value as the configuration gives it.
    public enum Value: Hashable, Sendable {
        case text(String)
        case list([String])
        case map([String: String])
    }

    /// Why a value cannot be used, in words that follow the key.
    public struct Problem: Error, Sendable {
        public let message: String
        public init(_ message: String) { self.message = message }
    }

    public let key: String
    public var help: String
    public var defaultValue: String
    public var apply: @Sendable (_ value: Value, _ flow: inout FlowDefinition) throws(Problem) -> Void

    public init(
        _ key: String, default defaultValue: String, help: String,
        apply: @escaping @Sendable (_ value: Value, _ flow: inout FlowDefinition) throws(Problem) -> Void
    ) {
        self.key = key
        self.help = help
        self.defaultValue = defaultValue
        self.apply = apply
    }
}

extension FlowOption.Value {
    func text() throws(FlowOption.Problem) -> String {
        guard case .text(let text) = self else { throw FlowOption.Problem("must be a single value") }
        return text
    }

    func integer(atLeast minimum: Int) throws(FlowOption.Problem) -> Int {
        guard let number = Int(try text()) else { throw FlowOption.Problem("must be a whole number") }
        guard number >= minimum else {
            throw FlowOption.Problem(minimum == 0 ? "must not be negative" : "must be at least \(minimum)")
        }
        return number
    }

    func statuses() throws(FlowOption.Problem) -> Set<OrderStatus> {
        guard case .list(let items) = self else { throw FlowOption.Problem("must be a list") }
        var statuses = Set<OrderStatus>()
        for item in items {
            guard let status = OrderStatus(rawValue: item) else {
                throw FlowOption.Problem(
                    "\"\(item)\" is not a status (known: \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            statuses.insert(status)
        }
        return statuses
    }
}

/// Options several kinds share, written once.
extension FlowOption {
    public static let overlapSeconds = FlowOption(
        "overlapSeconds", default: "300", help: "how far back a recheck re-reads, for rows committed late"
    ) { value, flow throws(Problem) in flow.overlap = .seconds(try value.integer(atLeast: 0)) }

    public static let recheckSeconds = FlowOption(
        "recheckSeconds", default: "60",
        help: "how often the overlap window is re-read (0: every poll; a burst then re-reads itself on every poll)"
    ) { value, flow throws(Problem) in flow.recheckInterval = .seconds(try value.integer(atLeast: 0)) }

    public static let exportStatuses = FlowOption(
        "exportStatuses", default: "[accepted]", help: "channel order statuses that are sent on"
    ) { value, flow throws(Problem) in flow.exportStatuses = try value.statuses() }

    public static let notes = FlowOption(
        "notes", default: "true", help: "write a note on the channel order after export and after a final failure"
    ) { value, flow throws(Problem) in
        let text = try value.text()
        guard text == "true" || text == "false" else { throw Problem("must be true or false") }
        flow.notes = text == "true"
    }

    public static let skuMap = FlowOption(
        "skuMap", default: "{}", help: "the channel's SKU for a source SKU, where they differ"
    ) { value, flow throws(Problem) in
        guard case .map(let map) = value else { throw Problem("must be a mapping of source SKU to channel SKU") }
        flow.skuMap = map
    }
}
