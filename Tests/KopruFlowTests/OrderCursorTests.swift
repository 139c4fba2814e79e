import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// The keyset `(updated_at, entity_id)` with an overlap window re-read now and then: orders sharing
/// one second across page boundaries, some of them committed after the poll passed their second,
/// arrive once; a burst is read about once.
@Suite(.serialized) struct OrderCursorTests {
    @Test func ordersInOneSecondAcrossPagesSomeCommittedLateAreImportedOnceByTheNextRecheck() async throws {
        let interval = Duration.seconds(8)
        let hub = try await FlowHarness(magentoSettings: ["pageSize": "40"], recheck: interval)
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        let second = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60).rounded(.down))
        var late: [Int] = []
        let count = 500
        for index in 1...count {
            var order = FlowHarness.order(index, skus: ["SKU-0001"], at: second)
            // Every 7th row is still inside its transaction when the first poll runs.
            order.committed = index % 7 != 0
            let placed = hub.magento.placeOrder(order)
            if !order.committed { late.append(placed.entityID) }
        }
        func pass() async throws {
            try await hub.sync("orders")
            try await hub.run(until: "a pass and its exports") { try await hub.unfinished() == 0 }
        }
        try await pass()
        let visible = count - late.count
        #expect(hub.erp.orders.count == visible)
        // A recheck round over the window finds nothing new.
        try await pass()
        #expect(hub.erp.orders.count == visible)
        let round = try await hub.store.cursor(connection: FlowHarness.shop, name: "recheck:orders")
        let began = try #require(round.flatMap { Int64($0.value) }.map { Date(millisecondsSince1970: $0) })

        // The late rows commit with the second the poll has already passed, and lower ids than
        // rows it has seen: only a recheck of the window finds them, and none is due yet.
        for id in late { hub.magento.commit(entityID: id) }
        try await pass()
        #expect(hub.erp.orders.count == visible, "a poll re-read the window before its recheck was due")
        try await Task.sleep(for: .seconds(max(0, began.addingTimeInterval(interval.seconds + 0.2).timeIntervalSinceNow)))
        try await pass()
        let documents = hub.erp.documentsPerOrder
        #expect(documents.count == count)
        #expect(documents.values.allSatisfy { $0 == 1 })
        #expect(try await hub.jobs(kind: OrderExportJob.kind).count == count)
        // Pages were keyset pages of 40 on page 1: the repeated-last-page habit never came up.
        let lists = hub.magento.sandbox.ledger.entries(route: "orders.list")
        #expect(lists.allSatisfy { $0.rawQuery.contains("searchCriteria%5BcurrentPage%5D=1") })
    }

    /// More orders than one pass reads (500) are exported after one request: each pass that
    /// stops at its budget enqueues the next.
    @Test func oneSyncOfMoreOrdersThanAPassReadsExportsThemAll() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        for index in 1...1_200 { hub.magento.placeOrder(FlowHarness.order(index)) }
        try await hub.sync("orders")
        try await hub.run(until: "every order exported") { try await hub.unfinished() == 0 }
        #expect(hub.erp.documentsPerOrder.count == 1_200)
        #expect(try await hub.jobs(kind: "sync.orders", status: .succeeded).count >= 3)
    }

    /// A burst polled pass after pass reads each order about once: the window behind the
    /// position is not re-read on every pass (each pass re-reading the whole burst made a burst
    /// quadratic, and a pass whose window held more than its budget made no progress at all).
    @Test func aBurstPolledPassAfterPassReadsEachOrderAboutOnce() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        let (batches, perBatch) = (10, 200)
        for batch in 0..<batches {
            for index in 1...perBatch { hub.magento.placeOrder(FlowHarness.order(batch * perBatch + index)) }
            try await hub.sync("orders")
            try await hub.run(until: "batch \(batch) exported") { try await hub.unfinished() == 0 }
        }
        let orders = batches * perBatch
        #expect(hub.erp.documentsPerOrder.count == orders)
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
        // Each order is read twice (new, then again once its note moved its `updated_at`), in
        // pages of 100, each pass ending on an empty page, and one recheck round (at most
        // 1,000 rows a pass) at the second pass. Re-reading the window on every pass reads
        // every earlier batch again on each pass: over 100 pages more.
        let pages = hub.magento.sandbox.ledger.entries(route: "orders.list").count
        #expect(pages <= 2 * orders / 100 + batches + 10 + 2, "\(pages) pages of orders read for \(orders) orders")
    }

    @Test func theSandboxRepeatsTheLastPagePastTheEndAsMagentoDoes() async throws {
        let magento = MagentoSandbox()
        magento.configure { credentials, _ in credentials.bearerIntegrationTokens = true }
        for index in 1...5 { magento.placeOrder(FlowHarness.order(index)) }
        let token = magento.credentials.accessToken
        func page(_ number: Int) async throws -> [Int] {
            let outcome = await magento.sandbox.process(
                SandboxRequest(
                    method: "GET",
                    target: "/rest/default/V1/orders?searchCriteria%5BpageSize%5D=2&searchCriteria%5BcurrentPage%5D=\(number)",
                    headers: ["Authorization": "Bearer \(token)"]))
            guard case .respond(let response) = outcome, let json = try? JSON.parse(response.body) else { return [] }
            return (json["items"]?.array ?? []).compactMap { $0["entity_id"]?.int }
        }
        #expect(try await page(3) == [5])
        #expect(try await page(9) == [5])
    }
}
