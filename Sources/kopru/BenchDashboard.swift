import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import KopruApp
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import KopruStoreSQLite
import NIOCore
import NIOHTTP1

extension Bench {
    struct Dashboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How fast the dashboard's pages answer over a large store (SQLite).",
            discussion: """
                Fills a temporary SQLite store with --orders orders (in the order index, as the order \
                flow writes them), --events log lines over three connections (external calls, exports, \
                1 % errors) and 50 dead letters, serves the hub on loopback, signs in, and times each \
                page --requests times after a warm-up. Reports the median and the slowest per page.
                """)

        @Option(help: "Orders in the store.") var orders = 100_000
        @Option(help: "Log lines in the store.") var events = 1_000_000
        @Option(help: "Timed requests per page.") var requests = 20
        @Option(help: "Folder for the temporary database (default: the system's temporary folder).") var directory: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            guard orders > 0, events > 0, requests > 0 else { throw ValidationError("counts must be positive") }
            quietBenchLogging()
            let folder = URL(fileURLWithPath: directory ?? NSTemporaryDirectory()).appendingPathComponent("kopru-bench-dashboard-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let store = try SQLiteStore(path: folder.appendingPathComponent("hub.db").path, secretBox: .ephemeral())
            try await store.migrate()
            let filled = ContinuousClock.now
            let sample = try await fill(store)
            if !json { print("filled \(orders) orders and \(events) log lines in \(String(format: "%.1f", (ContinuousClock.now - filled).seconds)) s") }

            let (token, hash) = AdminTokens.generate()
            try await store.createToken(APIToken(name: "bench", hash: hash, createdAt: Date()))
            let port = try freeLoopbackPort()
            let flows = FlowCatalog([FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp")])
            let application = buildApplication(HubServerDependencies(store: store, kinds: Installed.kinds, flows: flows), host: "127.0.0.1", port: port)
            let server = Task { try await application.runService() }
            defer { server.cancel() }
            let base = "http://127.0.0.1:\(port)"
            try await waitUntilHubReady(base)
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            defer { _ = client.shutdown() }
            let cookie = try await Self.signIn(client, base: base, token: token)

            let pages = [
                ("overview", "/"), ("orders", "/orders"), ("orders by number", "/orders?q=\(sample.number)"),
                ("orders pending", "/orders?pending=1"), ("order timeline", "/orders/\(sample.order.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"),
                ("logs", "/logs"), ("logs erp errors", "/logs?connection=erp&level=error"), ("logs rare kind", "/logs?kind=signin"),
                ("dead letters", "/dead-letters"), ("connection", "/connections/erp"), ("job", "/jobs/\(sample.job)"),
                ("live counts", "/dashboard/live.json"),
            ]
            var results: [(String, Double, Double)] = []
            for (name, path) in pages {
                var times: [Double] = []
                for index in 0..<(requests + 3) {
                    var request = HTTPClientRequest(url: base + path)
                    request.headers.add(name: "Cookie", value: cookie)
                    let start = ContinuousClock.now
                    let response = try await client.execute(request, timeout: .seconds(60))
                    _ = try await response.body.collect(upTo: 16 << 20)
                    guard response.status == .ok else { throw BenchError(description: "\(path) answered \(response.status.code)") }
                    if index >= 3 { times.append((ContinuousClock.now - start).seconds * 1000) }
                }
                times.sort()
                results.append((name, times[times.count / 2], times.last!))
            }
            if json {
                let body = results.map { "\"\($0.0)\":{\"p50_ms\":\(String(format: "%.2f", $0.1)),\"max_ms\":\(String(format: "%.2f", $0.2))}" }
                print("{\"orders\":\(orders),\"events\":\(events),\"store\":\"\(store.summary)\",\"pages\":{\(body.joined(separator: ","))}}")
            } else {
                for (name, median, slowest) in results {
                    print("\(name.padding(toLength: 18, withPad: " ", startingAt: 0)) p50 \(String(format: "%7.2f", median)) ms   max \(String(format: "%7.2f", slowest)) ms")
                }
            }
        }

        static func signIn(_ client: HTTPClient, base: String, token: String) async throws -> String {
            var request = HTTPClientRequest(url: base + "/login")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: "token=\(token)"))
            let response = try await client.execute(request, timeout: .seconds(10))
            guard let cookie = response.headers["Set-Cookie"].first(where: { $0.hasPrefix("kopru_session=") }) else {
                throw BenchError(description: "sign-in failed: \(response.status.code)")
            }
            return String(cookie.prefix { $0 != ";" })
        }

        /// Orders through job completions (the only way the order index is written), log lines
        /// in batches, dead letters by claiming and failing jobs.
        private func fill(_ store: SQLiteStore) async throws -> (order: String, number: String, job: JobID) {
            let now = Date()
            for connection in ["shop", "erp", "horoz"] {
                try await store.saveConnection(
                    Connection(id: ConnectionID(connection), type: connection == "shop" ? "magento2" : connection == "erp" ? "erp-rest" : "horoz",
                        name: connection, settings: ["baseURL": "http://127.0.0.1:1/"]), now: now)
            }
            var written = 0
            var batch = 0
            while written < orders {
                let count = min(2_000, orders - written)
                var effects: [StoreEffect] = []
                for index in written..<(written + count) {
                    let number = String(format: "%09d", index + 1)
                    let seen = now.addingTimeInterval(Double(index - orders) * 6)
                    effects.append(
                        .recordOrder(
                            OrderRecord(
                                id: "shop:\(number)", connection: "shop", externalID: "\(index + 1)", number: number, status: "accepted",
                                total: "129.90", currency: "TRY", placedAt: seen, firstSeenAt: seen, updatedAt: seen,
                                seenVia: index.isMultiple(of: 3) ? "poll" : "webhook", exportQueuedAt: seen, exportTarget: "erp")))
                    if !index.isMultiple(of: 50) {
                        effects.append(.recordOrderExport(order: "shop:\(number)", target: "erp", reference: "SO-\(number)", at: seen))
                    }
                }
                try await complete(effects, in: store, key: "fill-\(batch)", now: now)
                written += count
                batch += 1
            }
            let sampleNumber = String(format: "%09d", orders / 2)
            let sampleJob = try await store.enqueue(
                [NewJob(kind: OrderExportJob.kind, idempotencyKey: "orders:shop:\(sampleNumber)", connection: "erp")], now: now)[0].id
            var appended = 0
            while appended < events {
                let count = min(10_000, events - appended)
                var lines: [EventRecord] = []
                lines.reserveCapacity(count)
                for index in appended..<(appended + count) {
                    let connection: ConnectionID = ["shop", "erp", "horoz"][index % 3]
                    let failed = index.isMultiple(of: 100)
                    let at = now.addingTimeInterval(Double(index - events) * 0.6)
                    lines.append(
                        index.isMultiple(of: 10)
                            ? EventRecord(
                                at: at, level: .info, kind: "export", connection: connection, subject: "order:shop:\(String(format: "%09d", index % max(orders, 1) + 1))",
                                message: "order exported")
                            : EventRecord(
                                at: at, level: failed ? .error : .info, kind: "external_call", connection: connection, subject: "job:\(index + 1_000)",
                                message: failed ? "POST /api/v2/orders → 503" : "GET /rest/V1/orders → 200", details: ["status": failed ? "503" : "200"],
                                durationMilliseconds: 12))
                }
                try await store.append(lines)
                appended += count
            }
            try await store.append([
                EventRecord(at: now, level: .info, kind: "external_call", connection: "erp", subject: "job:\(sampleJob)", message: "POST /api/v2/orders → 201")
            ])
            for index in 0..<50 {
                _ = try await store.enqueue([NewJob(kind: OrderExportJob.kind, idempotencyKey: "dead-\(index)", connection: "erp")], now: now)
            }
            let claimed = try await store.claim(ClaimRequest(owner: "bench", limit: 100, leaseDuration: 60, now: now, slots: .unlimited))
            _ = try await store.complete(
                claimed.filter { $0.job.idempotencyKey.hasPrefix("dead-") }.map {
                    JobCompletion(lease: $0.lease, outcome: .dead(reason: "HTTP 422: Unknown product code 'SKU-9'"), now: now)
                })
            return ("shop:\(sampleNumber)", sampleNumber, sampleJob)
        }

        private func complete(_ effects: [StoreEffect], in store: SQLiteStore, key: String, now: Date) async throws {
            _ = try await store.enqueue([NewJob(kind: "bench.fill", idempotencyKey: key)], now: now)
            let claimed = try await store.claim(ClaimRequest(owner: "bench", limit: 1, leaseDuration: 60, now: now, kinds: ["bench.fill"], slots: .unlimited))
            _ = try await store.complete([JobCompletion(lease: claimed[0].lease, outcome: .succeeded, effects: effects, now: now)])
        }
    }
}

