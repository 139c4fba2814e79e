import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Issue 6: sellable stock across channels, deltas that never resend, partial failures retried
/// alone, and rate limits kept (read back from the sandbox ledger's timestamps).
@Suite(.serialized) struct StockAtScaleTests {
    /// Quantities pushed to one SKU, in the order the store received them.
    static func pushes(_ sandbox: MagentoSandbox, sku: String) -> [Int] {
        sandbox.sandbox.ledger.all.filter { $0.status == 200 || $0.status == 202 }.flatMap { entry -> [Int] in
            let body = try? JSON.parse(entry.body)
            let rows = body?.array?.flatMap { $0["sourceItems"]?.array ?? [] } ?? body?["sourceItems"]?.array ?? []
            return rows.filter { $0["sku"]?.string == sku }.compactMap { $0["quantity"]?.int }
        }
    }

    @Test func sellableStockHoldsOpenOrdersAndBuffersAndTheLastUnitSoldTwiceLeavesBothChannelsAtZero() async throws {
        let hub = try await FlowHarness(
            magentoSettings: ["stock.mode": "source-items"], stockFlow: { $0.buffer = 1 },
            secondShop: FlowDefinition(
                name: "stock2", kind: .stock, source: FlowHarness.erpID, target: FlowHarness.shop2, skuMap: ["SKU-0003": "B-0003"]))
        defer { Task { await hub.shutdown() } }
        let second = try #require(hub.secondShop)
        hub.erp.setStock(["SKU-0001": 2, "SKU-0002": 10, "SKU-0003": 5])
        for sku in ["SKU-0001", "SKU-0002", "SKU-0003"] { hub.magento.setStock(sku: sku, quantity: 0) }
        for sku in ["SKU-0001", "SKU-0002", "B-0003"] { second.setStock(sku: sku, quantity: 0) }
        try await hub.sync("stock")
        try await hub.sync("stock2")
        try await hub.run(until: "first push") { try await hub.unfinished() == 0 }
        // Channel 1 holds one unit back; channel 2 knows SKU-0003 as B-0003.
        #expect(hub.magento.stock(sku: "SKU-0001")?.quantity == 1)
        #expect(hub.magento.stock(sku: "SKU-0003")?.quantity == 4)
        #expect(second.stock(sku: "SKU-0001")?.quantity == 2)
        #expect(second.stock(sku: "B-0003")?.quantity == 5)

        // An order for 2 × SKU-0003 on channel 1 that the ERP does not take yet: held, and both
        // channels drop at once (channel 2 under its own SKU), without an ERP read.
        hub.erp.sandbox.setFaults(FaultPlan(serverErrorShare: 1), on: "orders.create")
        hub.magento.placeOrder(FlowHarness.order(1, skus: ["SKU-0003", "SKU-0003"]).withQuantities([1, 1]))
        // The last unit of SKU-0001 sold on both channels at once. (Two unpaid orders first, so
        // the two stores' order numbers differ: the ERP knows orders by number.)
        for index in 1...2 {
            var unpaid = FlowHarness.order(10 + index)
            (unpaid.state, unpaid.status) = ("new", "pending")
            second.placeOrder(unpaid)
        }
        hub.magento.placeOrder(FlowHarness.order(2, skus: ["SKU-0001"]))
        second.placeOrder(FlowHarness.order(3, skus: ["SKU-0001"]))
        try await hub.sync("orders")
        try await hub.sync("orders2")
        try await hub.run(until: "both channels lowered") {
            hub.magento.stock(sku: "SKU-0001")?.quantity == 0 && second.stock(sku: "SKU-0001")?.quantity == 0
                && hub.magento.stock(sku: "SKU-0003")?.quantity == 2 && second.stock(sku: "B-0003")?.quantity == 3
        }
        // Nothing above what was sellable at the time: 2 on hand, then 1 held, then 2 held.
        // (The two orders' jobs may each send the same zero.)
        for (channel, first) in [(hub.magento, 1), (second, 2)] {
            let sent = Self.pushes(channel, sku: "SKU-0001")
            #expect(sent.first == first && sent.last == 0 && sent == sent.sorted(by: >), "pushed \(sent)")
        }

        // A full read while the orders are still held sends nothing new.
        let before = Self.pushes(hub.magento, sku: "SKU-0003").count + Self.pushes(second, sku: "B-0003").count
        try await hub.sync("stock")
        try await hub.sync("stock2")
        try await hub.run(until: "sync with held orders") {
            let synced = try await hub.jobs(kind: "sync.stock", status: .succeeded).count
            let pushing = try await hub.jobs(kind: StockPushJob.kind, status: .pending).count
            return synced == 4 && pushing == 0
        }
        #expect(Self.pushes(hub.magento, sku: "SKU-0003").count + Self.pushes(second, sku: "B-0003").count == before)

        // The ERP takes the orders and lowers its own stock; the holds are released, and the
        // next read gives the same sellable numbers from the new on-hand.
        hub.erp.sandbox.clearFaults()
        try await hub.run(until: "orders exported") { hub.erp.orders.count == 3 }
        hub.erp.setStock(["SKU-0001": 0, "SKU-0003": 3])
        try await hub.sync("stock")
        try await hub.sync("stock2")
        try await hub.run(until: "settled") { try await hub.unfinished() == 0 }
        #expect(hub.magento.stock(sku: "SKU-0001")?.quantity == 0)
        #expect(second.stock(sku: "SKU-0001")?.quantity == 0)
        #expect(hub.magento.stock(sku: "SKU-0003")?.quantity == 2)
        #expect(second.stock(sku: "B-0003")?.quantity == 3)
    }

