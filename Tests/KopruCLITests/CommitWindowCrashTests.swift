import Foundation
import KopruCore
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Invariant 2 where it is hardest (issue 14): effects that are not idempotent — an ERP order, a
/// Magento comment, a Magento shipment, a Horoz label — with the hub process killed after the
/// target committed and before the hub heard of it. The sandbox holds its answer until the kill,
/// so every kill lands in that window, none by luck.
@Suite("Kills at the commit window", .serialized)
struct CommitWindowCrashTests {
    static let watched: [(system: String, route: String, effect: String)] = [
        ("erp", "orders.create", "created"), ("magento", "orders.comment", "commented"),
        ("magento", "orders.ship", "shipped"), ("horoz", "createBarcode", "created"),
    ]

    func arm(_ window: CommitWindow, _ world: SandboxWorld) {
        window.watch(world.erp.sandbox, as: "erp", effects: ["created"])
        window.watch(world.magento.sandbox, as: "magento", effects: ["commented", "shipped"])
        window.watch(world.horoz.sandbox, as: "horoz", effects: ["created"])
    }

    /// Every effect once, at every target, whatever was killed: counted in the targets' ledgers.
    func expectEachEffectOnce(_ world: SandboxWorld, _ orders: [(entityID: Int, incrementID: String)]) {
        let documents = world.erp.documentsPerOrder
        #expect(documents.count == orders.count, "ERP orders: \(documents.count) of \(orders.count)")
        #expect(documents.values.allSatisfy { $0 == 1 }, "ERP doubles: \(documents.filter { $0.value > 1 })")
        let created = world.horoz.sandbox.ledger.effectCounts(route: "createPaysSupplierShipping", effect: "created")
        #expect(created.count == orders.count && created.values.allSatisfy { $0 == 1 }, "Horoz shipment orders")
        let labels = world.horoz.sandbox.ledger.effectCounts(route: "createBarcode", effect: "created")
        #expect(labels.count == orders.count, "Horoz labels: \(labels.count)")
        #expect(labels.values.allSatisfy { $0 == 1 }, "labels made twice: \(labels.filter { $0.value > 1 })")
        let comments = world.magento.sandbox.ledger.effectCounts(route: "orders.comment", effect: "commented")
        let shipped = world.magento.sandbox.ledger.effectCounts(route: "orders.ship", effect: "shipped")
        for order in orders {
            #expect(comments[order.incrementID] == 1, "order \(order.incrementID) commented \(comments[order.incrementID] ?? 0) times")
            #expect(shipped[order.incrementID] == 1, "order \(order.incrementID) shipped \(shipped[order.incrementID] ?? 0) times")
            #expect(world.magento.trackingNumbers(entityID: order.entityID).count == 1)
            #expect(world.magento.comments(entityID: order.entityID).filter { $0.hasPrefix("ERP") }.count == 1, "the note about the ERP, once")
        }
    }

    func everythingDone(_ world: SandboxWorld, _ orders: [(entityID: Int, incrementID: String)]) async throws -> Bool {
        let counts = try await world.store.jobCounts()
        guard (counts[.pending] ?? 0) + (counts[.running] ?? 0) == 0 else { return false }
        return orders.allSatisfy { !world.magento.trackingNumbers(entityID: $0.entityID).isEmpty }
            && world.magento.sandbox.ledger.effectCounts(route: "orders.comment", effect: "commented").count >= orders.count
    }

    func progress(_ world: SandboxWorld, _ orders: [(entityID: Int, incrementID: String)]) async throws -> String {
        let jobs = try await world.store.jobs(JobFilter(statuses: [.pending, .running, .dead], limit: 10_000))
        let open = Dictionary(grouping: jobs, by: { "\($0.kind)/\($0.status.rawValue)" }).mapValues(\.count)
        let tracked = orders.filter { !world.magento.trackingNumbers(entityID: $0.entityID).isEmpty }.count
        let commented = world.magento.sandbox.ledger.effectCounts(route: "orders.comment", effect: "commented").count
        return "ERP \(world.erp.documentsPerOrder.count), commented \(commented), tracked \(tracked) of \(orders.count); open jobs \(open); "
            + "e.g. \(jobs.prefix(3).map { "\($0.kind) #\($0.id) \($0.lastError ?? "")" })"
    }

