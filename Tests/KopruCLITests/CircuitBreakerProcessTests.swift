import Foundation
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Issue 17.1 with a real hub process and the ERP on a real socket: a target that is down is not
/// called except by one probe at a time, and what waited drains once it answers again.
@Suite("Circuit breaker, real process", .serialized)
struct CircuitBreakerProcessTests {
    /// The ERP's requests, in arrival order.
    func erpRequests(_ world: SandboxWorld) -> [Ledger.Entry] { world.erp.sandbox.ledger.all }

    @Test(
        "ERP answering 100 % 503, then 30 % 503 and 5 % committed-then-failed: the circuit opens within its threshold (5 answers, plus the calls already in flight), sends at most one probe per probe interval while open (2 s here, standing for the default minute), and then all 60 orders reach the ERP once each, none dead"
    )
    func downThenFlaky() async throws {
        let world = try await SandboxWorld(name: "breaker", erpSettings: ["breaker: {failures: 5, probeSeconds: 2}"])
        world.erp.sandbox.setFaults(FaultPlan(down: true))
        let orders = world.placeOrders(60)
        let worker = try world.worker()
        try await world.kickFlows()

        // Open: the store holds the circuit every process shares.
        var opened: CircuitState?
        let openDeadline = ContinuousClock.now + .seconds(60)
        while opened == nil, ContinuousClock.now < openDeadline {
            opened = try await world.store.circuits(prefix: "erp:")["erp:default"].flatMap { $0.phase == .closed ? nil : $0 }
            try await Task.sleep(for: .milliseconds(20))
        }
        let circuit = try #require(opened, "the circuit never opened; log:\n\(world.logText().suffix(2000))")
        let beforeOpen = erpRequests(world).filter { $0.at <= circuit.since }
        #expect(beforeOpen.count >= 5, "it opened on 5 target-down answers (\(beforeOpen.count) requests before)")
        #expect(beforeOpen.count <= 5 + 8, "5 answers and at most the connection's 8 calls in flight: \(beforeOpen.count)")

        // Down for about five probe intervals more.
        try await Task.sleep(for: .seconds(10))
        let downEnd = Date()
        // A call let through just before the circuit opened may arrive a moment after it did.
        let whileOpen = erpRequests(world).filter { $0.at > circuit.since.addingTimeInterval(1) && $0.at < downEnd }
        let window = downEnd.timeIntervalSince(circuit.since.addingTimeInterval(1))
        #expect(whileOpen.count >= 2, "it kept probing: \(whileOpen.count) requests in \(window) s")
        #expect(whileOpen.count <= Int(window / 2) + 1, "at most one probe per 2 s: \(whileOpen.map(\.at)) in \(window) s")
        let gaps = zip(whileOpen.dropFirst(), whileOpen).map { $0.at.timeIntervalSince($1.at) }
        // An interval apart, less what a loaded machine may delay one probe's arrival by.
        #expect(gaps.allSatisfy { $0 >= 1.5 }, "probes one at a time, an interval apart: gaps \(gaps)")
        let state = try await world.store.circuits(prefix: "erp:")["erp:default"]
        #expect(state != nil && state?.phase != .closed, "still open while the ERP is down")

        // Back, but flaky: every order reaches the ERP once.
        world.erp.sandbox.setFaults(FaultPlan(serverErrorShare: 0.3, commitThenFailShare: 0.05))
        let drainDeadline = ContinuousClock.now + .seconds(180)
        func exportsOpen() async throws -> Int {
            try await world.store.jobs(JobFilter(statuses: [.pending, .running], kind: "order.export", limit: 1000)).count
        }
        while ContinuousClock.now < drainDeadline {
            if world.erp.documentsPerOrder.count >= orders.count, try await exportsOpen() == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let documents = world.erp.documentsPerOrder
        #expect(documents.count == orders.count, "ERP orders: \(documents.count) of \(orders.count)")
        #expect(documents.values.allSatisfy { $0 == 1 }, "ERP doubles: \(documents.filter { $0.value > 1 })")
        let dead = try await world.store.jobs(JobFilter(statuses: [.dead], limit: 100))
        #expect(dead.isEmpty, "dead letters: \(dead.map { "\($0.kind): \($0.lastError ?? "")" })")
        let events = try await world.store.events(EventFilter(kind: "circuit", limit: 100))
        #expect(events.contains { $0.message.hasPrefix("circuit open") }, "the opening is in the connection's log")

        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()
        await world.shutdown()
    }
}
