import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Logging

/// The demo's sandboxes, store, connections and flows, and the traffic it makes.
package final class DemoWorld: Sendable {
    package let magento = MagentoSandbox()
    package let erp: ERPSandbox
    package let magentoServer: SandboxServer
    package let erpServer: SandboxServer
    package var store: SQLiteStore { world.store }
    package var directory: URL { world.directory }
    package let catalog: FlowCatalog
    package let shop: SampleShop
    let world: LoopbackWorld

    package init(skus: Int) async throws {
        var settings = ERPSandbox.Settings()
        settings.honoursIdempotencyKey = false
        erp = ERPSandbox(settings: settings)
        var shop = SampleShop(skus: skus)
        for item in shop.items {
            magento.setStock(sku: item.sku, quantity: 0)
            erp.setStock(code: item.sku, quantity: shop.int(0...50))
        }
        for index in 1...3 { erp.setStock(code: "ERP-ONLY-\(index)", quantity: 5) }
        self.shop = shop
        erp.sandbox.setFaults([
            "orders.create": FaultPlan(latencyMilliseconds: 2...20, serverErrorShare: 0.15, timeoutShare: 0.03, commitThenFailShare: 0.03),
            "*": FaultPlan(latencyMilliseconds: 1...10),
        ])
        world = try await LoopbackWorld(name: "demo")
        magentoServer = try await world.connect(
            magento, as: "shop", name: "Demo Magento store",
            settings: ["stock.mode": "bulk", "stock.bulkOperationSize": "500"].merging(Self.shortRetries) { $1 })
        erpServer = try await world.connect(erp, as: "erp", name: "Demo ERP", settings: ["timeoutSeconds": "2"].merging(Self.shortRetries) { $1 })
        catalog = FlowCatalog([
            FlowDefinition(name: "orders-to-erp", kind: .orders, source: "shop", target: "erp"),
            FlowDefinition(name: "stock-to-shop", kind: .stock, source: "erp", target: "shop", bulkPollInterval: .seconds(1)),
            FlowDefinition(name: "customers-to-erp", kind: .customers, source: "shop", target: "erp"),
            FlowDefinition(name: "shipments-to-shop", kind: .shipments, source: "erp", target: "shop"),
        ])
    }

    /// The demo's faults are meant to be seen healing within a run: retries within seconds, set
    /// as any merchant would set them, in the connections' `retry.*` settings.
    package static let shortRetries = ["retry.baseMilliseconds": "500", "retry.capMilliseconds": "10000", "retry.maxAttempts": "12"]

    package func sync(_ name: String) async {
        guard let flow = catalog.flows.first(where: { $0.name == name }) else { return }
        _ = try? await store.enqueue([flow.syncJob()], now: Date())
    }

    /// Orders at the given rate (a new customer with every fifth), a few stock changes in the
    /// ERP every second, shipments for some exported orders; and the flows' polls, every few
    /// seconds instead of the production schedules' minutes.
    package func generate(ordersPerSecond: Double) async {
        var shop = self.shop
        var tick = 0
        var shipped = Set<String>()
        let interval = 1.0 / ordersPerSecond
        var nextOrder = ContinuousClock.now
        var nextSecond = ContinuousClock.now
        await sync("stock-to-shop")
        while !Task.isCancelled {
            let now = ContinuousClock.now
            while nextOrder <= now {
                let order = shop.order()
                magento.placeOrder(order)
                if shop.int(1...5) == 1 {
                    magento.addCustomer(
                        email: order.email, firstName: order.address.firstName, lastName: order.address.lastName,
                        taxvat: String(format: "%010d", shop.int(1_000_000_000...1_999_999_999)), address: order.address)
                }
                nextOrder = nextOrder.advanced(by: .milliseconds(Int64(interval * 1000)))
            }
            if nextSecond <= now {
                tick += 1
                nextSecond = nextSecond.advanced(by: .seconds(1))
                for _ in 0..<5 { erp.setStock(code: shop.item().sku, quantity: shop.int(0...50)) }
                for order in erp.orders.shuffled().prefix(3) where !shipped.contains(order.orderID) && shop.int(1...3) == 1 {
                    shipped.insert(order.orderID)
                    erp.ship(orderID: order.orderID, trackingNumber: "HRZ\(String(format: "%09d", shop.int(1...999_999_999)))")
                }
                if tick % 2 == 0 { await sync("orders-to-erp") }
                if tick % 5 == 0 {
                    await sync("customers-to-erp")
                    await sync("shipments-to-shop")
                }
                if tick % 15 == 0 { await sync("stock-to-shop") }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// One last pass of every flow, then waits until nothing is pending or running.
    package func drain(timeout: Duration) async -> Bool {
        for flow in catalog.flows { await sync(flow.name) }
        let deadline = ContinuousClock.now + timeout
        var quietSince: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            let counts = (try? await store.jobCounts()) ?? [:]
            if (counts[.pending] ?? 0) + (counts[.running] ?? 0) == 0 {
                // Quiet twice in a row: a finishing job may still enqueue a follow-up.
                if let since = quietSince, ContinuousClock.now - since > .milliseconds(500) { return true }
                quietSince = quietSince ?? ContinuousClock.now
            } else {
                quietSince = nil
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    package func summary(processor: JobProcessor, since: ContinuousClock.Instant) async -> String {
        let counts = (try? await store.jobCounts()) ?? [:]
        let statistics = processor.statistics
        let orders = magento.orderIDs.count
        let exported = erp.documentsPerOrder.count
        let commented = magento.orderIDs.filter { !magento.comments(entityID: $0).isEmpty }.count
        var inSync = 0
        for item in shop.items where magento.stock(sku: item.sku)?.quantity == erp.stockLevel(code: item.sku) { inSync += 1 }
        let seconds = Int((ContinuousClock.now - since).components.seconds)
        return String(
            format: "%4ds  orders in %d · exported %d · commented %d · retried %d · dead %d · pending %d · SKUs pushed %d, in sync %d/%d · shipments %d · customers %d",
            seconds, orders, exported, commented, statistics.retried, counts[.dead] ?? 0, (counts[.pending] ?? 0) + (counts[.running] ?? 0),
            magento.stockRowsApplied, inSync, shop.items.count, magento.orderIDs.reduce(0) { $0 + magento.trackingNumbers(entityID: $1).count }, erp.customers.count)
    }

    package func verdict() -> (ok: Bool, message: String) {
        let documents = erp.documentsPerOrder
        let doubles = documents.filter { $0.value > 1 }
        let missing = magento.orderIDs.compactMap(magento.incrementID(entityID:)).filter { documents[$0] == nil }
        let ok = doubles.isEmpty && missing.isEmpty
        let message =
            ok
            ? "exactly once: all \(documents.count) orders reached the ERP once each"
            : "NOT exactly once: \(doubles.count) doubled, \(missing.count) missing (\(missing.prefix(5).joined(separator: ", ")))"
        return (ok, message)
    }

    package func shutdown() async {
        await world.shutdown()
    }
}
