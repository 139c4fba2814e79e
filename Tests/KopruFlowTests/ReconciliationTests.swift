import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Issue 17.5: orders the poll can no longer see (written late with an `updated_at` past its
/// overlap, while webhooks were lost) are found by the reconciliation and exported, each once,
/// in one pass; and a source that has gone quiet on webhooks raises the silence alert.
/// Counted in the ERP sandbox's documents.
@Suite(.serialized) struct ReconciliationTests {
    @Test func ordersThePollMissedDuringAnHourOfLostWebhooksAreExportedByOneReconciliationAndTheSilenceAlertFires() async throws {
        let hub = try await FlowHarness(magentoSettings: ["webhook.silenceMinutes": "30"], overlap: .seconds(300), recheck: .zero)
        defer { Task { await hub.shutdown() } }
        hub.catalogue(3)
        let now = Date()
        // Twenty orders written during the hour without webhooks, committed late...
        var late: [Int] = []
        for index in 1...20 {
            var order = FlowHarness.order(index, at: now.addingTimeInterval(-1800 - Double(index) * 60))
            order.committed = false
            late.append(hub.magento.placeOrder(order).entityID)
        }
        for index in 21...25 { hub.magento.placeOrder(FlowHarness.order(index, at: now.addingTimeInterval(-900))) }
        // The last webhook arrived an hour ago.
        _ = try await hub.store.receiveWebhooks([
            IncomingWebhook(
                connection: FlowHarness.shop, provider: "magento2", deliveryKey: "last-before-the-silence", topic: "order",
                receivedAt: now.addingTimeInterval(-3700), body: Data("{}".utf8), jobs: [])
        ])
        try await hub.sync("orders")
        try await hub.run(until: "the visible orders exported") { hub.erp.documentsPerOrder.count == 5 }
        for id in late { hub.magento.commit(entityID: id) }
        try await hub.sync("orders")
        try await hub.run(until: "the poll done") { try await hub.unfinished() == 0 }
        #expect(hub.erp.documentsPerOrder.count == 5, "the late orders are past the poll's overlap")

        let flow = hub.catalog.flows.first { $0.name == "orders" }!
        _ = try await hub.store.enqueue([OrderReconcileJob.job(flow: flow)], now: Date())
        try await hub.run(until: "the reconciliation and its exports done") { try await hub.unfinished() == 0 }
        #expect(hub.erp.documentsPerOrder.count == 25, "every missed order exported by one reconciliation")
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
        let report = try #require(try await hub.store.events(EventFilter(kind: "reconciliation", limit: 5)).first)
        #expect(report.details["missing"] == "20", "\(report.message)")
        // The five the poll exported carry the hub's note since, which moved their updated_at
        // into the last ten minutes: those are left to the poll.
        let alerts = try await hub.store.events(EventFilter(minimumLevel: .critical, kind: "alert", limit: 5))
        #expect(alerts.count == 1 && alerts.first?.details["alert"] == "webhook_silence", "\(alerts.map(\.message))")

        // A second pass finds nothing missing; a webhook just now silences the alert.
        _ = try await hub.store.receiveWebhooks([
            IncomingWebhook(
                connection: FlowHarness.shop, provider: "magento2", deliveryKey: "first-after", topic: "order", receivedAt: Date(),
                body: Data("{}".utf8), jobs: [])
        ])
        _ = try await hub.store.enqueue([OrderReconcileJob.job(flow: flow)], now: Date())
        try await hub.run(until: "the second reconciliation done") { try await hub.unfinished() == 0 }
        let second = try #require(try await hub.store.events(EventFilter(kind: "reconciliation", limit: 5)).first)
        #expect(second.details["missing"] == "0", "\(second.message)")
        #expect(try await hub.store.events(EventFilter(kind: "alert", limit: 5)).count == 1, "no alert while webhooks arrive")
        #expect(hub.erp.documentsPerOrder.count == 25)
    }
}