    @Test func unchangedSKUsAreNeverSentAgainAndTheRunCountsAddUp() async throws {
        let hub = try await FlowHarness(magentoSettings: ["stock.mode": "bulk", "stock.bulkOperationSize": "100"])
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2_000)
        try await hub.sync("stock")
        try await hub.run(until: "first push") { try await hub.unfinished() == 0 }
        #expect(hub.magento.stockRowsApplied == 2_000)
        for _ in 1...2 {
            try await hub.sync("stock")
            try await hub.run(until: "nothing to send") { try await hub.unfinished() == 0 }
        }
        #expect(hub.magento.stockRowsApplied == 2_000, "two unchanged runs sent nothing")
        hub.erp.setStock(["SKU-0005": 1, "SKU-1500": 2])
        try await hub.sync("stock")
        try await hub.run(until: "delta") { try await hub.unfinished() == 0 }
        #expect(hub.magento.stockRowsApplied == 2_002)
        let runs = try await hub.store.syncRuns(target: FlowHarness.shop, limit: 10)
        #expect(runs.count == 4)
        #expect(runs.allSatisfy { $0.finished && $0.read == 2_000 })
        #expect(runs.map(\.confirmed) == [2, 0, 0, 2_000])
    }

    @Test func onlyTheItemsOfAFailedRequestAreSentAgain() async throws {
        let hub = try await FlowHarness(magentoSettings: ["stock.mode": "source-items", "inputLimit": "20"])
        defer { Task { await hub.shutdown() } }
        hub.magento.configure { _, settings in settings.inputLimit = 20 }
        hub.catalogue(1_000)
        hub.magento.sandbox.setFaults(FaultPlan(serverErrorShare: 0.3), on: "stock.source-items")
        try await hub.sync("stock")
        try await hub.run(until: "pushed through the faults") { try await hub.unfinished() == 0 }
        for index in 1...1_000 { #expect(hub.magento.stock(sku: String(format: "SKU-%04d", index))?.quantity == 10) }
        var applied: [String: Int] = [:]
        var failedRows = 0
        for entry in hub.magento.sandbox.ledger.entries(route: "stock.source-items") {
            let rows = (try? JSON.parse(entry.body))?["sourceItems"]?.array ?? []
            if entry.status == 200 {
                for row in rows { applied[row["sku"]!.string!, default: 0] += 1 }
            } else {
                failedRows += rows.count
            }
        }
        #expect(failedRows > 0, "faults happened")
        #expect(applied.count == 1_000 && applied.values.allSatisfy { $0 == 1 }, "each SKU applied once, none resent after it landed")
        let sent = hub.magento.sandbox.ledger.entries(route: "stock.source-items").count
        #expect(sent <= 50 + failedRows / 20 + 1, "a retry sends only what failed")
    }

    @Test func aDeclaredRateLimitIsNeverExceeded() async throws {
        // 20 requests in any second: the platform's limit, scaled; the hub is told the same.
        let hub = try await FlowHarness(
            magentoSettings: ["stock.mode": "source-items", "inputLimit": "10", "rateLimit.stock": "20/1s"])
        defer { Task { await hub.shutdown() } }
        hub.magento.configure { _, settings in settings.inputLimit = 10 }
        hub.magento.sandbox.setRateLimit(RateLimitRule(requests: 20, window: 1), group: "stock", routes: ["stock.source-items"])
        hub.catalogue(600)
        let started = Date()
        try await hub.sync("stock")
        try await hub.run(until: "pushed within the limit") { try await hub.unfinished() == 0 }
        let elapsed = Date().timeIntervalSince(started)
        let entries = hub.magento.sandbox.ledger.entries(route: "stock.source-items")
        #expect(entries.count == 60)
        #expect(entries.filter { $0.fault == "limit" }.isEmpty, "no request refused for the limit")
        let times = entries.map(\.at).sorted()
        for (index, time) in times.enumerated() where index >= 20 {
            #expect(time.timeIntervalSince(times[index - 20]) >= 1, "21 requests inside one window")
        }
        #expect(elapsed >= 2.9, "60 requests at 20 a second take about 3 s")
    }

    @Test func retryAfterIsHonoured() async throws {
        // The platform allows 1 request in any 0.9 s but the hub was not told: it learns from 429
        // with Retry-After (whole seconds: 1), and sends nothing to that class before then.
        let hub = try await FlowHarness(magentoSettings: ["stock.mode": "source-items", "inputLimit": "10"])
        defer { Task { await hub.shutdown() } }
        hub.magento.configure { _, settings in settings.inputLimit = 10 }
        hub.magento.sandbox.setRateLimit(RateLimitRule(requests: 1, window: 0.9), group: "stock", routes: ["stock.source-items"])
        hub.catalogue(30)
        try await hub.sync("stock")
        try await hub.run(until: "pushed") { try await hub.unfinished() == 0 }
        for index in 1...30 { #expect(hub.magento.stock(sku: String(format: "SKU-%04d", index))?.quantity == 10) }
        let entries = hub.magento.sandbox.ledger.entries(route: "stock.source-items")
        let refused = entries.filter { $0.status == 429 }
        #expect(!refused.isEmpty, "the hub did meet the limit")
        for refusal in refused {
            if let next = entries.first(where: { $0.sequence > refusal.sequence }) {
                #expect(next.at.timeIntervalSince(refusal.at) >= 0.98, "sent again before Retry-After")
            }
        }
    }
}

extension MagentoSandbox.NewOrder {
    func withQuantities(_ quantities: [Int]) -> Self {
        var copy = self
        for (index, quantity) in quantities.enumerated() where index < copy.lines.count { copy.lines[index].quantity = quantity }
        return copy
    }
}
