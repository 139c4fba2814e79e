import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient
import KopruStore
import Synchronization
import Testing

@testable import KopruEngine

/// A clock the test moves.
final class TestClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_790_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A target whose answers the test sets, counting what reaches it.
final class ScriptedTarget: HTTPTransport {
    enum Answer: Sendable {
        case status(Int)
        case noAnswer
    }

    private let state = Mutex((answer: Answer.status(200), received: 0))
    func answer(_ answer: Answer) { state.withLock { $0.answer = answer } }
    var received: Int { state.withLock { $0.received } }

    struct Dropped: Error {}

    func send(_ request: OutboundRequest) async throws -> InboundResponse {
        let answer = state.withLock { state in
            state.received += 1
            return state.answer
        }
        switch answer {
        case .status(let status): return InboundResponse(status: status)
        case .noAnswer: throw Dropped()
        }
    }
}

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let store = MemoryStore()
    let clock = TestClock()
    let target = ScriptedTarget()
    let limits = EndpointLimits(fallback: EndpointClass(name: "default", limit: nil) { _, _ in true })

    /// One hub process's view: its own breakers (and their memory) over the shared store.
    func process(failures: Int = 3, probeSeconds: Double = 60) -> MiddlewareTransport {
        let clock = self.clock
        let breakers = CircuitBreakers(store: store, now: { clock.now })
        return MiddlewareTransport(
            target,
            middleware: [
                CircuitBreakerMiddleware(
                    breakers: breakers, connection: "erp", limits: limits,
                    policy: BreakerPolicy(failures: failures, probeInterval: .milliseconds(Int64(probeSeconds * 1000))))
            ])
    }

    let request = OutboundRequest(method: .post, url: URL(string: "http://127.0.0.1:1/api/v2/orders")!)

    /// What the connector sees: an answer's status, or the breaker's refusal with its delay.
    enum Seen: Equatable {
        case status(Int)
        case held(seconds: Int)
        case noAnswer
    }

    func call(_ transport: MiddlewareTransport) async -> Seen {
        do {
            return .status(try await transport.exchange(request).status)
        } catch {
            if case .unavailable(let after) = error.disposition { return .held(seconds: Int(after.seconds.rounded(.down))) }
            return .noAnswer
        }
    }

    func circuit() async throws -> CircuitState? { try await store.circuits(prefix: "erp:")["erp:default"] }

    @Test("opens after its threshold of target-down answers in a row, sends nothing while open, probes once per interval, closes on the probe's success")
    func opensProbesCloses() async throws {
        let hub = process(failures: 3, probeSeconds: 60)
        target.answer(.status(503))
        for _ in 1...3 { #expect(await call(hub) == .status(503)) }
        #expect(try await circuit()?.phase == .open, "opened at the threshold")
        for _ in 1...20 {
            guard case .held(let seconds) = await call(hub) else { Issue.record("an open circuit sent a request"); return }
            #expect((59...62).contains(seconds), "deferred to the probe time (\(seconds) s)")
        }
        #expect(target.received == 3, "nothing sent while open")

        clock.advance(30)
        #expect(await call(hub) != .status(503))
        #expect(target.received == 3, "still open half-way to the probe")

        clock.advance(31)
        async let first = call(hub)
        async let second = call(hub)
        let answers = await [first, second]
        #expect(answers.filter { $0 == .status(503) }.count == 1, "one probe, the other held: \(answers)")
        #expect(target.received == 4)
        #expect(try await circuit()?.phase == .open, "a failed probe reopens it")
        #expect(try await circuit()?.probes == 1)

        clock.advance(61)
        target.answer(.status(200))
        #expect(await call(hub) == .status(200), "the probe")
        #expect(try await circuit()?.phase == .closed, "its success closes it")
        for _ in 1...10 { #expect(await call(hub) == .status(200)) }
        #expect(target.received == 15, "every call after the close goes through")

        let events = try await store.events(EventFilter(kind: "circuit", limit: 10))
        #expect(events.map(\.message).contains { $0.hasPrefix("circuit open") && $0.contains("3 target-down answers in a row") })
        #expect(events.map(\.message).contains { $0.hasPrefix("circuit closed") && $0.contains("2 probe(s)") }, "\(events.map(\.message))")
    }

    @Test("only target-down answers count: a 4xx, a 429 or a success in between breaks the run; no answer at all counts")
    func whatCountsAsDown() async throws {
        let hub = process(failures: 3)
        for answer in [ScriptedTarget.Answer.status(502), .status(504), .status(404), .status(500), .status(500), .status(429), .status(503)] {
            target.answer(answer)
            _ = await call(hub)
        }
        #expect(try await circuit()?.phase == .closed)
        #expect(try await circuit()?.failures == 1, "the 404 and the 429 showed the target up")
        target.answer(.noAnswer)
        #expect(await call(hub) == .noAnswer)
        #expect(await call(hub) == .noAnswer)
        #expect(try await circuit()?.phase == .open, "dropped connections are the target being down")
        #expect(try await circuit()?.lastError?.contains("no answer") == true)
    }

    @Test("a circuit one process opened holds another's calls within its refresh, and the two share one probe")
    func sharedAcrossProcesses() async throws {
        let a = process(failures: 3)
        let b = process(failures: 3)
        #expect(await call(b) == .status(200), "b knows the circuit closed")
        target.answer(.status(503))
        for _ in 1...3 { _ = await call(a) }
        #expect(try await circuit()?.phase == .open)
        clock.advance(2.5)
        guard case .held = await call(b) else {
            Issue.record("b called a target a's circuit holds")
            return
        }
        #expect(target.received == 4)
        clock.advance(60)
        // Both processes reach the probe time together: the store lets one of them probe.
        async let fromA = call(a)
        async let fromB = call(b)
        let answers = await [fromA, fromB]
        #expect(answers.filter { $0 == .status(503) }.count == 1, "one probe between the two: \(answers)")
        #expect(target.received == 5)
        #expect(try await circuit()?.phase == .open, "the failed probe reopened it for both")
        clock.advance(61)
        target.answer(.status(200))
        #expect(await call(b) == .status(200), "b's probe")
        #expect(await call(a) == .status(200), "a sees the circuit b's probe closed")
        #expect(try await circuit()?.phase == .closed)
    }

    @Test("a probe's late failure does not reopen a circuit another call's success has closed")
    func lateProbeFailure() async throws {
        let clock = self.clock
        let breakers = CircuitBreakers(store: store, now: { clock.now })
        _ = try await store.updateCircuit("erp:default") { _ in (CircuitState.closed(at: clock.now), ()) }
        try await breakers.record(
            "erp:default", down: "HTTP 503", probe: true, policy: BreakerPolicy(failures: 3), connection: "erp", endpoint: "default")
        #expect(try await circuit()?.phase == .closed, "one failure of a new run")
        #expect(try await circuit()?.failures == 1)
    }

    @Test("a refused call is deferred without spending an attempt, and is no uncertain outcome")
    func refusalDefersTheJob() {
        let refusal = ConnectorError.unavailable("held", retryAfter: .seconds(30))
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let (outcome, _) = FailureClassification().outcome(for: refusal, attempt: 12, policy: RetryPolicy(base: .seconds(1), cap: .seconds(60), maxAttempts: 12), now: now)
        guard case .reschedule(let at, let reason) = outcome else {
            Issue.record("expected a reschedule, got \(outcome)")
            return
        }
        #expect(at == now.addingTimeInterval(30))
        #expect(reason.contains("target down"))
        #expect(!FailureClassification().outcomeUnknown(refusal))
    }

    @Test("breaker settings are read with the defaults under them, and a bad value names its key")
    func settings() throws {
        #expect(try BreakerPolicy.from(settings: [:]) == BreakerPolicy(failures: 10, probeInterval: .seconds(60)))
        #expect(
            try BreakerPolicy.from(settings: ["breaker.failures": "4", "breaker.probeSeconds": "1.5"])
                == BreakerPolicy(failures: 4, probeInterval: .milliseconds(1500)))
        #expect(throws: ValidationError.self) { try BreakerPolicy.from(settings: ["breaker.failures": "0"]) }
        do {
            _ = try BreakerPolicy.from(settings: ["breaker.probeSeconds": "soon"])
            Issue.record("accepted")
        } catch {
            #expect(error.field == "breaker.probeSeconds")
        }
    }
}
