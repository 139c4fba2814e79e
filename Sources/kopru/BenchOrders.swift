import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import KopruApp
import KopruConnectors
import KopruCore
import KopruSandbox
import KopruStore
import KopruStorePostgres
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

extension Bench {
    /// `kopru bench orders`: a burst of orders end to end, from the storefront's signed webhook
    /// to the ERP's booking and the comment back, through real hub processes.
    struct Orders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Orders per second end to end: Magento webhook → intake → poll → ERP → comment back.",
            discussion: """
                Serves the Magento and REST ERP sandboxes on loopback from this process and starts \
                the hub as real `kopru serve` processes: one process doing everything, or with \
                --processes K one web process and K worker processes sharing the store. Then places \
                --orders orders in Magento, each announced by the companion module's signed webhook \
                (--concurrency in flight), and waits until every order is booked in the ERP and \
                commented back in Magento. Reports orders per second from the first webhook to the \
                last comment, p50/p99 from each webhook to the ERP's booking, and the ERP's ledger: \
                orders missing (lost) and booked more than once (doubled). The ERP does not honour \
                Idempotency-Key here, so only the hub keeps an order from being booked twice.
                """)

        @Option(help: "Orders per run.") var orders = 10_000
        @Option(help: "0: the hub in one process (`kopru serve`); K: one web process and K worker processes.")
        var processes = 0
        @Option(help: "postgres://… to run on PostgreSQL (a scratch database is made beside it and dropped); default a temporary SQLite file.")
        var store: String?
        @Option(help: "Webhooks in flight at once.") var concurrency = 64
        @Option(help: "workers.concurrency of each worker process; default: the store's.") var workers: Int?
        @Option(help: "workers.connectionConcurrency: jobs of one connection at once per process.") var connectionConcurrency = 64
        @Option(help: "Runs; the median is reported.") var runs = 3
        @Option(help: "Append the hub processes' logs (level info) to this file.") var hubLog: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard orders > 0, processes >= 0, concurrency > 0, connectionConcurrency > 0, runs > 0 else {
                throw ValidationError("counts must be positive")
            }
            if let workers, workers <= 0 { throw ValidationError("--workers must be positive") }
            if let store, !store.hasPrefix("postgres") { throw ValidationError("--store must be a postgres:// URL") }
        }

        func run() async throws {
            quietBenchLogging()
            var results: [OrderBenchRun] = []
            for index in 1...runs {
                let result = try await OrderBench(options: self).run()
                results.append(result)
                if !json { print("run \(index): \(result.summary)") }
            }
            let median = results.sorted { $0.perSecond < $1.perSecond }[results.count / 2]
            if json {
                let object: [String: Any] = [
                    "orders": orders, "per_s": median.perSecond.rounded(), "p50_ms": (median.p50 * 10).rounded() / 10,
                    "p99_ms": (median.p99 * 10).rounded() / 10, "lost": results.map(\.lost).max()!,
                    "doubled": results.map(\.doubled).max()!, "store": median.store, "processes": processes,
                    "runs": runs, "per_s_all": results.map { $0.perSecond.rounded() }, "concurrency": concurrency,
                    "connection_concurrency": connectionConcurrency,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("median of \(runs): \(median.summary)")
            }
            if results.contains(where: { $0.lost > 0 || $0.doubled > 0 }) {
                throw BenchError(description: "NOT exactly once: some run lost or doubled orders")
            }
        }
    }
}

struct OrderBenchRun {
    var perSecond: Double
    var p50: Double
    var p99: Double
    var lost: Int
    var doubled: Int
    var store: String
    var orders: Int

    var summary: String {
        String(
            format: "%d orders, %.0f orders/s end to end, webhook → ERP p50 %.1f ms, p99 %.1f ms, lost %d, doubled %d — %@",
            orders, perSecond, p50, p99, lost, doubled, store)
    }
}

/// One run of `kopru bench orders`.
private struct OrderBench {
    let options: Bench.Orders

    func run() async throws -> OrderBenchRun {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-bench-orders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let postgres = options.store else {
            return try await run(storeURL: "sqlite:\(folder.appendingPathComponent("hub.db").path)", folder: folder)
        }
        let scratch = try await ScratchDatabase.create(from: postgres)
        do {
            let result = try await run(storeURL: scratch, folder: folder)
            try await ScratchDatabase.drop(scratch)
            return result
        } catch {
            try? await ScratchDatabase.drop(scratch)
            throw error
        }
    }

