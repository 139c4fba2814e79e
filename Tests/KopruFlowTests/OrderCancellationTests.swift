import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

@testable import ConnectorERPRest

/// Issue 17.4, events out of order: a cancellation seen before its order, or while its export
/// waits or is on the wire, leaves the order cancelled at the ERP (or never there), never
/// exported and left open; an older snapshot of an order read after a newer one is not news.
/// Counted in the ERP sandbox's own ledger and documents.
@Suite(.serialized) struct OrderCancellationTests {
    /// Cancelling ERP; its circuit kept closed through the injected 503s (a probe a minute would
    /// outlast the test).
    static let cancels = ["cancel": "post", "breaker.failures": "10000"]

    /// The ERP's order id for the Magento order `entityID`.
    static func number(_ hub: FlowHarness, _ entityID: Int) -> String { hub.magento.incrementID(entityID: entityID) ?? "" }

    @Test func anOrderFirstSeenCancelledIsNeverExportedAndAnOlderSnapshotOfItIsNotNews() async throws {
        let hub = try await FlowHarness(erpSettings: Self.cancels)
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        let placed = Date().addingTimeInterval(-600)
        let order = hub.magento.placeOrder(FlowHarness.order(1, at: placed))
        hub.magento.setState(entityID: order.entityID, state: "canceled", status: "canceled", at: placed.addingTimeInterval(60))
        try await hub.sync("orders")
        try await hub.run(until: "the first poll done") { try await hub.unfinished() == 0 }
        // A replica behind the primary serves the order as it was before the cancellation.
        hub.magento.setState(entityID: order.entityID, state: "processing", status: "processing", at: placed)
        try await hub.sync("orders", mode: "full")
        try await hub.run(until: "the full poll done") { try await hub.unfinished() == 0 }

        #expect(try await hub.jobs(kind: OrderExportJob.kind).isEmpty, "the older snapshot was taken for news")
        #expect(try await hub.jobs(kind: OrderCancelJob.kind).isEmpty, "an order first seen cancelled has no export to follow")
        #expect(hub.erp.sandbox.ledger.entries(route: "orders.create").isEmpty)
        #expect(hub.erp.documentsPerOrder[Self.number(hub, order.entityID)] == nil)
    }

    @Test func aCancellationSeenWhileTheExportWaitsToRetrySendsNothing() async throws {
        let hub = try await FlowHarness(erpSettings: Self.cancels)
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        let placed = Date().addingTimeInterval(-600)
        let order = hub.magento.placeOrder(FlowHarness.order(1, at: placed))
        hub.erp.sandbox.setFaults(FaultPlan(serverErrorShare: 1), on: "orders.create")
        try await hub.sync("orders")
        try await hub.run(until: "the export failed twice") {
            try await hub.jobs(kind: OrderExportJob.kind).first.map { $0.attempts >= 2 } ?? false
        }
        hub.magento.setState(entityID: order.entityID, state: "canceled", status: "canceled", at: placed.addingTimeInterval(60))
        try await hub.sync("orders")
        try await hub.run(until: "the poll saw the cancellation") { try await !hub.jobs(kind: OrderCancelJob.kind).isEmpty }
        hub.erp.sandbox.clearFaults()
        try await hub.run(until: "export and cancellation ended") { try await hub.unfinished() == 0 }

        let export = try #require(try await hub.jobs(kind: OrderExportJob.kind).first)
        #expect(export.status == .succeeded)
        #expect(try await hub.jobs(kind: OrderCancelJob.kind, status: .succeeded).count == 1)
        #expect(hub.erp.documentsPerOrder[Self.number(hub, order.entityID)] == nil, "exported after it was cancelled")
        #expect(hub.erp.sandbox.ledger.entries(route: "orders.create").allSatisfy { $0.fault == "5xx" }, "sent after the cancellation")
        #expect(!hub.erp.sandbox.ledger.entries(route: "orders.get").isEmpty, "the unanswered attempts were checked on the ERP")
        #expect(hub.erp.sandbox.ledger.entries(route: "orders.cancel").isEmpty)
    }

