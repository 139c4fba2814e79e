import CoreMetrics
import Foundation
import KopruConnectors
import KopruCore
import KopruHTTPClient
import KopruStore
import Logging
import Synchronization

/// When a connection's target counts as down, and how often it is probed while it is.
public struct BreakerPolicy: Sendable, Hashable {
    /// Target-down answers in a row that open the circuit. Ten: a target failing three calls in
    /// ten still gets its calls (retries carry those), one failing them all stops in ten.
    public var failures: Int
    /// While open, at most one probe per this long.
    public var probeInterval: Duration

    public init(failures: Int = 10, probeInterval: Duration = .seconds(60)) {
        self.failures = failures
        self.probeInterval = probeInterval
    }

    public static let settingKeys = ["breaker.failures", "breaker.probeSeconds"]

    /// The connection's `breaker.*` settings over the defaults. Throws naming the key, so a bad
    /// value is refused when the connection is saved.
    public static func from(settings: [String: String]) throws(ValidationError) -> BreakerPolicy {
        var policy = BreakerPolicy()
        if let text = settings["breaker.failures"] {
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...10_000).contains(value) else {
                throw ValidationError(field: "breaker.failures", rule: .format, message: "must be a whole number from 1 to 10000")
            }
            policy.failures = value
        }
        if let text = settings["breaker.probeSeconds"] {
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), (0.1...86_400).contains(value) else {
                throw ValidationError(field: "breaker.probeSeconds", rule: .format, message: "must be a number of seconds from 0.1 to 86400")
            }
            policy.probeInterval = .milliseconds(Int64((value * 1000).rounded()))
        }
        return policy
    }
}

/// The circuit breakers of one hub process: the shared states in the store, and what this
/// process last knew of each, so that a call to a healthy target costs no store access. A
/// closed circuit is re-read from the store at most every `refresh`, so a circuit another
/// process opened stops this one's calls within that time (or at its own first failure).
public final class CircuitBreakers: Sendable {
    struct Known: Sendable {
        var state: CircuitState
        var readAt: Date
    }

    let store: any Store
    let refresh: TimeInterval
    let now: @Sendable () -> Date
    let logger: Logger
    private let known = Mutex<[String: Known]>([:])

    public init(
        store: any Store, refresh: TimeInterval = 2, logger: Logger = Logger(label: "kopru.circuit"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.refresh = refresh
        self.logger = logger
        self.now = now
    }

    /// What to do with one request.
    enum Admission: Sendable, Equatable {
        case send
        /// This request is the one probe; its answer closes or reopens the circuit.
        case probe
        case refuse(until: Date, state: CircuitState)
    }

    func admit(_ key: String, timeout: Duration) async throws -> Admission {
        let now = self.now()
        let local = known.withLock { $0[key] }
        // What this process knows, while it is fresh: another process's probe may close an open
        // circuit, so no state is trusted for longer than `refresh`.
        if let local, now.timeIntervalSince(local.readAt) < refresh {
            switch local.state.phase {
            case .closed:
                return .send
            case .open where local.state.probeAt.map({ now < $0 }) ?? false:
                return .refuse(until: local.state.probeAt!, state: local.state)
            case .halfOpen where local.state.probeAt.map({ now < $0 }) ?? false:
                return .refuse(until: min(local.state.probeAt!, now.addingTimeInterval(refresh)), state: local.state)
            default: break
            }
        }
        // A read first: only taking the probe needs a write.
        let stored = try await store.circuits(prefix: key)[key]
        guard let stored, stored.phase != .closed else {
            remember(key, stored ?? .closed(at: now), at: now)
            return .send
        }
        if let probeAt = stored.probeAt, now < probeAt {
            remember(key, stored, at: now)
            return .refuse(until: stored.phase == .open ? probeAt : min(probeAt, now.addingTimeInterval(refresh)), state: stored)
        }
        // Open past its probe time, or half-open: decide in the store, where every process does.
        let lease = timeout + .seconds(5)
        let (state, admission) = try await store.updateCircuit(key) { stored -> (state: CircuitState?, result: (CircuitState, Admission)) in
            guard let stored, stored.phase != .closed else { return (nil, (stored ?? .closed(at: now), .send)) }
            if let probeAt = stored.probeAt, now < probeAt {
                let until = stored.phase == .open ? probeAt : min(probeAt, now.addingTimeInterval(refresh))
                return (nil, (stored, .refuse(until: until, state: stored)))
            }
            var probing = stored
            probing.phase = .halfOpen
            probing.probeAt = now.addingTimeInterval(lease.seconds)
            probing.probes += 1
            return (probing, (probing, .probe))
        }
        remember(key, state, at: now)
        return admission
    }

    /// Records an answer (or its absence). Only what changes the shared state reaches the store.
    func record(_ key: String, down: String?, probe: Bool, policy: BreakerPolicy, connection: ConnectionID, endpoint: String) async throws {
        let now = self.now()
        let local = known.withLock { $0[key]?.state }
        guard down != nil || probe || (local.map { $0.phase != .closed || $0.failures > 0 } ?? false) else { return }
        let (state, change) = try await store.updateCircuit(key) { stored -> (state: CircuitState?, result: (CircuitState, Change?)) in
            let current = stored ?? .closed(at: now)
            guard let down else {
                guard current.phase != .closed || current.failures > 0 else { return (nil, (current, nil)) }
                let closed = CircuitState.closed(at: now)
                return (closed, (closed, current.phase == .closed ? nil : .closed(after: current)))
            }
            var next = current
            next.failures += 1
            next.lastError = down
            // A probe's failure reopens only the circuit it probed: if another call's success has
            // closed it meanwhile, this is one failure of a run like any other.
            if (probe && current.phase == .halfOpen) || (current.phase == .closed && next.failures >= policy.failures) {
                next.phase = .open
                next.probeAt = now.addingTimeInterval(policy.probeInterval.seconds)
                if current.phase == .closed {
                    next.since = now
                    next.probes = 0
                    return (next, (next, .opened))
                }
            }
            return (next, (next, nil))
        }
        remember(key, state, at: now)
        guard let change else { return }
        let dimensions = [("connection", connection.rawValue), ("endpoint", endpoint)]
        let message: String
        let level: EventLevel
        switch change {
        case .opened:
            level = .error
            message =
                "circuit open: \(endpoint) calls of \(connection) stopped after \(state.failures) target-down answers in a row (last: \(down ?? "")); one probe every \(Int(policy.probeInterval.seconds.rounded())) s until it answers"
            Counter(label: "kopru_circuit_opened_total", dimensions: dimensions).increment()
            logger.error("\(message)")
        case .closed(let after):
            level = .notice
            message =
                "circuit closed: \(connection) answers \(endpoint) calls again, after \(Int(now.timeIntervalSince(after.since).rounded())) s and \(after.probes) probe(s)"
            logger.notice("\(message)")
        }
        try? await store.append([
            EventRecord(
                at: now, level: level, kind: "circuit", connection: connection, subject: "circuit:\(key)", message: message,
                details: ["endpoint": endpoint, "phase": state.phase.rawValue, "failures": "\(state.failures)"])
        ])
    }

    enum Change {
        case opened
        case closed(after: CircuitState)
    }

    private func remember(_ key: String, _ state: CircuitState, at now: Date) {
        known.withLock { $0[key] = Known(state: state, readAt: now) }
    }
}

/// Puts every request of one connection through its endpoint class's circuit: refused without
/// sending while the class is open (the job is deferred, no attempt spent), one probe at a time
/// once the probe time has come. A 500, 502, 503 or 504, or no answer at all, is a target-down
/// answer; anything else, a 4xx included, shows the target is up.
public final class CircuitBreakerMiddleware: HTTPMiddleware {
    let breakers: CircuitBreakers
    let connection: ConnectionID
    let limits: EndpointLimits
    let policy: BreakerPolicy