/// Dashboards left open while a benchmark runs: each signs in, then every 5 s reloads the
/// overview and reads the live counts (a real page only reads the counts; the reload makes this
/// the heavier case). Requests that fail are counted, not fatal.
final class DashboardWatchers: Sendable {
    private let tasks: [Task<Void, Never>]
    private let client: HTTPClient

    init(count: Int, hub: BenchHub) async throws {
        let store = try SQLiteStore(path: hub.storePath, secretBox: SecretBox(masterKey: hub.key))
        let (token, hash) = AdminTokens.generate()
        try await store.createToken(APIToken(name: "bench-dashboards-\(UUID().uuidString.prefix(6))", hash: hash, role: .read, createdAt: Date()))
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.client = client
        let base = hub.base
        // One sign-in for all: the form takes five attempts a minute from one address.
        let cookie = try await Bench.Dashboard.signIn(client, base: base, token: token)
        tasks = (0..<count).map { index in
            Task {
                // Spread over the period, as dashboards opened at different times are.
                try? await Task.sleep(for: .milliseconds(5_000 * index / max(count, 1)))
                while !Task.isCancelled {
                    for path in ["/", "/dashboard/live.json"] {
                        var request = HTTPClientRequest(url: base + path)
                        request.headers.add(name: "Cookie", value: cookie)
                        if let response = try? await client.execute(request, timeout: .seconds(30)) {
                            _ = try? await response.body.collect(upTo: 16 << 20)
                        }
                    }
                    try? await Task.sleep(for: .seconds(5))
                }
            }
        }
    }

    func stop() {
        for task in tasks { task.cancel() }
        _ = client.shutdown()
    }
}
