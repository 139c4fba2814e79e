import Foundation
import KopruCore
import Synchronization

/// One simulated external system: its routes, the faults injected on them and the ledger of
/// everything it received. Serve it on loopback with `serve()`, or call it in-process through
/// `SandboxTransport`; both go through `process(_:)`.
public final class Sandbox: Sendable {
    public let name: String
    public let ledger = Ledger()
    private let router: SandboxRouter
    private let state: Mutex<(faults: [String: FaultPlan], random: SplitMix64)>
    private let limits = Mutex(RateLimitBook())
    private let busy = Atomic<Int64>(0)
    private let commitWindow = Mutex<(@Sendable (Ledger.Entry) async -> Void)?>(nil)

    /// Time spent answering requests (routing, faults, the system's own work), in seconds:
    /// benchmarks report it so the simulator's cost is not mistaken for the hub's.
    public var busySeconds: Double { Double(busy.load(ordering: .relaxed)) / 1e9 }
    /// What a refused request gets; the system's own words where it documents them.
    private let limitExceeded: @Sendable (TimeInterval) -> SandboxResponse
    /// Answers requests that match no route, in the system's own error shape.
    private let notFound: @Sendable (SandboxRequest) -> SandboxResponse

    public init(
        name: String, router: SandboxRouter, seed: UInt64 = 1,
        notFound: @escaping @Sendable (SandboxRequest) -> SandboxResponse = { _ in .json(404, ["error": "not found"]) },
        limitExceeded: @escaping @Sendable (TimeInterval) -> SandboxResponse = Sandbox.tooManyRequests
    ) {
        self.limitExceeded = limitExceeded
        self.name = name
        self.router = router
        self.state = Mutex((faults: [:], random: SplitMix64(seed: seed)))
        self.notFound = notFound
    }

    /// Faults for one route name, or `*` for every route; a route's own plan wins over `*`.
    public func setFaults(_ plan: FaultPlan, on route: String = "*") {
        state.withLock { $0.faults[route] = plan }
    }

    public func setFaults(_ plans: [String: FaultPlan]) {
        state.withLock { $0.faults.merge(plans) { $1 } }
    }

    public func clearFaults() { state.withLock { $0.faults = [:] } }

    /// Called after a request's work is done (the ledger has its effect) and before its answer
    /// leaves; the answer waits until it returns. Crash tests use it to kill the caller inside that
    /// window on purpose, instead of hoping a random kill lands there. Nil removes it.
    public func holdAnswers(_ hold: (@Sendable (Ledger.Entry) async -> Void)?) {
        commitWindow.withLock { $0 = hold }
    }

    /// Enforces `rule` over `routes` together, as the platform counts them (nil lifts it).
    /// Requests over it get 429 with `Retry-After` and are in the ledger with fault `limit`.
    public func setRateLimit(_ rule: RateLimitRule?, group: String, routes: [String]) {
        limits.withLock { book in
            book.rules[group] = rule
            book.accepted[group] = nil
            for route in routes { book.groupOfRoute[route] = rule == nil ? nil : group }
        }
    }

    public static func tooManyRequests(_ wait: TimeInterval) -> SandboxResponse {
        var response = SandboxResponse.json(429, ["message": "Too Many Requests"])
        response.headers["retry-after"] = "\(max(1, Int(wait.rounded(.up))))"
        return response
    }

    public var routeNames: [String] { router.routes.map(\.name) }

    public func process(_ incoming: SandboxRequest) async -> SandboxOutcome {
        let started = ContinuousClock.now
        defer {
            let spent = ContinuousClock.now - started
            busy.add(spent.components.seconds * 1_000_000_000 + spent.components.attoseconds / 1_000_000_000, ordering: .relaxed)
        }
        var request = incoming
        var entry = Ledger.Entry(
            sequence: 0, at: Date(), method: request.method, path: request.path, rawQuery: request.rawQuery,
            headers: request.headers, body: request.body)
        guard let (route, parameters) = router.match(method: request.method, path: request.path) else {
            let response =
                router.pathExists(request.path) ? SandboxResponse.json(405, ["message": "Method not allowed"]) : notFound(request)
            entry.status = response.status
            ledger.record(entry)
            return .respond(response)
        }
        request.parameters = parameters
        entry.route = route.name
        if let wait = limits.withLock({ $0.admit(route: route.name, at: entry.at) }) {
            entry.fault = "limit"
            entry.status = 429
            ledger.record(entry)
            return .respond(limitExceeded(wait))
        }
        let (draw, latency, retryAfter) = state.withLock { state -> (FaultPlan.Draw, Int?, Int) in
            let plan = state.faults[route.name] ?? state.faults["*"] ?? .none
            let latency = plan.latencyMilliseconds.map { range in
                range.lowerBound + Int(state.random.nextUnit() * Double(range.count))
            }
            return (plan.draw(&state.random), latency, plan.retryAfterSeconds)
        }
        if let latency, latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        switch draw {
        case .pass:
            let response = await route.handler(request)
            entry.status = response.status
            entry.businessKey = response.businessKey
            entry.effect = response.effect
            ledger.record(entry)
            if entry.effect != nil, let hold = commitWindow.withLock({ $0 }) { await hold(entry) }
            return .respond(response)
        case .serverError:
            entry.fault = "5xx"
            entry.status = 503
            ledger.record(entry)
            return .respond(.json(503, ["message": "Service Unavailable (injected)"]))
        case .rateLimited:
            entry.fault = "429"
            entry.status = 429
            ledger.record(entry)
            var response = SandboxResponse.json(429, ["message": "Too Many Requests (injected)"])
            response.headers["retry-after"] = "\(retryAfter)"
            return .respond(response)
        case .timeout:
            entry.fault = "timeout"
            ledger.record(entry)
            return .hang
        case .drop:
            entry.fault = "drop"
            ledger.record(entry)
            return .drop
        case .commitThenFail(let hang):
            let response = await route.handler(request)
            entry.businessKey = response.businessKey
            entry.effect = response.effect
            entry.fault = hang ? "commit-then-timeout" : "commit-then-5xx"
            entry.status = hang ? nil : 500
            ledger.record(entry)
            return hang ? .hang : .respond(.json(500, ["message": "Internal Server Error (injected after commit)"]))
        }
    }
}
