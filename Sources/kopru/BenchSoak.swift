import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import KopruApp
import KopruCore
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Synchronization

extension Bench {
    /// `kopru bench soak`: the demo's traffic for minutes, through real hub processes, with
    /// faults and a worker killed on a schedule: does memory stay flat, does the queue keep up,
    /// is every order booked once?
    struct Soak: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Minutes of traffic with 5 % faults and a worker SIGKILLed periodically: RSS over time, lag, lost and doubled orders.",
            discussion: """
                Serves the Magento and REST ERP sandboxes from this process, and runs the hub as a \
                `kopru serve --role web` process and --processes worker processes on one SQLite \
                store. For --minutes it places --orders-per-second orders in Magento, each announced \
                by the companion module's signed webhook, and changes stock in the ERP every second \
                (the stock flow runs every minute). Both sandboxes fail --faults of their requests \
                (5xx, 429, dropped connections, timeouts, and on the ERP answers lost after the \
                order was saved). Every --kill-every seconds one worker process is killed with \
                SIGKILL and started again; the web process and the first worker are never killed, \
                so their memory can be followed. Then traffic stops, the queue drains, and the ERP's \
                ledger is checked: orders missing (lost) or booked more than once (doubled).

                Reported: the web process's and the long-lived worker's RSS each minute and their \
                growth from the end of the first minute to the last, and each order's lag from its \
                webhook to its booking in the ERP (p50, p99, max). Build with -c release.
                """)

        @Option(help: "Minutes of traffic.") var minutes = 10.0
        @Option(name: .customLong("orders-per-second"), help: "Orders placed per second.") var ordersPerSecond = 10.0
        @Option(help: "Worker processes (at least 2: one is never killed).") var processes = 2
        @Option(name: .customLong("kill-every"), help: "Seconds between SIGKILLs of a worker.") var killEvery = 60.0
        @Option(help: "Share of each sandbox's requests that fail (0…0.5).") var faults = 0.05
        @Option(help: "Catalogue size.") var skus = 2000
        @Option(help: "workers.leaseSeconds: how long a worker's jobs stay its own without a heartbeat (the shipped default: 60).")
        var leaseSeconds = 60.0
        @Option(help: "workers.deadWorkerSeconds: how long after a killed worker is seen dead the long-lived one takes its jobs (shipped: 5; 0: only when the lease expires).")
        var deadWorkerSeconds = 5.0
        @Option(help: "Append the hub processes' logs (level info) to this file.") var hubLog: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard minutes > 0, ordersPerSecond > 0, ordersPerSecond <= 500, killEvery >= 5, skus >= 10, leaseSeconds >= 1, deadWorkerSeconds >= 0 else {
                throw ValidationError("--minutes and --orders-per-second (≤ 500) must be positive, --kill-every ≥ 5, --skus ≥ 10, --lease-seconds ≥ 1, --dead-worker-seconds ≥ 0")
            }
            guard processes >= 2 else { throw ValidationError("--processes must be at least 2: one worker is never killed") }
            guard (0...0.5).contains(faults) else { throw ValidationError("--faults must be a share between 0 and 0.5") }
        }

        func run() async throws {
            quietBenchLogging()
            let result = try await SoakRun(options: self).run()
            if json {
                let object: [String: Any] = [
                    "minutes": minutes, "orders": result.orders, "lost": result.lost, "doubled": result.doubled,
                    "rss_growth_pct": (result.growth * 10).rounded() / 10, "lag_p99_ms": result.lag.p99.rounded(),
                    "lag_p50_ms": result.lag.p50.rounded(), "lag_max_ms": result.lag.max.rounded(), "kills": result.kills,
                    "dead_letters": result.dead, "faults": faults, "processes": processes, "orders_per_second": ordersPerSecond,
                    "drained": result.drained, "store": "sqlite (WAL, synchronous=FULL)", "lease_seconds": leaseSeconds, "dead_worker_seconds": deadWorkerSeconds,
                    "rss_mb": result.samples.map { ["minute": $0.minute, "web": $0.web, "worker": $0.worker] },
                    "rss_growth_pct_web": (result.webGrowth * 10).rounded() / 10,
                    "rss_growth_pct_worker": (result.workerGrowth * 10).rounded() / 10,
                    "unbooked": result.unbooked, "late_webhooks": result.late, "unexpected_exits": result.unexpectedExits,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(result.summary(minutes: minutes))
            }
            if result.lost > 0 || result.doubled > 0 { throw BenchError(description: "NOT exactly once: orders lost or doubled") }
            if !result.drained { throw BenchError(description: "the queue did not drain within 5 minutes of the traffic's end") }
        }
    }
}