    @Test("1,000 orders, a SIGKILL in the commit window of an ERP order, a comment, a shipment or a label at least 50 times: each once")
    func killsInTheCommitWindow() async throws {
        let world = try await SandboxWorld(name: "commit-window")
        let orders = world.placeOrders(1_000)
        let window = CommitWindow(every: Dictionary(uniqueKeysWithValues: Self.watched.map { ("\($0.system):\($0.route)", 70) }))
        arm(window, world)
        var worker = try world.worker()
        var kills = 0
        // One poll reads every order and queues their exports with its completion; a poll that a
        // kill interrupts is reclaimed like any job. One more at the end, as a schedule would.
        try await world.kickFlows()
        let deadline = ContinuousClock.now + .seconds(600)
        // Kill at each held answer until the holds stop coming (the work past the last one is
        // small), then let a last worker drain.
        while kills < 200, ContinuousClock.now < deadline {
            // No hold for a while: the work may be done, or still starting up.
            guard await window.waitForHold(timeout: .seconds(20)) != nil else {
                if try await everythingDone(world, orders) { break } else { continue }
            }
            worker.signal(SIGKILL)
            _ = try await worker.waitForExit()
            kills += 1
            window.release()
            worker = try world.worker()
        }
        window.close()
        try await world.kickFlows()
        do {
            try await eventually("every order exported, commented, shipped and tracked", timeout: .seconds(300)) {
                try await everythingDone(world, orders)
            }
        } catch {
            Issue.record("\(error): \(try await progress(world, orders)); log: \(world.logText().suffix(3000))")
        }
        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()

        #expect(kills >= 50, "kills in the commit window: \(kills), per route \(window.heldPerRoute)")
        for watched in Self.watched {
            #expect(window.heldPerRoute["\(watched.system):\(watched.route)", default: 0] >= 10, "\(window.heldPerRoute)")
        }
        expectEachEffectOnce(world, orders)
        let dead = try await world.store.jobs(JobFilter(statuses: [.dead], limit: 100))
        #expect(dead.isEmpty, "dead letters: \(dead.map { "\($0.kind): \($0.lastError ?? "")" }.prefix(5))")
        // The restarted hub found what the killed one had sent, rather than sending it again.
        let found = try await world.store.events(EventFilter(kind: "export", limit: 100_000))
            .filter { $0.message.contains("after an unanswered attempt") }
        #expect(found.count >= 10, "recoveries by lookup: \(found.count)")
        await world.shutdown()
    }

    @Test("a worker stopped (SIGSTOP) past its lease mid-call, resumed after another took the job: one ERP order, one comment")
    func stoppedPastItsLease() async throws {
        let world = try await SandboxWorld(name: "sigstop")
        let orders = world.placeOrders(1)
        let window = CommitWindow(every: ["erp:orders.create": 1])
        window.watch(world.erp.sandbox, as: "erp", effects: ["created"])
        let firstLog = world.folder.appendingPathComponent("first-worker.log")
        let first = try world.worker(log: firstLog)
        try await world.kickFlows()
        try #require(await window.waitForHold(timeout: .seconds(60)) != nil, "the ERP order was never created")
        first.signal(SIGSTOP)
        window.close()  // the second worker's calls pass
        let second = try world.worker()
        try await eventually("the second worker exported and commented the order", timeout: .seconds(60)) {
            world.magento.sandbox.ledger.effectCounts(route: "orders.comment", effect: "commented").count == 1
        }
        first.signal(SIGCONT)
        // The first worker now gets its answer (or its timeout), and its completion is refused.
        try await eventually("the first worker's completion refused", timeout: .seconds(30)) {
            ((try? String(contentsOf: firstLog, encoding: .utf8)) ?? "").contains("lease lost before completion")
        }
        first.signal(SIGTERM)
        second.signal(SIGTERM)
        _ = try await first.waitForExit()
        _ = try await second.waitForExit()
        #expect(world.erp.documentsPerOrder.values.map { $0 } == [1])
        #expect(world.magento.sandbox.ledger.effectCounts(route: "orders.comment", effect: "commented") == [orders[0].incrementID: 1])
        let export = try #require(try await world.store.jobs(JobFilter(kind: "order.export", limit: 5)).first)
        #expect(export.status == .succeeded && export.outcomeUncertain)
        await world.shutdown()
    }
}