    public init(breakers: CircuitBreakers, connection: ConnectionID, limits: EndpointLimits, policy: BreakerPolicy) {
        self.breakers = breakers
        self.connection = connection
        self.limits = limits
        self.policy = policy
    }

    static let downStatuses: Set<Int> = [500, 502, 503, 504]

    public func handle(
        _ request: OutboundRequest, next: @Sendable (OutboundRequest) async throws -> InboundResponse
    ) async throws -> InboundResponse {
        let endpoint = limits.classify(method: request.method, path: request.url.path).name
        let key = "\(connection.rawValue):\(endpoint)"
        let admission: CircuitBreakers.Admission
        do { admission = try await breakers.admit(key, timeout: request.timeout) } catch let error as CancellationError { throw error } catch {
            throw ConnectorError.storeUnreadable("circuit", key: key)
        }
        if case .refuse(let until, let state) = admission {
            Counter(label: "kopru_circuit_refused_total", dimensions: [("connection", connection.rawValue), ("endpoint", endpoint)]).increment()
            // Spread the deferred jobs over a little time, so they do not all come back at once.
            let spread = Double.random(in: 0...min(2, policy.probeInterval.seconds / 10))
            let wait = max(0, until.timeIntervalSince(breakers.now())) + spread
            throw ConnectorError.unavailable(
                "\(connection)'s \(endpoint) calls are held: circuit \(state.phase.rawValue) after \(state.failures) target-down answers (last: \(state.lastError ?? "none"))",
                retryAfter: .milliseconds(Int64((wait * 1000).rounded(.up))))
        }
        let probe = admission == .probe
        let response: InboundResponse
        do {
            response = try await next(request)
        } catch let error as ConnectorError {
            // A refusal inside the chain (a spent rate budget) says nothing about the target; a
            // probe refused so leaves the way to the next one when its time runs out.
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            try? await breakers.record(
                key, down: "no answer (\(type(of: error)))", probe: probe, policy: policy, connection: connection, endpoint: endpoint)
            throw error
        }
        let down = Self.downStatuses.contains(response.status) ? "HTTP \(response.status)" : nil
        try? await breakers.record(key, down: down, probe: probe, policy: policy, connection: connection, endpoint: endpoint)
        return response
    }
}

extension ConnectorError {
    /// A middleware could not read its shared state (a circuit, a rate budget) because the store
    /// did not answer: nothing was sent, and the job runs again soon without spending an attempt.
    static func storeUnreadable(_ what: String, key: String) -> ConnectorError {
        .unavailable("the \(what) \(key) could not be read from the store; nothing was sent", retryAfter: .seconds(2))
    }
}
