import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Orders through a faulty ERP arrive exactly once however the ERP can be asked: by its
/// lookup, by its idempotency keys, or both; and an ERP that offers neither gets its ambiguous
/// orders held for an operator, never guessed.
@Suite(.serialized) struct ERPExactlyOnceFlowTests {
    struct Profile: Sendable, CustomTestStringConvertible {
        var name: String
        var settings: [String: String]
        var honoursKey: Bool
        var repeatAnswer = ERPSandbox.RepeatAnswer.firstRecord
        var lookup = ERPSandbox.OrderLookup.record
        var testDescription: String { name }
    }

    static let profiles = [
        Profile(name: "keys honoured, no lookup", settings: ["lookup": "none", "idempotency": "honoured"], honoursKey: true),
        Profile(
            name: "keys answered 409, no lookup", settings: ["lookup": "none", "idempotency": "honoured"], honoursKey: true,
            repeatAnswer: .conflict),
        Profile(name: "keys honoured and a record lookup", settings: ["idempotency": "honoured"], honoursKey: true),
        Profile(name: "keys ignored, record lookup", settings: [:], honoursKey: false),
        Profile(name: "keys ignored, search lookup", settings: ["lookup": "search"], honoursKey: false, lookup: .search),
    ]

    @Test(arguments: profiles)
    func ordersThroughAFaultyERPArriveExactlyOnce(profile: Profile) async throws {
        let hub = try await FlowHarness(
            erpSettings: profile.settings,
            configureERP: {
                $0.honoursIdempotencyKey = profile.honoursKey
                $0.repeatAnswer = profile.repeatAnswer
                $0.orderLookup = profile.lookup
            })
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        hub.erp.sandbox.setFaults(FaultPlan(serverErrorShare: 0.2, timeoutShare: 0.05, commitThenFailShare: 0.15), on: "orders.create")
        for index in 1...120 { hub.magento.placeOrder(FlowHarness.order(index)) }
        try await hub.sync("orders")
        try await hub.run(until: "120 orders exported", timeout: .seconds(180)) {
            try await hub.jobs(kind: OrderExportJob.kind, status: .succeeded).count == 120
        }
        #expect(hub.erp.documentsPerOrder.count == 120)
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 }, "doubles: \(hub.erp.documentsPerOrder.filter { $0.value > 1 })")
        let posts = hub.erp.sandbox.ledger.entries(route: "orders.create")
        #expect(posts.filter { $0.fault?.hasPrefix("commit-then") ?? false }.count > 5, "answers were lost after the ERP committed")
        // The key is on every POST, and it is the same for every attempt at one order.
        #expect(posts.allSatisfy { $0.headers["idempotency-key"]?.hasPrefix("erp:") ?? false })
        var keys: [String: Set<String>] = [:]
        for post in posts { keys[(try? JSON.parse(post.body))?["order_id"]?.string ?? "", default: []].insert(post.headers["idempotency-key"] ?? "") }
        #expect(keys.values.allSatisfy { $0.count == 1 })
        if profile.honoursKey && profile.settings["lookup"] == "none" {
            #expect(hub.erp.sandbox.ledger.entries(route: "orders.get").isEmpty, "no lookup is configured, none is asked")
            #expect(posts.contains { $0.effect == "repeat" || $0.effect == "duplicate" }, "repeats were answered by the key")
        }
        #expect(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).isEmpty)
    }

    @Test func anERPWithNeitherLookupNorKeysHoldsAmbiguousOrdersForAnOperatorAndSendsNoneTwice() async throws {
        let hub = try await FlowHarness(erpSettings: ["lookup": "none"])
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        hub.erp.sandbox.setFaults(FaultPlan(serverErrorShare: 0.2, commitThenFailShare: 0.2), on: "orders.create")
        for index in 1...60 { hub.magento.placeOrder(FlowHarness.order(index)) }
        try await hub.sync("orders")
        try await hub.run(until: "every export exported or held") {
            let done = try await hub.jobs(kind: OrderExportJob.kind, status: .succeeded).count
            let held = try await hub.jobs(kind: OrderExportJob.kind, status: .dead).count
            return done + held == 60
        }
        let held = try await hub.jobs(kind: OrderExportJob.kind, status: .dead)
        #expect(held.count > 5)
        #expect(held.allSatisfy { $0.lastError?.contains("held for an operator") ?? false }, "\(held.first?.lastError ?? "")")
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 }, "nothing is sent twice")
        // Every order whose first answer was lost or failed is held, whether or not it landed.
        let posts = hub.erp.sandbox.ledger.entries(route: "orders.create")
        #expect(posts.count == 60, "a held order is never posted again")
        #expect(hub.erp.sandbox.ledger.entries(route: "orders.get").isEmpty)
        // The merchant is told the order may be in the ERP, not that it was not sent.
        try await hub.run(until: "the held orders noted") { try await hub.unfinished() == 0 }
        let notes = hub.magento.orderIDs.flatMap { hub.magento.comments(entityID: $0) }
        #expect(notes.filter { $0.hasPrefix("ERP'YE ULAŞTIĞI BİLİNMİYOR") }.count == held.count, "\(notes.prefix(3))")
        #expect(!notes.contains { $0.hasPrefix("ERP'YE GÖNDERİLEMEDİ") })

        // The operator checks the ERP: an order it does not have is replayed as "not at the target"
        // and sent; one it has, replayed plainly, is held again rather than sent twice.
        hub.erp.sandbox.clearFaults()
        let orderOf = { (job: Job) in (try? job.decodePayload(OrderExportJob.Payload.self))?.order.source.externalNumber ?? "" }
        let absent = try #require(held.first { hub.erp.documentsPerOrder[orderOf($0)] == nil }, "some held order never landed")
        let landed = try #require(held.first { hub.erp.documentsPerOrder[orderOf($0)] == 1 }, "some held order did land")
        _ = try await hub.store.replayDeadLetter(absent.id, now: Date(), checkedAbsent: true)
        _ = try await hub.store.replayDeadLetter(landed.id, now: Date())
        try await hub.run(until: "both replays ended") {
            let sent = try await hub.store.job(absent.id)?.status
            let again = try await hub.store.job(landed.id)?.status
            return sent == .succeeded && again == .dead
        }
        #expect(hub.erp.documentsPerOrder[orderOf(absent)] == 1)
        #expect(hub.erp.documentsPerOrder[orderOf(landed)] == 1)
    }
}
