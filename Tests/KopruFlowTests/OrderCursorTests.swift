import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// The keyset `(updated_at, entity_id)` with an overlap window: orders sharing one second across
/// page boundaries, some of them committed after the poll passed their second, arrive once.
@Suite(.serialized) struct OrderCursorTests {
    @Test func fiveHundredOrdersInOneSecondAcrossPagesSomeCommittedLateAreImportedOnce() async throws {
        let hub = try await FlowHarness(magentoSettings: ["pageSize": "40"])
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        let second = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60).rounded(.down))
        var late: [Int] = []
        for index in 1...500 {
            var order = FlowHarness.order(index, skus: ["SKU-0001"], at: second)
            // Every 7th row is still inside its transaction when the first poll runs.
            order.committed = index % 7 != 0
            let placed = hub.magento.placeOrder(order)
            if !order.committed { late.append(placed.entityID) }
        }
        try await hub.sync("orders")
        let visible = 500 - late.count
        try await hub.run(until: "committed orders imported") {
            try await hub.unfinished() == 0 && hub.erp.orders.count == visible
        }
        // The late rows commit with the second the poll has already passed, and lower ids than
        // rows it has seen: only the overlap window finds them.
        for id in late { hub.magento.commit(entityID: id) }
        for _ in 1...3 { try await hub.sync("orders") }
        try await hub.run(until: "late orders imported") { try await hub.unfinished() == 0 && hub.erp.orders.count == 500 }
        let documents = hub.erp.documentsPerOrder
        #expect(documents.count == 500)
        #expect(documents.values.allSatisfy { $0 == 1 })
        #expect(try await hub.jobs(kind: OrderExportJob.kind).count == 500)
        // Pages were keyset pages of 40 on page 1: the repeated-last-page habit never came up.
        let lists = hub.magento.sandbox.ledger.entries(route: "orders.list")
        #expect(lists.allSatisfy { $0.rawQuery.contains("searchCriteria%5BcurrentPage%5D=1") })
        #expect(lists.count >= 500 / 40)
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