    @Test func aCancellationSeenWhileALandedExportsAnswerWasLostCancelsTheERPsDocument() async throws {
        let hub = try await FlowHarness(erpSettings: Self.cancels)
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        let placed = Date().addingTimeInterval(-600)
        let order = hub.magento.placeOrder(FlowHarness.order(1, at: placed))
        let number = Self.number(hub, order.entityID)
        // The ERP books the order and the answer is lost; its lookup fails, so the export keeps
        // coming back to ask, until the cancellation is queued behind it.
        hub.erp.sandbox.setFaults(["orders.create": FaultPlan(commitThenFailShare: 1), "orders.get": FaultPlan(serverErrorShare: 1)])
        try await hub.sync("orders")
        try await hub.run(until: "the ERP booked the order and the hub does not know") {
            let export = try await hub.jobs(kind: OrderExportJob.kind).first
            return hub.erp.documentsPerOrder[number] == 1 && (export?.attempts ?? 0) >= 2
        }
        hub.magento.setState(entityID: order.entityID, state: "canceled", status: "canceled", at: placed.addingTimeInterval(60))
        try await hub.sync("orders")
        try await hub.run(until: "the cancellation queued") { try await !hub.jobs(kind: OrderCancelJob.kind).isEmpty }
        // The export's question to the ERP is still on the wire when the cancellation may run:
        // the cancellation must wait for the binding the answer brings.
        hub.erp.sandbox.clearFaults()
        hub.erp.sandbox.setFaults(FaultPlan(latencyMilliseconds: 400...400), on: "orders.get")
        try await hub.run(until: "export and cancellation ended") { try await hub.unfinished() == 0 }

        #expect(hub.erp.documentsPerOrder[number] == 1)
        #expect(hub.erp.cancelledOrders == [number], "the document the lost answer left open was not cancelled")
        #expect(hub.erp.sandbox.ledger.entries(route: "orders.cancel").filter { $0.effect == "cancelled" }.count == 1)
        #expect(try await hub.jobs(kind: OrderCancelJob.kind, status: .succeeded).count == 1)
        #expect(hub.magento.comments(entityID: order.entityID).contains { $0.hasPrefix("ERP'de iptal edildi") })
    }

    @Test func aCancellationMetByAnExportHeldAsPossiblyOnTheERPIsHeldAndTheExportsReplayCancelsWhatItFinds() async throws {
        let hub = try await FlowHarness(erpSettings: Self.cancels.merging(["retry.maxAttempts": "2"]) { $1 })
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        let placed = Date().addingTimeInterval(-600)
        let order = hub.magento.placeOrder(FlowHarness.order(1, at: placed))
        let number = Self.number(hub, order.entityID)
        hub.erp.sandbox.setFaults(["orders.create": FaultPlan(commitThenFailShare: 1), "orders.get": FaultPlan(serverErrorShare: 1)])
        try await hub.sync("orders")
        try await hub.run(until: "the export held") { try await hub.jobs(kind: OrderExportJob.kind, status: .dead).count == 1 }
        hub.magento.setState(entityID: order.entityID, state: "canceled", status: "canceled", at: placed.addingTimeInterval(60))
        try await hub.sync("orders")
        try await hub.run(until: "the cancellation held") { try await hub.jobs(kind: OrderCancelJob.kind, status: .dead).count == 1 }
        let held = try #require(try await hub.jobs(kind: OrderCancelJob.kind, status: .dead).first)
        #expect(held.lastError?.contains("possibly in the ERP") ?? false, "\(held.lastError ?? "")")

        // The ERP answers again; the operator replays the export: it finds the order there, binds
        // it, and a cancellation follows.
        hub.erp.sandbox.clearFaults()
        let export = try #require(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).first)
        _ = try await hub.store.replayDeadLetter(export.id, now: Date())
        try await hub.run(until: "the replay and its cancellation done") { try await hub.unfinished() == 0 }
        #expect(hub.erp.documentsPerOrder[number] == 1)
        #expect(hub.erp.cancelledOrders == [number], "the replay bound the ERP's document and nothing cancelled it")
    }

