import ArgumentParser
import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruServer
import KopruStore
import KopruStoreSQLite
import Logging
import ServiceLifecycle
import UnixSignals

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub on sandboxes, with no setup: Magento 2 ⇄ ERP (seed 000).",
        discussion: """
            Starts a simulated Magento 2 store and a REST ERP on loopback with a sample \
            catalogue, an embedded SQLite store in a temporary directory, the hub's HTTP server \
            and workers, and four flows: Magento orders → ERP (with a comment back on the \
            order), ERP stock → Magento (changed SKUs only, asynchronous bulk), new Magento \
            customers → ERP, ERP shipments → Magento shipments with tracking. Orders, stock \
            changes and shipments are generated continuously; the ERP fails some requests on \
            purpose (5xx, timeouts, answers lost after the order was saved). A summary is printed \
            every few seconds. With --duration the demo stops generating after that many seconds, \
            lets the queue drain, checks that every order reached the ERP exactly once and exits \
            non-zero if not.

            Examples:
              kopru demo
              kopru demo --duration 30 --skus 5000 --orders-per-second 20
            """)

    @Option(help: "Seconds to generate traffic before draining and stopping (default: until Ctrl-C).")
    var duration: Double?

    @Option(help: "Catalogue size.")
    var skus = 1000

    @Option(name: .customLong("orders-per-second"), help: "Orders placed per second in the sandbox store.")
    var ordersPerSecond = 5.0

    @Option(help: "Port for the hub's HTTP server (0: any free port).")
    var port = 0

    @Option(help: "Seconds between summaries.")
    var every = 3.0

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard skus >= 1, skus <= 1_000_000 else { throw ValidationError("--skus must be 1…1000000") }
        guard ordersPerSecond > 0, ordersPerSecond <= 1000 else { throw ValidationError("--orders-per-second must be in (0, 1000]") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    }

    func run() async throws {
        var hubConfiguration = HubConfiguration()
        hubConfiguration.logLevel = ProcessInfo.processInfo.environment["KOPRU_LOG_LEVEL"] ?? "error"
        Runtime.bootstrapLogging(hubConfiguration)
        let world = try await DemoWorld(skus: skus)
        defer { Task { await world.shutdown() } }
        let callLog = CallLog(store: world.store)
        let processor = JobProcessor(
            store: world.store,
            registry: Runtime.registry(
                store: world.store, catalog: world.catalog,
                connectors: HubConnectors(transport: AsyncHTTPClientTransport(), callLog: callLog)),
            configuration: JobProcessorConfiguration(
                concurrency: 32, pollInterval: .milliseconds(50), defaultConnectionConcurrency: 8),
            logger: Logger(label: "kopru.jobs"))
        let address = AsyncStream<Int>.makeStream()
        let application = buildApplication(HubServerDependencies(store: world.store), host: "127.0.0.1", port: port) { port in
            address.continuation.yield(port)
        }
        let group = ServiceGroup(services: [callLog, application, processor], logger: Logger(label: "kopru.demo"))
        let running = Task { try await group.run() }
        var ports = address.stream.makeAsyncIterator()
        let hubPort = await ports.next() ?? port
        say(
            """
            Köprü demo — Magento 2 ⇄ ERP on sandboxes
              hub        http://127.0.0.1:\(hubPort)  (try /healthz, /metrics)
              magento2   \(world.magentoServer.baseURL)  (sandbox, \(skus) SKUs)
              erp-rest   \(world.erpServer.baseURL)/api/v2/  (sandbox; fails 15 % with 5xx, 3 % timeouts, 3 % lost answers)
              store      \(world.directory.path)/hub.db
            """)
        let started = ContinuousClock.now
        let traffic = Task { await world.generate(ordersPerSecond: ordersPerSecond) }
        let summaries = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(every * 1000)))
                guard !Task.isCancelled else { break }
                say(await world.summary(processor: processor, since: started))
            }
        }
        if let duration {
            try? await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
        } else {
            for await _ in await UnixSignalsSequence(trapping: [.sigint, .sigterm]) { break }
        }
        traffic.cancel()
        _ = await traffic.value
        say("stopping traffic; letting the queue drain…")
        let drained = await world.drain(timeout: .seconds(90))
        summaries.cancel()
        say(await world.summary(processor: processor, since: started))
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        let verdict = world.verdict()
        say(verdict.message)
        if !drained || !verdict.ok { throw ExitCode.failure }
    }
}

/// The demo's sandboxes, store, connections and flows, and the traffic it makes.
final class DemoWorld: Sendable {
    let magento = MagentoSandbox()
    let erp: ERPSandbox
    let magentoServer: SandboxServer
    let erpServer: SandboxServer
    let store: SQLiteStore
    let directory: URL
    let catalog: FlowCatalog
    let shop: SampleShop

    init(skus: Int) async throws {
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
        magentoServer = try await SandboxServer(magento.sandbox)
        erpServer = try await SandboxServer(erp.sandbox)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-demo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("hub.db").path, secretBox: SecretBox.ephemeral())
        try await store.migrate()
        let credentials = magento.credentials
        try await store.saveConnection(
            Connection(
                id: "shop", type: "magento2", name: "Demo Magento store",
                settings: ["baseURL": magentoServer.baseURL.absoluteString, "stock.mode": "bulk", "stock.bulkOperationSize": "500"]
                    .merging(Self.shortRetries) { $1 },
                secrets: [
                    "consumerKey": Secret(credentials.consumerKey), "consumerSecret": Secret(credentials.consumerSecret),
                    "accessToken": Secret(credentials.accessToken), "accessTokenSecret": Secret(credentials.accessTokenSecret),
                ]), now: Date())
        try await store.saveConnection(
            Connection(
                id: "erp", type: "erp-rest", name: "Demo ERP",
                settings: ["baseURL": erpServer.baseURL.absoluteString + "/api/v2/", "timeoutSeconds": "2"].merging(Self.shortRetries) { $1 },
                secrets: ["api_key": Secret("erp-sandbox-key")]), now: Date())
        catalog = FlowCatalog([
            FlowDefinition(name: "orders-to-erp", kind: .orders, source: "shop", target: "erp"),
            FlowDefinition(name: "stock-to-shop", kind: .stock, source: "erp", target: "shop", bulkPollInterval: .seconds(1)),
            FlowDefinition(name: "customers-to-erp", kind: .customers, source: "shop", target: "erp"),
            FlowDefinition(name: "shipments-to-shop", kind: .shipments, source: "erp", target: "shop"),
        ])
    }

    /// The demo's faults are meant to be seen healing within a run: retries within seconds, set
    /// as any merchant would set them, in the connections' `retry.*` settings.
    static let shortRetries = ["retry.baseMilliseconds": "500", "retry.capMilliseconds": "10000", "retry.maxAttempts": "12"]

    func sync(_ name: String) async {
        guard let flow = catalog.flows.first(where: { $0.name == name }) else { return }
        _ = try? await store.enqueue([flow.syncJob()], now: Date())
    }

    /// Orders at the given rate (a new customer with every fifth), a few stock changes in the
    /// ERP every second, shipments for some exported orders; and the flows' polls, every few
    /// seconds instead of the production schedules' minutes.
    func generate(ordersPerSecond: Double) async {
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
    func drain(timeout: Duration) async -> Bool {
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

    func summary(processor: JobProcessor, since: ContinuousClock.Instant) async -> String {
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

    func verdict() -> (ok: Bool, message: String) {
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

    func shutdown() async {
        await magentoServer.shutdown()
        await erpServer.shutdown()
    }
}