/// The outcome of one soak.
struct SoakResult {
    struct Sample {
        var minute: Int
        var web: Double
        var worker: Double
    }

    struct Lag {
        var p50 = 0.0
        var p99 = 0.0
        var max = 0.0
    }

    var orders: Int
    /// Not booked once the queue drained; orders still on their way when the drain timed out
    /// are `unbooked` instead.
    var lost: Int
    var unbooked: Int
    /// Orders placed more than 100 ms after they were due (the hub had 64 webhooks unanswered).
    var late: Int
    /// Killed workers found already dead at their turn.
    var unexpectedExits: Int
    var doubled: Int
    var dead: Int
    var kills: Int
    var drained: Bool
    var samples: [Sample]
    var webGrowth: Double
    var workerGrowth: Double
    var lag: Lag
    var growth: Double { Swift.max(webGrowth, workerGrowth) }

    func summary(minutes: Double) -> String {
        var lines = samples.map { String(format: "minute %3d: web %6.1f MB, worker %6.1f MB", $0.minute, $0.web, $0.worker) }
        lines.append(
            String(
                format: "%.0f min, %d orders, %d worker kills: lost %d, doubled %d, dead letters %d; RSS growth web %.1f %%, worker %.1f %%; "
                    + "webhook → ERP p50 %.0f ms, p99 %.0f ms, max %.0f ms%@",
                minutes, orders, kills, lost, doubled, dead, webGrowth, workerGrowth, lag.p50, lag.p99, lag.max,
                drained ? "" : " (NOT drained in time: \(unbooked) not booked yet)"))
        return lines.joined(separator: "\n")
    }
}

/// One soak: sandboxes here, the hub in child processes.
private struct SoakRun {
    let options: Bench.Soak

