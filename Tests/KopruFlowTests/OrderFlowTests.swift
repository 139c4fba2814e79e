import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Seed 000's first promise, kept: every Magento order reaches the ERP exactly once and the
/// merchant sees it on the order — through 5xx, timeouts, lost answers and an ERP outage.
@Suite(.serialized) struct OrderFlowTests {
    @Test func thousandOrdersThroughAFaultyERPArriveExactlyOnceAndAreCommented() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(10)
        // The ERP does not honour Idempotency-Key here: only the hub's reconciliation prevents doubles.
        hub.erp.sandbox.setFaults(FaultPlan(serverErrorShare: 0.30, timeoutShare: 0.10, commitThenFailShare: 0.05), on: "orders.create")
        var numbers: [Int: String] = [:]
        for index in 1...1000 { numbers[hub.magento.placeOrder(FlowHarness.order(index)).entityID] = hub.magento.incrementID(entityID: index) }
        try await hub.sync("orders")
        try await hub.run(until: "1,000 orders exported and commented", timeout: .seconds(240)) {
            try await hub.jobs(kind: OrderNoteJob.kind, status: .succeeded).count == 1000
        }
        let documents = hub.erp.documentsPerOrder
        #expect(documents.count == 1000)
        #expect(documents.values.allSatisfy { $0 == 1 }, "doubles: \(documents.filter { $0.value > 1 })")
        // The faults really happened, and some answers were lost after the ERP had committed.
        let ledger = hub.erp.sandbox.ledger.entries(route: "orders.create")
        #expect(ledger.filter { $0.fault == "5xx" }.count > 100)
        #expect(ledger.filter { $0.fault == "timeout" }.count > 30)
        let lostAfterCommit = ledger.filter { $0.fault?.hasPrefix("commit-then") ?? false }
        #expect(lostAfterCommit.count > 10)
        #expect(Set(ledger.filter { $0.effect == "created" }.compactMap(\.businessKey)).count == 1000)
        for id in hub.magento.orderIDs {
            let comments = hub.magento.comments(entityID: id)
            #expect(comments.count == 1, "order \(id): \(comments)")
            #expect(comments.first?.hasPrefix("ERP'ye aktarıldı (ref SO-") ?? false)
        }
        #expect(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).isEmpty)
        // Each export is bound to the ERP's document number, which the comment quotes.
        let first = try #require(try await hub.store.binding(connection: FlowHarness.erpID, entity: "order", internalID: "shop:\(numbers[1]!)"))
        #expect(hub.magento.comments(entityID: 1).first?.contains(first.externalID) ?? false)
    }

    @Test func anERPOutageDrainsWhenItComesBack() async throws {
        let hub = try await FlowHarness(erpSettings: ["breaker.failures": "10", "breaker.probeSeconds": "1"])
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        hub.erp.sandbox.setFaults(FaultPlan(down: true))
        for index in 1...60 { hub.magento.placeOrder(FlowHarness.order(index)) }
        try await hub.sync("orders")
        let processor = Task {
            try await hub.run(until: "everything drained", timeout: .seconds(120)) {
                try await hub.jobs(kind: OrderNoteJob.kind, status: .succeeded).count == 60
            }
        }
        // While the ERP is down, its circuit opens and the exports wait, calling it only to probe;
        // nothing is lost or dead. (A retry asks the ERP whether the order is there before
        // sending it again.)
        try await eventually("the ERP's circuit open") {
            try await hub.store.circuits(prefix: "\(FlowHarness.erpID):").values.contains { $0.phase != .closed }
        }
        // Calls let through before it opened (the ERP connection runs 32 at once) arrive first.
        try await Task.sleep(for: .seconds(1))
        let atOpening = hub.erp.sandbox.ledger.count
        try await Task.sleep(for: .seconds(3))
        // Without the circuit, 60 exports retrying every 20–300 ms make hundreds of calls here.
        #expect(hub.erp.sandbox.ledger.count - atOpening <= 3 + 8, "probes only, about one a second")
        #expect(hub.erp.orders.isEmpty)
        #expect(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).isEmpty)
        hub.erp.sandbox.clearFaults()
        try await processor.value
        #expect(hub.erp.documentsPerOrder.count == 60)
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
    }

    @Test func aPoisonOrderIsDeadLetteredWithTheERPsWordsAndDeliveredOnceAfterTheMappingIsFixed() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        hub.magento.setStock(sku: "TRM-500-SYH", quantity: 5)  // sold in the shop, unknown to the ERP under that code
        hub.magento.placeOrder(FlowHarness.order(1))
        let poison = hub.magento.placeOrder(FlowHarness.order(2, skus: ["TRM-500-SYH"]))
        try await hub.sync("orders")
        try await hub.run(until: "the poison order is dead and the merchant told") {
            try await hub.jobs(kind: OrderExportJob.kind, status: .dead).count == 1
                && hub.magento.comments(entityID: poison.entityID).count == 1
        }
        let dead = try #require(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).first)
        #expect(dead.lastError?.contains("Unknown product code 'TRM-500-SYH'") ?? false, "\(dead.lastError ?? "")")
        #expect(dead.attempts == 1, "a 422 is not retried")
        #expect(hub.magento.comments(entityID: poison.entityID).first?.hasPrefix("ERP'YE GÖNDERİLEMEDİ") ?? false)
        #expect(hub.erp.documentsPerOrder[poison.incrementID] == nil)

        // The merchant maps the shop's SKU to the ERP's product code, and replays.
        var erpConnection = try #require(try await hub.store.connection(FlowHarness.erpID))
        erpConnection.settings["skuMap.TRM-500-SYH"] = "SKU-0002"
        try await hub.store.saveConnection(erpConnection, now: Date())
        _ = try await hub.store.replayDeadLetter(dead.id, now: Date())
        try await hub.run(until: "the replayed order exported and commented") {
            hub.magento.comments(entityID: poison.entityID).count == 2
        }
        #expect(hub.erp.documentsPerOrder[poison.incrementID] == 1)
        let sent = try #require(hub.erp.orders.first { $0.orderID == poison.incrementID })
        #expect(sent.body["items"]?[0]?["sku"] == "SKU-0002")
        #expect(hub.magento.comments(entityID: poison.entityID).last?.hasPrefix("ERP'ye aktarıldı") ?? false)
        // Polling again changes nothing: the order is bound.
        try await hub.sync("orders")
        try await hub.run(until: "the queue is idle") { try await hub.unfinished() == 0 }
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
    }

    @Test func onlyPaidOrdersAreExportedAndAPaymentLaterExportsThem() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        var pending = FlowHarness.order(1)
        pending.state = "pending_payment"
        pending.status = "pending_payment"
        let waiting = hub.magento.placeOrder(pending)
        hub.magento.placeOrder(FlowHarness.order(2))
        try await hub.sync("orders")
        try await hub.run(until: "one order exported") { try await hub.unfinished() == 0 && hub.erp.orders.count == 1 }
        #expect(hub.erp.documentsPerOrder[waiting.incrementID] == nil)
        hub.magento.setState(entityID: waiting.entityID, state: "processing", status: "processing", at: Date().addingTimeInterval(2))
        try await hub.sync("orders")
        try await hub.run(until: "the paid order exported") { hub.erp.orders.count == 2 }
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
    }
}
