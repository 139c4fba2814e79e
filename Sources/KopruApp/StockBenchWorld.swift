import ConnectorMagento2
import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Logging

/// One benchmark world: an ERP and a Magento sandbox on loopback with the same catalogue, an
/// SQLite store in a temporary folder, the ERP → Magento stock flow (and an order flow for the
/// priority check) and a running job processor, with connectors built as `kopru serve` builds
/// them (shared rate budgets included).
package final class StockBenchWorld: Sendable {
    package enum Profile: Sendable {
        /// Limits off: the hub's own cost.
        case unlimited
        /// Ozon's stock endpoint: ≤ 100 rows per request, ≤ 80 requests per minute.
        case ozon
        /// Magento's asynchronous bulk (≤ 5 000 rows per request) behind a host limit of 10
        /// requests per minute (Magento has none itself; this stands for a WAF rule).
        case magentoBulk

        package var name: String {
            switch self {
            case .unlimited: "unlimited"
            case .ozon: "ozon-stock (100 rows × 80 req/min)"
            case .magentoBulk: "magento-bulk (5000 rows × 10 req/min)"
            }
        }

        package var requestsPerWindow: Int { self == .ozon ? 80 : 10 }
        package var rowsPerRequest: Int { self == .ozon ? 100 : 5_000 }
        package var route: String { self == .ozon ? "stock.source-items" : "stock.bulk" }
    }

    package struct Timing {
        package var seconds: Double
        package var requests: Int
        package var rows: Int
        package var sandboxShare: Double
    }

    package struct BudgetResult {
        package var profile: String
        package var limit: String
        package var timeScale: Double
        package var requests: Int
        package var rows: Int
        package var refused: Int
        package var efficiency: Double
        package var seconds: Double
        package var orderExportMilliseconds: Double
    }

    /// Where the sandboxes run: beside the hub, or in a child process.
    package enum Placement: Sendable {
        case inProcess
        /// `executable arguments` serves them (`kopru bench stock --serve-sandboxes --skus N`).
        case childProcess(executable: URL, arguments: [String])
    }

    enum Sandboxes: Sendable {
        case local(StockBenchSandboxes)
        case child(StockBenchChild)
    }

    let sandboxes: Sandboxes
    /// The in-process sandboxes; nil when a child process serves them.
    package var local: StockBenchSandboxes? {
        if case .local(let local) = sandboxes { return local }
        return nil
    }
    package var store: SQLiteStore { world.store }
    package var directory: URL { world.directory }
    package let catalog: FlowCatalog
    let world: LoopbackWorld
    package let processor: JobProcessor
    package let worker: Task<Void, any Error>
    /// Every call is logged as in `kopru serve`, so the figures include the call log's cost.
    let callLog: CallLog
    let callLogWriter: Task<Void, any Error>
    package let skus: Int
    package let profile: Profile
    /// Real seconds per platform minute.
    package let window: Double
    /// How the bench's baseline reaches Magento.
    let magentoConnection: SandboxConnection

    package init(skus count: Int, profile: Profile, placement: Placement = .inProcess) async throws {
        self.profile = profile
        skus = count
        // Compress time so that the ideal run takes about half a minute: more, and the
        // scheduling jitter of a loaded machine becomes a large part of each interval.
        let requests = Double(count) / Double(profile.rowsPerRequest)
        let idealMinutes = requests / Double(profile.requestsPerWindow)
        window = profile == .unlimited ? 60 : 60 / max(1, idealMinutes * 60 / 30)
        var shopSettings = ["stock.mode": "bulk", "stock.bulkOperationSize": "1000", "timeoutSeconds": "60"]
        let erpSettings = ["pagination": "page", "pagination.pageSize": "5000", "timeoutSeconds": "60"]
        world = try await LoopbackWorld(name: "bench-stock")
        switch placement {
        case .childProcess(let executable, let arguments):
            guard profile == .unlimited else { throw BenchError(description: "the rate-limited runs keep their sandboxes in process") }
            let child = try await StockBenchChild(executable: executable, arguments: arguments)
            sandboxes = .child(child)
            magentoConnection = child.magento
            try await world.save(child.magento, type: MagentoSandbox.connectorType, as: "shop", name: "Bench store", settings: shopSettings)
            try await world.save(child.erp, type: ERPSandbox.connectorType, as: "erp", name: "Bench ERP", settings: erpSettings)
        case .inProcess:
            let local = StockBenchSandboxes(skus: count, profile: profile)
            let magento = local.magento
            switch profile {
            case .unlimited: break
            case .ozon:
                shopSettings["stock.mode"] = "source-items"
                shopSettings["inputLimit"] = "100"
                shopSettings["rateLimit.stock"] = "80/\(window)s"
                magento.sandbox.setRateLimit(RateLimitRule(requests: 80, window: window), group: "stock", routes: [profile.route])
            case .magentoBulk:
                shopSettings["stock.bulkOperationSize"] = "500"
                shopSettings["rateLimit.bulk"] = "10/\(window)s"
                magento.sandbox.setRateLimit(RateLimitRule(requests: 10, window: window), group: "bulk", routes: [profile.route])
            }
            let magentoServer = try await world.connect(magento, as: "shop", name: "Bench store", settings: shopSettings)
            try await world.connect(local.erp, as: "erp", name: "Bench ERP", settings: erpSettings)
            sandboxes = .local(local)
            magentoConnection = magento.connection(at: magentoServer.baseURL)
        }
        catalog = FlowCatalog([
            FlowDefinition(name: "stock", kind: .stock, source: "erp", target: "shop", bulkPollInterval: .milliseconds(5)),
            FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp", notes: false),
        ])
        let store = world.store
        callLog = CallLog(store: store)
        let connectors = HubConnectors(callLog: callLog)
        processor = JobProcessor(
            store: store,
            registry: JobRegistry(JobRegistry.flows(catalog, connectors: connectors.resolver(store: store), store: store)),
            configuration: JobProcessorConfiguration(
                workerID: "bench", concurrency: 16, claimBatch: 32, leaseDuration: .seconds(120), pollInterval: .milliseconds(2)),
            logger: Logger(label: "kopru.bench"))
        let processor = self.processor
        worker = Task { try await processor.run() }
        let callLog = self.callLog
        callLogWriter = Task { try await callLog.run() }
    }

    package func shutdown() async {
        processor.stop()
        _ = try? await worker.value
        callLog.stop()
        _ = try? await callLogWriter.value
        await world.shutdown()
        if case .child(let child) = sandboxes { await child.shutdown() }
    }

    /// What the sandboxes did so far, wherever they run.
    package func counters() async throws -> StockBenchCounters {
        switch sandboxes {
        case .local(let local): local.counters
        case .child(let child): try await child.counters()
        }
    }

    /// Runs one sync to the end (every queued row confirmed or refused) and times it.
    package func sync(mode: String, expect: Int? = nil, changing: Int = 0) async throws -> Timing {
        if changing > 0 {
            switch sandboxes {
            case .local(let local): local.changeStock(changing)
            case .child(let child): try await child.changeStock(changing)
            }
        }
        let before = try await counters()
        let clock = ContinuousClock()
        let started = clock.now
        let run = try await start(mode: mode)
        try await waitUntilFinished(run)
        let seconds = (clock.now - started).seconds
        let after = try await counters()
        let rows = after.rowsApplied - before.rowsApplied
        let expected = expect ?? changing
        guard rows == expected else { throw BenchError(description: "\(mode) sync applied \(rows) rows, expected \(expected)") }
        return Timing(
            seconds: seconds, requests: after.requests - before.requests, rows: rows,
            sandboxShare: (after.busySeconds - before.busySeconds) / seconds)
    }

    private func start(mode: String) async throws -> String {
        let flow = catalog.flows[0]
        let id = try await store.enqueue([flow.syncJob(mode: mode)], now: Date())[0].id
        return "\(flow.name)#\(id)"
    }

    private func waitUntilFinished(_ run: String, timeout: Duration = .seconds(600)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let progress = try await store.syncRun(run), progress.finished { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchError(description: "sync \(run) did not finish in \(timeout)")
    }

    /// The seed's way: one request per SKU, one after another, through the same client stack.
    package func perSKUBaseline() async throws -> Double {
        let connector = try Magento2Connector(
            connection: "baseline", settings: magentoConnection.settings.merging(["stock.mode": "legacy"]) { $1 },
            secrets: magentoConnection.secrets.mapValues(Secret.init), transport: AsyncHTTPClientTransport())
        let clock = ContinuousClock()
        let started = clock.now
        for start in stride(from: 0, to: skus, by: 50) {
            let levels = (start..<min(start + 50, skus)).map {
                StockLevel(sku: SKU(StockBenchSandboxes.sku($0)), quantity: StockBenchSandboxes.initialLevel($0) + 1, observedAt: Date())
            }
            let result = try await connector.pushStock(levels)
            guard result.failed.isEmpty else { throw BenchError(description: "baseline push refused: \(result.failed.first!.value)") }
        }
        return (clock.now - started).seconds
    }

    /// A full sync under the profile's limit, with five orders placed a second in whose export
    /// is timed: bulk stock traffic must not hold them up.
    package func budgetRun() async throws -> BudgetResult {
        guard let local else { throw BenchError(description: "the rate-limited runs need their sandboxes in process") }
        let (magento, erp) = (local.magento, local.erp)
        let clock = ContinuousClock()
        let started = clock.now
        let run = try await start(mode: "full")
        try await Task.sleep(for: .seconds(1))
        let ordered = clock.now
        for index in 1...5 {
            magento.placeOrder(
                MagentoSandbox.NewOrder(
                    email: "bench\(index)@example.com",
                    address: MagentoSandbox.Address(firstName: "Ayşe", lastName: "Yılmaz", street: "Atatürk Cad. 1", city: "Kadıköy", region: "İstanbul"),
                    lines: [MagentoSandbox.OrderLine(sku: StockBenchSandboxes.sku(index), name: "Ürün", quantity: 1, price: 100)], shipping: 0))
        }
        _ = try await store.enqueue([catalog.flows[1].syncJob()], now: Date())
        while erp.orders.count < 5 {
            try await Task.sleep(for: .milliseconds(2))
            if clock.now - ordered > .seconds(60) { throw BenchError(description: "orders were not exported during the sync") }
        }
        let orderMilliseconds = (clock.now - ordered).seconds * 1000
        try await waitUntilFinished(run)
        let seconds = (clock.now - started).seconds
        let entries = magento.sandbox.ledger.entries(route: profile.route)
        let accepted = entries.filter { $0.fault == nil && ($0.status == 200 || $0.status == 202) }.map(\.at).sorted()
        let interval = window / Double(profile.requestsPerWindow)
        let span = accepted.last!.timeIntervalSince(accepted.first!) + interval
        let allowedRows = span / interval * Double(profile.rowsPerRequest)
        let confirmed = try await store.syncRun(run)?.confirmed ?? 0
        guard confirmed == skus else { throw BenchError(description: "\(profile.name): \(confirmed) of \(skus) rows confirmed") }
        return BudgetResult(
            profile: profile.name, limit: "\(profile.requestsPerWindow)/min × \(profile.rowsPerRequest) rows", timeScale: 60 / window,
            requests: entries.count, rows: confirmed, refused: entries.filter { $0.fault == "limit" }.count,
            efficiency: Double(confirmed) / allowedRows, seconds: seconds, orderExportMilliseconds: orderMilliseconds)
    }

    /// The process's peak resident set (Linux `VmHWM`), in MB.
    package static func peakRSSMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
