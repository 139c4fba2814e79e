import Foundation

/// What every hub process knows about one (connection, endpoint class): whether the target
/// answers, so that while it is down no process calls it except for one probe at a time.
public struct CircuitState: Hashable, Sendable, Codable {
    public enum Phase: String, Hashable, Sendable, Codable, CaseIterable {
        /// Calls go through; `failures` counts the target-down answers in a row.
        case closed
        /// Calls are refused without sending until `probeAt`.
        case open
        /// One probe is on its way; the others wait for its answer until `probeAt` (after which a
        /// probe whose process died no longer holds the way).
        case halfOpen = "half-open"
    }

    public var phase: Phase
    /// Target-down answers in a row (closed), or since the circuit opened.
    public var failures: Int
    /// When this phase began.
    public var since: Date
    public var probeAt: Date?
    /// The last target-down answer, in the hub's words (status or transport failure, no body).
    public var lastError: String?
    /// Probes sent since the circuit last closed.
    public var probes: Int

    public init(phase: Phase, failures: Int, since: Date, probeAt: Date? = nil, lastError: String? = nil, probes: Int = 0) {
        self.phase = phase
        self.failures = failures
        self.since = since
        self.probeAt = probeAt
        self.lastError = lastError
        self.probes = probes
    }

    public static func closed(at now: Date) -> CircuitState { CircuitState(phase: .closed, failures: 0, since: now) }
}

/// Circuit breakers every process shares: one state per key (`<connection>:<endpoint class>`),
/// read and written in one transaction, as rate budgets are.
public protocol CircuitBreakerStore: Sendable {
    /// Reads the key's state (nil if never recorded), stores what `decide` returns (nil leaves it
    /// as it was) and returns `decide`'s result, all in one transaction.
    func updateCircuit<T: Sendable>(
        _ key: String, _ decide: @Sendable (CircuitState?) -> (state: CircuitState?, result: T)
    ) async throws -> T
    /// Every recorded state whose key begins with `prefix` (`""` for all), by key.
    func circuits(prefix: String) async throws -> [String: CircuitState]
}