    func run() async throws -> SoakResult {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-bench-soak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let magento = MagentoSandbox()
        let erp = ERPSandbox()
        erp.configure { $0.honoursIdempotencyKey = false }
        var shop = SampleShop(skus: options.skus)
        for item in shop.items {
            magento.setStock(sku: item.sku, quantity: 0)
            erp.setStock(code: item.sku, quantity: 1_000_000)
        }
        let share = options.faults
        // The share split over the kinds of failure each system has; the ERP also saves some
        // orders and then loses the answer, the case only asking it can settle.
        erp.sandbox.setFaults([
            "*": FaultPlan(
                latencyMilliseconds: 1...10, serverErrorShare: share * 0.4, rateLimitShare: share * 0.2, timeoutShare: share * 0.1,
                dropShare: share * 0.1, commitThenFailShare: share * 0.2)
        ])
        magento.sandbox.setFaults([
            "*": FaultPlan(
                latencyMilliseconds: 1...5, serverErrorShare: share * 0.5, rateLimitShare: share * 0.2, timeoutShare: share * 0.1,
                dropShare: share * 0.2)
        ])
        let magentoServer = try await SandboxServer(magento.sandbox)
        let erpServer = try await SandboxServer(erp.sandbox)
        defer {
            Task { await magentoServer.shutdown() }
            Task { await erpServer.shutdown() }
        }

        let port = try freeLoopbackPort()
        let config = folder.appendingPathComponent("kopru.yaml")
        let retries = ["retry.baseMilliseconds": "200", "retry.capMilliseconds": "5000", "retry.maxAttempts": "40", "timeoutSeconds": "2"]
        try MagentoERPHub.configuration(
            magento: magento, magentoURL: magentoServer.baseURL, erpURL: erpServer.baseURL, workers: "connectionConcurrency: 16, leaseSeconds: \(options.leaseSeconds), deadWorkerSeconds: \(options.deadWorkerSeconds)",
            shopSettings: retries.merging(["stock.mode": "source-items", "inputLimit": "100"]) { $1 }, erpSettings: retries,
            flows: [
                "{name: orders, kind: orders, from: shop, to: erp}",
                "{name: stock, kind: stock, from: erp, to: shop, schedule: \"* * * * *\"}",
            ]
        ).write(to: config, atomically: true, encoding: .utf8)
        let environment = MagentoERPHub.environment(
            store: "sqlite:\(folder.appendingPathComponent("hub.db").path)", config: config, port: port,
            logLevel: options.hubLog == nil ? "error" : "info")
        let log = try MagentoERPHub.appending(to: options.hubLog)
        let base = "http://127.0.0.1:\(port)"

        // The web process starts alone and migrates the store; it and workers[0] are never killed.
        let web = try MagentoERPHub.spawn(["serve", "--role", "web"], environment: environment, log: log)
        var workers: [Process] = []
        defer { for child in [web] + workers where child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        try await waitUntilHubReady(base, child: web)
        for _ in 0..<options.processes { workers.append(try MagentoERPHub.spawn(["serve", "--role", "worker"], environment: environment, log: log)) }

        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        defer { _ = client.shutdown() }

        let placedAt = Mutex([String: Date]())
        let clock = ContinuousClock()
        let started = clock.now
        let end = started + .seconds(options.minutes * 60)
        let interval = Duration.seconds(1 / options.ordersPerSecond)
        var nextOrder = started
        var nextSecond = started
        var nextKill = started + .seconds(options.killEvery)
        var nextSample = started
        var kills = 0
        var late = 0
        var unexpectedExits = 0
        var victim = 1
        var rss: [(at: Duration, web: Double, worker: Double)] = []
        let inFlight = InFlight()
        try await withThrowingDiscardingTaskGroup { announcements in
            while clock.now < end {
                let now = clock.now
                // At most 64 webhooks in flight, as a store's outbox would send them.
                while nextOrder <= now, inFlight.count.load(ordering: .relaxed) < 64 {
                    // The lag counts from when the order was due: an order held back because the
                    // hub had not answered 64 webhooks yet has waited for the hub too.
                    let due = Date().addingTimeInterval(-(now - nextOrder).seconds)
                    if now - nextOrder > .milliseconds(100) { late += 1 }
                    nextOrder += interval
                    let placed = magento.placeOrder(shop.order())
                    placedAt.withLock { $0[placed.incrementID] = due }
                    inFlight.count.add(1, ordering: .relaxed)
                    announcements.addTask {
                        await Self.announce(placed, client: client, base: base)
                        inFlight.count.subtract(1, ordering: .relaxed)
                    }
                }
                if nextSecond <= now {
                    nextSecond += .seconds(1)
                    for _ in 0..<5 { erp.setStock(code: shop.item().sku, quantity: shop.int(0...50) + 1_000) }
                }
                if nextSample <= now {
                    nextSample += .seconds(5)
                    // A process gone would read as 0 MB: no growth, a pass.
                    guard web.isRunning, workers[0].isRunning else {
                        throw BenchError(description: "the \(web.isRunning ? "long-lived worker" : "web process") exited during the soak")
                    }
                    rss.append((now - started, Self.residentMegabytes(web.processIdentifier), Self.residentMegabytes(workers[0].processIdentifier)))
                }
                if nextKill <= now {
                    nextKill += .seconds(options.killEvery)
                    // Round the workers but the first: SIGKILL, then a new process in its place.
                    // One that already died is not signalled (its pid may be another's now).
                    if workers[victim].isRunning {
                        kill(workers[victim].processIdentifier, SIGKILL)
                        workers[victim].waitUntilExit()
                    } else {
                        unexpectedExits += 1
                    }
                    workers[victim] = try MagentoERPHub.spawn(["serve", "--role", "worker"], environment: environment, log: log)
                    kills += 1
                    victim = victim + 1 < workers.count ? victim + 1 : 1
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        let placed = placedAt.withLock { $0 }
        let store = try SQLiteStore(
            path: folder.appendingPathComponent("hub.db").path,
            secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: environment["KOPRU_MASTER_KEY"]!)!)))
        let drained = try await Self.waitUntilDrained(placed.count, magento: magento, erp: erp, store: store, timeout: .seconds(300))
        for child in [web] + workers where child.isRunning { kill(child.processIdentifier, SIGTERM) }
        for child in [web] + workers { child.waitUntilExit() }
        let dead = try await store.jobCounts()[.dead] ?? 0

        var counts: [String: Int] = [:]
        var lags: [Double] = []
        for order in erp.orders {
            counts[order.orderID, default: 0] += 1
            if counts[order.orderID] == 1, let at = placed[order.orderID] { lags.append(order.bookedAt.timeIntervalSince(at) * 1000) }
        }
        lags.sort()
        var lag = SoakResult.Lag()
        if !lags.isEmpty {
            lag = .init(p50: lags[lags.count / 2], p99: lags[min(lags.count - 1, Int(Double(lags.count) * 0.99))], max: lags.last!)
        }
        let samples = Self.perMinute(rss)
        let unbooked = placed.keys.filter { counts[$0] == nil }.count
        return SoakResult(
            orders: placed.count, lost: drained ? unbooked : 0, unbooked: drained ? 0 : unbooked, late: late,
            unexpectedExits: unexpectedExits,
            doubled: counts.values.reduce(0) { $0 + max(0, $1 - 1) }, dead: dead, kills: kills, drained: drained, samples: samples,
            webGrowth: Self.growth(rss.map { ($0.at, $0.web) }), workerGrowth: Self.growth(rss.map { ($0.at, $0.worker) }), lag: lag)
    }

    /// One webhook; a refusal (the hub's 503 while its store is busy) is sent again, as the
    /// module's outbox does, and the poll would find the order anyway.
    static func announce(_ placed: (entityID: Int, incrementID: String), client: HTTPClient, base: String) async {
        for attempt in 1...5 {
            let status = try? await MagentoERPHub.announce(placed, client: client, base: base, requireOK: false)
            if status == 200 { return }
            try? await Task.sleep(for: .milliseconds(200 * attempt))
        }
    }

    /// VmRSS of a process, in MB (0 when it is gone).
    static func residentMegabytes(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    /// The last sample of each minute.
    static func perMinute(_ rss: [(at: Duration, web: Double, worker: Double)]) -> [SoakResult.Sample] {
        var byMinute: [Int: SoakResult.Sample] = [:]
        for sample in rss {
            let minute = Int(sample.at.components.seconds / 60) + 1
            byMinute[minute] = .init(minute: minute, web: (sample.web * 10).rounded() / 10, worker: (sample.worker * 10).rounded() / 10)
        }
        return byMinute.keys.sorted().map { byMinute[$0]! }
    }

    /// Growth in percent from the end of the warm-up (the first minute, or the first third of a
    /// shorter run) to the end: the mean of the samples in the minute after the warm-up against
    /// the mean of the last minute's.
    static func growth(_ samples: [(Duration, Double)]) -> Double {
        guard let last = samples.last?.0, samples.count >= 4 else { return 0 }
        let warmUp = min(Duration.seconds(60), last / 3)
        let window = min(Duration.seconds(60), last / 3)
        let early = samples.filter { $0.0 >= warmUp && $0.0 < warmUp + window }.map(\.1)
        let late = samples.filter { $0.0 > last - window }.map(\.1)
        guard !early.isEmpty, !late.isEmpty else { return 0 }
        let before = early.reduce(0, +) / Double(early.count)
        let after = late.reduce(0, +) / Double(late.count)
        return before > 0 ? (after - before) / before * 100 : 0
    }

    /// Until every order is booked and commented and no export waits or runs (one still
    /// retrying could yet book a double).
    static func waitUntilDrained(
        _ count: Int, magento: MagentoSandbox, erp: ERPSandbox, store: SQLiteStore, timeout: Duration
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if erp.documentsPerOrder.count >= count, magento.commentedOrders >= count,
                try await store.jobs(JobFilter(statuses: [.pending, .running], kind: "order.export", limit: 1)).isEmpty
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

/// Webhooks sent and not yet answered.
private final class InFlight: Sendable {
    let count = Atomic<Int>(0)
}
