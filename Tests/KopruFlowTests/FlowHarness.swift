import Foundation
import KopruApp
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Logging

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Waits for a condition without fixed sleeps: checks often, fails after the timeout.
func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimedOut(what: what)
}

/// The production graph on sandboxes (the shared `LoopbackWorld`): a Magento store and a REST ERP
/// served on loopback, an SQLite store in a temporary directory, the four seed-000 flows and a job processor, all
/// talking real HTTP through AsyncHTTPClient.
final class FlowHarness: Sendable {
    let magento: MagentoSandbox
    let erp: ERPSandbox
    let magentoServer: SandboxServer
    let erpServer: SandboxServer
    var store: SQLiteStore { world.store }
    var directory: URL { world.directory }
    let world: LoopbackWorld
    let catalog: FlowCatalog
    let connectors: ConnectorResolver
    /// A second storefront ("shop2"), fed stock by the flow "stock2", when asked for.
    let secondShop: MagentoSandbox?
    let secondShopServer: SandboxServer?
    /// Horoz Lojistik ("horoz"), shipping the store's orders through the flow "shipping", when asked for.
    let horoz: HorozSandbox?
    let horozServer: SandboxServer?

    static let shop: ConnectionID = "shop"
    static let shop2: ConnectionID = "shop2"
    static let erpID: ConnectionID = "erp"
    static let horozID: ConnectionID = "horoz"
    static let horozSettings = ["supplierCode": "801452", "desi.default": "2", "parcel.SKU-0001": "30x20x40", "timeoutSeconds": "1"]

    init(
        magentoSettings: [String: String] = [:], erpSettings: [String: String] = [:], overlap: Duration = .seconds(300),
        recheck: Duration = .seconds(60),
        stockFlow: (inout FlowDefinition) -> Void = { _ in }, secondShop secondStockFlow: FlowDefinition? = nil,
        configureMagento: (inout MagentoSandbox.Credentials, inout MagentoSandbox.Settings) -> Void = { _, _ in },
        configureERP: (inout ERPSandbox.Settings) -> Void = { _ in },
        horoz withHoroz: Bool = false, horozSettings: [String: String] = [:], shipping: (inout FlowDefinition) -> Void = { _ in }
    ) async throws {
        magento = MagentoSandbox()
        magento.configure(configureMagento)
        erp = ERPSandbox()
        erp.configure {
            $0.honoursIdempotencyKey = false
            configureERP(&$0)
        }
        world = try await LoopbackWorld(name: "flow")
        magentoServer = try await world.connect(
            magento, as: Self.shop, name: "Sandbox store", settings: ["pageSize": "100"].merging(Self.fastRetry) { $1 }.merging(magentoSettings) { $1 })
        erpServer = try await world.connect(
            erp, as: Self.erpID, name: "Sandbox ERP", settings: ["timeoutSeconds": "1"].merging(Self.fastRetry) { $1 }.merging(erpSettings) { $1 })
        var stock = FlowDefinition(name: "stock", kind: .stock, source: Self.erpID, target: Self.shop, bulkPollInterval: .milliseconds(50))
        stockFlow(&stock)
        var flows = [
            FlowDefinition(name: "orders", kind: .orders, source: Self.shop, target: Self.erpID, overlap: overlap, recheckInterval: recheck),
            stock,
            FlowDefinition(name: "customers", kind: .customers, source: Self.shop, target: Self.erpID),
            FlowDefinition(name: "shipments", kind: .shipments, source: Self.erpID, target: Self.shop),
            FlowDefinition(
                name: "prices", kind: .prices, source: Self.erpID, target: Self.shop,
                priceRule: try PriceRule(parsing: "markup=15%,ending=.90,min=99.90")),
        ]
        if let secondStockFlow {
            let second = MagentoSandbox()
            let server = try await world.connect(
                second, as: Self.shop2, name: "Second store",
                settings: ["pageSize": "100", "stock.mode": "source-items"].merging(Self.fastRetry) { $1 })
            flows += [secondStockFlow, FlowDefinition(name: "orders2", kind: .orders, source: Self.shop2, target: Self.erpID, notes: false)]
            (secondShop, secondShopServer) = (second, server)
        } else {
            (secondShop, secondShopServer) = (nil, nil)
        }
        if withHoroz {
            let carrier = HorozSandbox()
            let server = try await world.connect(
                carrier, as: Self.horozID, name: "Horoz Lojistik",
                settings: Self.horozSettings.merging(Self.fastRetry) { $1 }.merging(horozSettings) { $1 })
            var flow = FlowDefinition(
                name: "shipping", kind: .shipping, source: Self.shop, target: Self.horozID, trackingPollInterval: .milliseconds(50))
            shipping(&flow)
            flows.append(flow)
            (horoz, horozServer) = (carrier, server)
        } else {
            (horoz, horozServer) = (nil, nil)
        }
        catalog = FlowCatalog(flows)
        // Connectors as `kopru` builds them, from the installed kinds, every request drawn from
        // its class's shared budget.
        connectors = HubConnectors(transport: AsyncHTTPClientTransport()).resolver(store: world.store)
    }