    private func run(storeURL: String, folder: URL) async throws -> OrderBenchRun {
        let magento = MagentoSandbox()
        let erp = ERPSandbox()
        // Most ERPs do not deduplicate: a double would be booked, and counted below.
        erp.configure { $0.honoursIdempotencyKey = false }
        var shop = SampleShop(skus: 500)
        for item in shop.items { erp.setStock(code: item.sku, quantity: 1_000_000) }
        let magentoServer = try await SandboxServer(magento.sandbox)
        let erpServer = try await SandboxServer(erp.sandbox)
        defer {
            Task { await magentoServer.shutdown() }
            Task { await erpServer.shutdown() }
        }

        let port = try freeLoopbackPort()
        let config = folder.appendingPathComponent("kopru.yaml")
        let workers = (options.workers.map { "concurrency: \($0), " } ?? "") + "connectionConcurrency: \(options.connectionConcurrency)"
        try MagentoERPHub.configuration(magento: magento, magentoURL: magentoServer.baseURL, erpURL: erpServer.baseURL, workers: workers)
            .write(to: config, atomically: true, encoding: .utf8)
        let environment = MagentoERPHub.environment(
            store: storeURL, config: config, port: port, logLevel: options.hubLog == nil ? "error" : "info")
        let log = try MagentoERPHub.appending(to: options.hubLog)
        let roles = options.processes == 0 ? [["serve"]] : [["serve", "--role", "web"]] + Array(repeating: ["serve", "--role", "worker"], count: options.processes)
        var children: [Process] = []
        defer { for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        // The first starts alone: it migrates the store the others then share.
        for (index, arguments) in roles.enumerated() {
            let child = try MagentoERPHub.spawn(arguments, environment: environment, log: log)
            children.append(child)
            if index == 0 { try await waitUntilHubReady("http://127.0.0.1:\(port)", child: child) }
        }

        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.concurrency
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        defer { _ = client.shutdown() }
        let newOrders = (0..<options.orders).map { _ in shop.order() }
        let progress = SendProgress()
        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<options.concurrency {
                group.addTask {
                    while true {
                        let index = progress.next.add(1, ordering: .relaxed).oldValue
                        guard index < newOrders.count else { return }
                        let placed = magento.placeOrder(newOrders[index])
                        progress.sent.withLock { $0[placed.incrementID] = Date() }
                        try await MagentoERPHub.announce(placed, client: client, base: "http://127.0.0.1:\(port)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let booked = try await waitUntilBookedAndCommented(magento: magento, erp: erp, timeout: .seconds(60 + options.orders / 50))
        let elapsed = clock.now - started
        for child in children { kill(child.processIdentifier, SIGTERM) }
        for child in children { child.waitUntilExit() }

        let placedAt = progress.sent.withLock { $0 }
        var latencies: [Double] = []
        var seen: [String: Int] = [:]
        for order in erp.orders {
            seen[order.orderID, default: 0] += 1
            if seen[order.orderID] == 1, let at = placedAt[order.orderID] { latencies.append(order.bookedAt.timeIntervalSince(at) * 1000) }
        }
        latencies.sort()
        let lost = placedAt.keys.filter { seen[$0] == nil }.count
        let doubled = seen.values.reduce(0) { $0 + max(0, $1 - 1) }
        guard !latencies.isEmpty else { throw BenchError(description: "no order reached the ERP") }
        if !booked { FileHandle.standardError.write(Data("orders bench: timed out before every order was booked and commented\n".utf8)) }
        return OrderBenchRun(
            perSecond: Double(options.orders) / elapsed.seconds, p50: latencies[latencies.count / 2],
            p99: latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))], lost: lost, doubled: doubled,
            store: storeURL.hasPrefix("sqlite:") ? "sqlite (WAL, synchronous=FULL)" : "postgresql",
            orders: options.orders)
    }

    private func waitUntilBookedAndCommented(magento: MagentoSandbox, erp: ERPSandbox, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if erp.bookedDocuments >= options.orders, magento.commentedOrders >= options.orders,
                erp.documentsPerOrder.count >= options.orders
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

/// The senders' shared state: the next order to place, and when each order's webhook went out.
private final class SendProgress: Sendable {
    let next = Atomic<Int>(0)
    let sent = Mutex([String: Date]())
}
