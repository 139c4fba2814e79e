import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// ERP list prices → Magento base prices through the channel's rule; only changes travel.
@Suite(.serialized) struct PriceFlowTests {
    static func sentSKUs(_ entries: some Sequence<Ledger.Entry>) -> [String] {
        entries.flatMap { entry in ((try? JSON.parse(entry.body))?["prices"]?.array ?? []).compactMap { $0["sku"]?.string } }
    }

    @Test func pricesReachMagentoThroughTheRuleAndOnlyChangesAreSentAgain() async throws {
        let hub = try await FlowHarness(magentoSettings: ["inputLimit": "20"])
        defer { Task { await hub.shutdown() } }
        hub.magento.configure { _, settings in settings.inputLimit = 20 }
        hub.catalogue(100)
        var prices: [String: Decimal] = [:]
        for index in 1...100 { prices[String(format: "SKU-%04d", index)] = Decimal(100 + index) }
        prices["SKU-0001"] = Decimal(string: "50")!
        prices["ERP-ONLY"] = Decimal(10)
        hub.erp.setPrices(prices)
        try await hub.sync("prices")
        try await hub.run(until: "prices pushed") { try await hub.unfinished() == 0 }
        // 101 × 1.15 = 116.15 → 116.90; 50 × 1.15 = 57.50 → under the minimum → 99.90.
        #expect(hub.magento.price(sku: "SKU-0001") == Decimal(string: "99.90"))
        #expect(hub.magento.price(sku: "SKU-0002") == Decimal(string: "117.90"))
        #expect(hub.magento.price(sku: "SKU-0100") == Decimal(string: "230.90"))
        let warnings = try await hub.store.events(EventFilter(minimumLevel: .warning, kind: "price"))
        #expect(warnings.first?.details["refused"] == "ERP-ONLY", "the unknown SKU is reported, the rest saved")
        let firstRun = hub.magento.sandbox.ledger.entries(route: "prices.base").count
        #expect(firstRun == 6, "101 prices in requests of 20")

        hub.erp.setPrices(["SKU-0050": 200])
        try await hub.sync("prices")
        try await hub.run(until: "delta") { try await hub.unfinished() == 0 }
        #expect(hub.magento.price(sku: "SKU-0050") == Decimal(string: "230.90"))
        let again = Self.sentSKUs(hub.magento.sandbox.ledger.entries(route: "prices.base").dropFirst(firstRun))
        #expect(again.sorted() == ["ERP-ONLY", "SKU-0050"], "only the change (and the refused SKU, tried each run)")
    }
}
