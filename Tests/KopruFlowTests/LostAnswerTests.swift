import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Issue 14.1 end to end: the ERP saves the order and its answer is lost, on the last attempt;
/// the merchant must neither be told "ERP'YE GÖNDERİLEMEDİ" for an order the ERP has, nor get a
/// second ERP document when the dead letter is replayed. Counted in the ERP sandbox's ledger.
@Suite(.serialized) struct LostAnswerTests {
    @Test func anOrderSavedOnTheLastAttemptWhoseAnswerWasLostIsFoundNotDeadLettered() async throws {
        // Twenty lost answers in a row open the ERP's circuit: the final looks wait for its probe,
        // every 2 s here (60 s by default, a third of the time this test allows).
        let hub = try await FlowHarness(erpSettings: ["retry.maxAttempts": "1", "breaker.probeSeconds": "2"])
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        hub.erp.sandbox.setFaults(FaultPlan(commitThenFailShare: 1), on: "orders.create")
        let orders = (1...20).map { hub.magento.placeOrder(FlowHarness.order($0)) }
        try await hub.sync("orders")
        // Half the sends hang until the client's 1 s timeout. No more sends in flight than the HTTP
        // client's pool holds per host (8), or one could wait out its timeout in the pool, never
        // reach the ERP, and be rightly found absent and dead-lettered: a different story.
        try await hub.run(until: "every order noted on Magento", erpConcurrency: 8) {
            try await hub.unfinished() == 0 && orders.allSatisfy { !hub.magento.comments(entityID: $0.entityID).isEmpty }
        }
        #expect(hub.erp.documentsPerOrder.count == 20 && hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
        for order in orders {
            #expect(hub.magento.comments(entityID: order.entityID).map { $0.prefix(16) } == ["ERP'ye aktarıldı"])
        }
        #expect(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).isEmpty)
        #expect(hub.erp.sandbox.ledger.entries(route: "orders.create").count == 20, "one send each: the last look sends nothing")
        let exports = try await hub.jobs(kind: OrderExportJob.kind, status: .succeeded)
        #expect(exports.count == 20 && exports.allSatisfy { $0.attempts == 2 }, "the one attempt, then the final look")
    }

    @Test func aReplayAfterAnUncheckableLastAttemptAsksTheERPBeforeSendingAgain() async throws {
        let hub = try await FlowHarness(erpSettings: ["retry.maxAttempts": "2"])
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        hub.erp.sandbox.setFaults([
            "orders.create": FaultPlan(commitThenFailShare: 1), "orders.get": FaultPlan(serverErrorShare: 1),
        ])
        let order = hub.magento.placeOrder(FlowHarness.order(1))
        try await hub.sync("orders")
        try await hub.run(until: "the export is a dead letter") { try await hub.jobs(kind: OrderExportJob.kind, status: .dead).count == 1 }
        let dead = try #require(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).first)
        #expect(dead.outcomeUncertain)
        #expect(dead.lastError?.contains("could not ask the target whether it landed") ?? false, "\(dead.lastError ?? "")")
        #expect(hub.erp.documentsPerOrder[order.incrementID] == 1)
        // The order may well be in the ERP: the merchant is not told it was not sent.
        try await hub.run(until: "the merchant told") { !hub.magento.comments(entityID: order.entityID).isEmpty }
        #expect(hub.magento.comments(entityID: order.entityID).allSatisfy { $0.hasPrefix("ERP'YE ULAŞTIĞI BİLİNMİYOR") })

        // The ERP answers again; the operator replays the dead letter.
        hub.erp.sandbox.clearFaults()
        _ = try await hub.store.replayDeadLetter(dead.id, now: Date())
        try await hub.run(until: "the replay done and noted") {
            try await hub.unfinished() == 0
                && hub.magento.comments(entityID: order.entityID).contains { $0.hasPrefix("ERP'ye aktarıldı") }
        }
        #expect(hub.erp.documentsPerOrder[order.incrementID] == 1, "the replay sent the order a second time")
        #expect(try await hub.store.binding(connection: FlowHarness.erpID, entity: "order", internalID: "shop:\(order.incrementID)") != nil)
    }
}