    /// Retries fast enough for a test, set where a merchant sets them: the connections' settings.
    static let fastRetry = ["retry.baseMilliseconds": "20", "retry.capMilliseconds": "300", "retry.maxAttempts": "40"]

    /// Runs a job processor until `condition` holds, then stops it.
    func run(
        until what: String, timeout: Duration = .seconds(120), erpConcurrency: Int = 32,
        _ condition: @escaping @Sendable () async throws -> Bool
    ) async throws {
        var logger = Logger(label: "kopru.flow-test")
        logger.logLevel = .critical
        let registry = JobRegistry(JobRegistry.flows(catalog, kinds: Installed.flows, connectors: connectors, store: store))
        let processor = JobProcessor(
            store: store, registry: registry,
            configuration: JobProcessorConfiguration(
                concurrency: 48, claimBatch: 48, leaseDuration: .seconds(30), pollInterval: .milliseconds(20),
                defaultConnectionConcurrency: 8, connectionConcurrency: [Self.erpID: erpConcurrency]),
            logger: logger)
        let task = Task { try await processor.run() }
        defer { processor.stop() }
        do { try await eventually(what, timeout: timeout, condition) } catch {
            processor.stop()
            _ = try? await task.value
            throw error
        }
        processor.stop()
        _ = try? await task.value
    }

    func sync(_ flow: String, mode: String = "delta") async throws {
        let definition = catalog.flows.first { $0.name == flow }!
        _ = try await store.enqueue([definition.syncJob(mode: mode)], now: Date())
    }

    func jobs(kind: String, status: JobStatus? = nil) async throws -> [Job] {
        try await store.jobs(JobFilter(statuses: status.map { [$0] }, kind: kind, limit: 100_000))
    }

    func unfinished() async throws -> Int {
        let counts = try await store.jobCounts()
        return (counts[.pending] ?? 0) + (counts[.running] ?? 0)
    }

    func shutdown() async {
        await world.shutdown()
    }

    // MARK: Sample data

    static let address = MagentoSandbox.Address(firstName: "Ayşe", lastName: "Yılmaz", street: "Atatürk Cad. 1", city: "Kadıköy", region: "İstanbul")

    func catalogue(_ count: Int) {
        for index in 1...count {
            let sku = String(format: "SKU-%04d", index)
            magento.setStock(sku: sku, quantity: 0)
            erp.setStock(code: sku, quantity: 10)
        }
    }

    static func order(_ index: Int, skus: [String] = ["SKU-0001", "SKU-0002"], at: Date? = nil) -> MagentoSandbox.NewOrder {
        var order = MagentoSandbox.NewOrder(
            email: "musteri\(index)@example.com", address: address,
            lines: skus.enumerated().map { offset, sku in
                MagentoSandbox.OrderLine(sku: sku, name: "Ürün \(sku)", quantity: offset + 1, price: Decimal(string: "83.325")! + Decimal(offset))
            }, shipping: Decimal(string: "29.90")!)
        order.at = at
        return order
    }
}
