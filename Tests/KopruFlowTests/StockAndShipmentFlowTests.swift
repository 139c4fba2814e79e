import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// ERP stock → Magento (only what changed, in bulk, one bad SKU never stopping the rest),
/// new customers → ERP, ERP shipments → Magento shipments with tracking.
@Suite(.serialized) struct StockAndShipmentFlowTests {
    @Test(arguments: ["bulk", "source-items", "legacy"])
    func stockReachesMagentoOnlyChangedAndUnknownSKUsAreReportedNotBlocking(mode: String) async throws {
        let hub = try await FlowHarness(magentoSettings: ["stock.mode": mode, "stock.bulkOperationSize": "50", "inputLimit": "20"])
        defer { Task { await hub.shutdown() } }
        hub.magento.configure { _, settings in settings.inputLimit = 20 }
        hub.catalogue(300)
        for index in 1...5 { hub.erp.setStock(code: "ERP-ONLY-\(index)", quantity: 3) }
        try await hub.sync("stock")
        try await hub.run(until: "stock pushed") { try await hub.unfinished() == 0 }
        for index in 1...300 { #expect(hub.magento.stock(sku: String(format: "SKU-%04d", index))?.quantity == 10) }
        let warnings = try await hub.store.events(EventFilter(minimumLevel: .warning, kind: "stock"))
        let refused = Set(warnings.flatMap { ($0.details["refused"] ?? "").split(separator: ",").map(String.init) })
        #expect(refused == Set((1...5).map { "ERP-ONLY-\($0)" }))

        // Second run: only the changed SKUs travel.
        let before = hub.magento.sandbox.ledger.count
        hub.erp.setStock(["SKU-0007": 0, "SKU-0100": 42, "SKU-0250": 1])
        try await hub.sync("stock")
        try await hub.run(until: "delta pushed") { try await hub.unfinished() == 0 && hub.magento.stock(sku: "SKU-0100")?.quantity == 42 }
        #expect(hub.magento.stock(sku: "SKU-0007")?.quantity == 0)
        #expect(hub.magento.stock(sku: "SKU-0007")?.inStock == false)
        var sent = Set<String>()
        for entry in hub.magento.sandbox.ledger.all.dropFirst(before) where entry.route?.hasPrefix("stock.") ?? false {
            let body = try? JSON.parse(entry.body)
            let rows = body?.array?.flatMap { $0["sourceItems"]?.array ?? [] } ?? body?["sourceItems"]?.array ?? []
            sent.formUnion(rows.compactMap { $0["sku"]?.string })
            if entry.route == "stock.legacy" { sent.insert(String(entry.path.split(separator: "/")[4])) }
        }
        // The three changes, plus the five unknown SKUs, which are tried (and reported) each run.
        #expect(sent == Set(["SKU-0007", "SKU-0100", "SKU-0250"] + (1...5).map { "ERP-ONLY-\($0)" }))
    }

    @Test func bulkOperationsLeftOpenRaiseAnAlarm() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.magento.configure { _, settings in settings.consumerRunning = false }
        hub.catalogue(10)
        try await hub.sync("stock")
        try await hub.run(until: "the bulk status check gives up") {
            try await hub.jobs(kind: BulkStatusJob.kind, status: .dead).count == 1
        }
        let dead = try #require(try await hub.jobs(kind: BulkStatusJob.kind, status: .dead).first)
        #expect(dead.lastError?.contains("async.operations.all") ?? false)
    }

    @Test func newCustomersReachTheERPWithTheirTaxNumberOnce() async throws {
        let hub = try await FlowHarness(magentoSettings: ["customer.taxNumber": "attribute:vergi_no"])
        defer { Task { await hub.shutdown() } }
        hub.magento.addCustomer(
            email: "ali@example.com", firstName: "Ali", lastName: "Kaya", taxvat: "999", customAttributes: ["vergi_no": "1234567890"],
            address: FlowHarness.address)
        hub.magento.addCustomer(email: "veli@example.com", firstName: "Veli", lastName: "Demir", address: FlowHarness.address)
        hub.erp.sandbox.setFaults(FaultPlan(commitThenFailShare: 0.5), on: "customers.create")
        for _ in 1...3 { try await hub.sync("customers") }
        try await hub.run(until: "customers exported") {
            try await hub.jobs(kind: CustomerExportJob.kind, status: .succeeded).count == 2 && hub.erp.customers.count == 2
        }
        #expect(hub.erp.customers["shop-1"]?["tax_id"] == "1234567890")
        #expect(hub.erp.customers["shop-1"]?["name"] == "Ali Kaya")
        #expect(hub.erp.sandbox.ledger.effectCounts(route: "customers.create", effect: "created").values.allSatisfy { $0 == 1 })
    }

    @Test func shippedInTheERPBecomesAMagentoShipmentWithTrackingOnce() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        let placed = (1...3).map { hub.magento.placeOrder(FlowHarness.order($0)) }
        try await hub.sync("orders")
        try await hub.run(until: "orders exported") { hub.erp.orders.count == 3 }
        hub.erp.ship(orderID: placed[0].incrementID, trackingNumber: "HRZ100000001")
        hub.erp.ship(orderID: placed[2].incrementID, trackingNumber: "HRZ100000003")
        hub.erp.ship(orderID: "999999999", trackingNumber: "HRZ-UNKNOWN")
        hub.magento.sandbox.setFaults(FaultPlan(commitThenFailShare: 0.5), on: "orders.ship")
        for _ in 1...2 { try await hub.sync("shipments") }
        try await hub.run(until: "shipments recorded") {
            try await hub.jobs(kind: ShipmentCreateJob.kind, status: .succeeded).count == 2
        }
        #expect(hub.magento.trackingNumbers(entityID: placed[0].entityID) == ["HRZ100000001"])
        #expect(hub.magento.trackingNumbers(entityID: placed[1].entityID).isEmpty)
        #expect(hub.magento.trackingNumbers(entityID: placed[2].entityID) == ["HRZ100000003"])
        // Shipped but not invoiced (an offline payment): Magento keeps it `processing`.
        #expect(hub.magento.orderState(entityID: placed[0].entityID) == "processing")
        let warnings = try await hub.store.events(EventFilter(minimumLevel: .warning, kind: "sync_run"))
        #expect(warnings.contains { $0.message.contains("999999999") })
    }
}