    @Test func anOrderTheReconciliationExportedAndTheChannelCancelledLaterIsCancelledOnTheERP() async throws {
        let hub = try await FlowHarness(erpSettings: Self.cancels, overlap: .seconds(300), recheck: .zero)
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        let now = Date()
        hub.magento.placeOrder(FlowHarness.order(1, at: now.addingTimeInterval(-900)))
        var late = FlowHarness.order(2, at: now.addingTimeInterval(-2400))
        late.committed = false
        let missed = hub.magento.placeOrder(late)
        try await hub.sync("orders")
        try await hub.run(until: "the first order exported") { hub.erp.documentsPerOrder.count == 1 }
        hub.magento.commit(entityID: missed.entityID)
        let flow = hub.catalog.flows.first { $0.name == "orders" }!
        _ = try await hub.store.enqueue([OrderReconcileJob.job(flow: flow)], now: Date())
        try await hub.run(until: "the missed order exported") { hub.erp.documentsPerOrder[missed.incrementID] == 1 }
        hub.magento.setState(entityID: missed.entityID, state: "canceled", status: "canceled")
        try await hub.sync("orders")
        try await hub.run(until: "the cancellation done") { try await hub.unfinished() == 0 && hub.erp.cancelledOrders.count == 1 }
        #expect(hub.erp.cancelledOrders == [missed.incrementID])
    }

    @Test func anExportedOrderCancelledLaterIsCancelledOnTheERPOrHeldForAnOperatorWhereItCannotBe() async throws {
        for cancels in [true, false] {
            let hub = try await FlowHarness(erpSettings: cancels ? Self.cancels : [:])
            defer { Task { await hub.shutdown() } }
            hub.catalogue(3)
            let placed = Date().addingTimeInterval(-600)
            let order = hub.magento.placeOrder(FlowHarness.order(1, at: placed))
            let number = Self.number(hub, order.entityID)
            try await hub.sync("orders")
            try await hub.run(until: "exported") { try await hub.unfinished() == 0 && hub.erp.documentsPerOrder[number] == 1 }
            hub.magento.setState(entityID: order.entityID, state: "canceled", status: "canceled", at: placed.addingTimeInterval(60))
            try await hub.sync("orders")
            try await hub.run(until: "the cancellation ended") { try await hub.unfinished() == 0 }

            let comments = hub.magento.comments(entityID: order.entityID)
            if cancels {
                #expect(hub.erp.cancelledOrders == [number])
                #expect(comments.contains { $0.hasPrefix("ERP'de iptal edildi") })
            } else {
                #expect(hub.erp.cancelledOrders.isEmpty)
                #expect(hub.erp.sandbox.ledger.entries(route: "orders.cancel").isEmpty)
                let held = try #require(try await hub.jobs(kind: OrderCancelJob.kind, status: .dead).first)
                #expect(held.lastError?.contains("SO-000001") ?? false, "\(held.lastError ?? "")")
                #expect(held.lastError?.contains("settings.cancel") ?? false)
                #expect(comments.contains { $0.hasPrefix("ERP'DE İPTAL EDİLMEDİ") }, "\(comments)")
            }
        }
    }

    @Test func theERPsCancelCallIsReadStrictly() async throws {
        let bench = ERPBench()
        #expect(await bench.post(ERPBench.goodOrder).status == 201)
        func cancel(_ document: String, _ body: JSON) async -> (status: Int, field: String, body: JSON?) {
            await bench.call("POST", "orders/\(document)/cancel", body.data)
        }
        #expect(await cancel("SO-000009", ["order_id": "1"]).status == 404)
        #expect(await cancel("SO-000001", [:]).field == "order_id")
        #expect(await cancel("SO-000001", ["order_id": 1]).field == "order_id", "a number is not the order's id")
        #expect(await cancel("SO-000001", ["order_id": "2"]).field == "order_id", "another order's document")
        #expect(bench.erp.cancelledOrders.isEmpty)
        let done = await cancel("SO-000001", ["order_id": "1", "reason": "cancelled in the sales channel"])
        #expect(done.status == 200 && done.body?["status"]?.string == "cancelled")
        #expect(await cancel("SO-000001", ["order_id": "1"]).status == 409)

        // The connector: the number in the body, the reference in the path, 409 as done.
        let connector = try bench.connector(["cancel": "post"])
        let order = ERPBench.order("1")
        await #expect(throws: ConnectorError.self) { try await connector.cancelOrder(order, reference: "SO-000001", idempotencyKey: "k") }
        do { try await connector.cancelOrder(order, reference: "SO-000001", idempotencyKey: "k") } catch let error as ConnectorError {
            guard case .alreadyDone = error.disposition else { Issue.record("\(error)"); return }
        }
        #expect(throws: ConnectorError.self) { try bench.connector(["cancel": "yes"]) }
        #expect(try bench.connector().cancelsOrders == false, "seed 000's contract has no cancel call")
    }
}
