import KopruApp
import ArgumentParser
import AsyncHTTPClient
import ConnectorMagento2
import Crypto
import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore
import KopruStoreSQLite
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

extension Bench {
    struct Webhooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Signed webhooks verified and durably stored per second, with p50/p99 latency.",
            discussion: """
                Starts `kopru serve --role web` as a child process on a temporary SQLite store \
                (synchronous=FULL) with one Magento 2 connection at its shipped webhook settings (the \
                rate limit included), then sends distinct webhooks signed as the companion module signs \
                them (X-Kopru-Timestamp, X-Kopru-Signature: sha256=HMAC of "timestamp.body", a distinct \
                X-Kopru-Delivery and order per request) on keep-alive connections, --concurrency at a \
                time. Each 200 means the event and its job were committed. Afterwards the store is \
                checked: exactly one event job per acknowledged request. Reports the median of --runs runs.

                The load comes from this process (AsyncHTTPClient, --requests webhooks) or, with --wrk, \
                from wrk in a process of its own (Debian: apt-get install wrk) for --duration seconds, \
                sending requests signed beforehand from a file, each once.

                Examples:
                  kopru bench webhooks --json
                  kopru bench webhooks --wrk --json
                  kopru bench webhooks --wrk --backlog 150000 --json
                """)

        @Option(help: "Webhooks per run (in-process load).") var requests = 20_000
        @Option(help: "Requests in flight at once (wrk: connections).") var concurrency = 64
        @Option(help: "Runs; the median is reported.") var runs = 3
        @Option(help: "Body size in bytes: the module's order.placed JSON, padded (a Shopify order is 2-6 KB).")
        var bodyBytes = 2048
        @Flag(help: "Send with wrk, in a process of its own, instead of from this process.") var wrk = false
        @Option(help: "With --wrk: seconds of load per run.") var duration = 15
        @Option(help: "With --wrk: wrk threads.") var wrkThreads = 1
        @Option(help: "Webhooks already pending in the store when a run starts (a backlog the workers have not reached).")
        var backlog = 0
        @Option(help: "The child's role: web (intake alone) or all (the workers also take the events).") var role = "web"
        @Option(help: "Open dashboards during the load: each reloads the overview and reads its live counts every 5 s.")
        var dashboards = 0
        @Flag(help: "Print one JSON object.") var json = false

        struct Run {
            var stored: Int
            var perSecond: Double
            var p50: Double
            var p99: Double
            var store: String
            /// CPU the hub process spent per stored webhook, in microseconds (user + system).
            var hubCPUMicroseconds: Double
            /// CPU the load generator spent per stored webhook.
            var generatorCPUMicroseconds: Double
        }

        func validate() throws {
            guard requests > 0, concurrency > 0, runs > 0, bodyBytes >= 128, duration > 0, wrkThreads > 0, backlog >= 0 else {
                throw ValidationError("counts must be positive, --body-bytes at least 128")
            }
            guard ["web", "all"].contains(role) else { throw ValidationError("--role must be web or all") }
            guard wrkThreads <= concurrency else { throw ValidationError("--wrk-threads cannot exceed --concurrency") }
        }

        func run() async throws {
            quietBenchLogging()
            var results: [Run] = []
            for _ in 0..<runs { results.append(try await once()) }
            let sorted = results.sorted { $0.perSecond < $1.perSecond }
            let median = sorted[sorted.count / 2]
            let generator = wrk ? "wrk (another process)" : "in-process (AsyncHTTPClient)"
            if json {
                var object: [String: Any] = [
                    "requests": median.stored, "per_s": median.perSecond.rounded(), "p50_ms": (median.p50 * 100).rounded() / 100,
                    "p99_ms": (median.p99 * 100).rounded() / 100, "store": median.store, "concurrency": concurrency,
                    "body_bytes": bodyBytes, "runs": runs, "per_s_all": results.map { $0.perSecond.rounded() },
                    "p99_ms_all": results.map { ($0.p99 * 100).rounded() / 100 }, "generator": generator, "role": role,
                    "backlog": backlog, "signing": "magento2 companion module (sha256=HMAC of timestamp.body)", "dashboards": dashboards,
                    "hub_cpu_us_per_webhook": median.hubCPUMicroseconds.rounded(),
                    "generator_cpu_us_per_webhook": median.generatorCPUMicroseconds.rounded(),
                ]
                if wrk { object["duration_s"] = duration }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(
                    "webhooks: \(wrk ? "\(duration) s" : "\(requests)") x \(runs) runs from \(generator), \(concurrency) in flight, "
                        + "\(bodyBytes)-byte bodies, backlog \(backlog), role \(role), \(dashboards) dashboards open, \(median.store)")
                print("  verified + stored: \(Int(median.perSecond)) /s (runs: \(results.map { Int($0.perSecond) }))")
                print("  latency: p50 \(String(format: "%.2f", median.p50)) ms, p99 \(String(format: "%.2f", median.p99)) ms")
                print(
                    "  CPU per webhook: hub \(Int(median.hubCPUMicroseconds)) µs, load generator \(Int(median.generatorCPUMicroseconds)) µs")
            }
        }

        private func once() async throws -> Run {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-bench-webhooks-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let hub = try await BenchHub.start(folder: folder, backlog: backlog, role: role)
            defer { hub.kill() }
            let watchers = dashboards > 0 ? try await DashboardWatchers(count: dashboards, hub: hub) : nil
            defer { watchers?.stop() }
            let load: BenchLoad
            if wrk {
                load = try await WrkLoad(
                    hub: hub, folder: folder, duration: duration, connections: concurrency, threads: wrkThreads, bodyBytes: bodyBytes
                ).run()
            } else {
                load = try await inProcess(hub)
            }
            return try await hub.stopAndVerify(load)
        }

        private func inProcess(_ hub: BenchHub) async throws -> BenchLoad {
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            do {
                let load = try await inProcess(client, hub)
                try await client.shutdown()
                return load
            } catch {
                try? await client.shutdown()
                throw error
            }
        }

        private func inProcess(_ client: HTTPClient, _ hub: BenchHub) async throws -> BenchLoad {
            let requests = (0..<self.requests).map { index -> HTTPClientRequest in
                let webhook = hub.signed(order: index, bodyBytes: bodyBytes)
                var request = HTTPClientRequest(url: "\(hub.base)\(BenchHub.path)")
                request.method = .POST
                for (name, value) in webhook.headers { request.headers.add(name: name, value: value) }
                request.body = .bytes(ByteBuffer(bytes: webhook.body))
                return request
            }
            let next = NextIndex()
            let clock = ContinuousClock()
            let cpuBefore = ProcessCPU.ownMicroseconds()
            let hubBefore = ProcessCPU.microseconds(of: hub.pid)
            let started = clock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var mine: [Double] = []
                        while true {
                            let index = next.take()
                            guard index < requests.count else { return mine }
                            let sent = clock.now
                            let response = try await client.execute(requests[index], timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 16)
                            guard response.status == .ok else {
                                throw BenchError(description: "webhook \(index) answered \(response.status.code)")
                            }
                            let elapsed = clock.now - sent
                            mine.append(elapsed.seconds * 1000)
                        }
                    }
                }
                var all: [Double] = []
                for try await part in group { all += part }
                return all
            }
            let elapsed = clock.now - started
            let hubCPU = ProcessCPU.microseconds(of: hub.pid) - hubBefore
            let sorted = latencies.sorted()
            return BenchLoad(
                acknowledged: requests.count, inFlightAtEnd: 0, seconds: elapsed.seconds, p50: sorted[sorted.count / 2],
                p99: sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))], hubCPUMicroseconds: hubCPU,
                generatorCPUMicroseconds: ProcessCPU.ownMicroseconds() - cpuBefore)
        }
    }
}

/// What a load generator measured.
struct BenchLoad {
    /// Requests answered 200 while measuring.
    var acknowledged: Int
    /// Requests that may have been sent but not answered when the load stopped (wrk cuts its connections).
    var inFlightAtEnd: Int
    var seconds: Double
    var p50: Double
    var p99: Double
    var hubCPUMicroseconds: Double
    var generatorCPUMicroseconds: Double
}

/// `kopru serve` as a child process on a temporary SQLite store with one Magento 2 connection,
/// at that kind's webhook settings: what the companion module's webhooks meet in production.
struct BenchHub {
    static let path = "/webhooks/bench"
    let child: Process
    let base: String
    let port: Int
    let storePath: String
    let key: SymmetricKey
    let secret = "bench-webhook-secret-0123456789"
    /// Pending before the load started.
    let backlog: Int
    let rule: HMACWebhookVerifier.Rule
    /// Makes this run's delivery ids its own.
    let run = UUID().uuidString

    var pid: Int32 { child.processIdentifier }

    static func start(folder: URL, backlog: Int, role: String) async throws -> BenchHub {
        let key = SymmetricKey(size: .bits256)
        let path = folder.appendingPathComponent("hub.db").path
        let rule = try HMACWebhookVerifier.Rule(settings: Magento2Connector.kind.webhooks.defaults)
        let port = try freeLoopbackPort()
        let hub = BenchHub(
            child: Process(), base: "http://127.0.0.1:\(port)", port: port, storePath: path, key: key, backlog: backlog, rule: rule)
        do {
            let store = try SQLiteStore(path: path, secretBox: SecretBox(masterKey: key))
            try await store.migrate()
            try await store.checkMasterKey()
            try await store.saveConnection(
                Connection(
                    id: "bench", type: "magento2", name: "Bench shop", settings: ["baseURL": "https://shop.example.com"],
                    secrets: ["webhookSecret": Secret(hub.secret)]), now: Date())
            try await hub.fillBacklog(store)
        }
        let child = hub.child
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["serve", "--role", role]
        // Only what the bench gives: the caller's own KOPRU_* settings must not leak in.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KOPRU_") }
        environment["KOPRU_STORE"] = "sqlite:\(path)"
        environment["KOPRU_MASTER_KEY"] = key.withUnsafeBytes { Data($0).base64EncodedString() }
        environment["KOPRU_HTTP_PORT"] = "\(port)"
        environment["KOPRU_LOG_LEVEL"] = "error"
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        do {
            try await waitUntilHubReady(hub.base, child: hub.child)
        } catch {
            hub.kill()
            throw error
        }
        return hub
    }

    /// Webhooks already taken but not yet processed, as after a burst the workers have not reached.
    private func fillBacklog(_ store: SQLiteStore) async throws {
        var order = 0
        while order < backlog {
            let batch = (order..<min(order + 1000, backlog)).map { index in
                let deliveryKey = "id:backlog-\(index)"
                return IncomingWebhook(
                    connection: "bench", provider: "magento2", deliveryKey: deliveryKey, topic: "order.placed", receivedAt: Date(),
                    body: Data(Self.body(order: -1 - index, bodyBytes: 256)),
                    jobs: [WebhookReceivedJob.job(
                            for: .init(connection: "bench", deliveryKey: deliveryKey, topic: "order.placed"), receivedAt: Date())])
            }
            _ = try await store.receiveWebhooks(batch)
            order += batch.count
        }
    }

    /// The module's `order.placed` notification, padded with a note to `bodyBytes`.
    static func body(order: Int, bodyBytes: Int) -> [UInt8] {
        let head = #"{"event":"order.placed","entity_id":\#(order),"increment_id":"\#(1_000_000_000 + order)","store_id":1,"note":""#
        return Array((head + String(repeating: "x", count: max(0, bodyBytes - head.utf8.count - 2)) + #""}"#).utf8)
    }

    /// One distinct order, signed now as the companion module signs (Model/Signer.php).
    func signed(order: Int, bodyBytes: Int) -> (headers: [(String, String)], body: [UInt8]) {
        let body = Self.body(order: order, bodyBytes: bodyBytes)
        let timestamp = "\(Int(Date().timeIntervalSince1970))"
        // 32 hex digits, as the module's bin2hex(random_bytes(16)): random-looking, distinct per
        // order and per run, without 16 calls to the system's random source per request.
        let delivery = Array(SHA256.hash(data: Array("\(run):\(order)".utf8))).prefix(16)
        return (
            [
                ("Content-Type", "application/json"), ("X-Kopru-Timestamp", timestamp),
                ("X-Kopru-Signature", HMACWebhookVerifier.signature(for: body, secret: Array(secret.utf8), rule: rule, timestamp: timestamp)),
                ("X-Kopru-Topic", "order.placed"), ("X-Kopru-Delivery", Array(delivery).hexString),
            ], body
        )
    }

    func kill() { if child.isRunning { Foundation.kill(child.processIdentifier, SIGKILL) } }

    /// Stops the hub (SIGTERM: a graceful stop) and checks the store: one event and one job for
    /// every acknowledged webhook, and none for a request that was not sent.
    func stopAndVerify(_ load: BenchLoad) async throws -> Bench.Webhooks.Run {
        Foundation.kill(child.processIdentifier, SIGTERM)
        child.waitUntilExit()
        let store = try SQLiteStore(path: storePath, secretBox: SecretBox(masterKey: key))
        let counts = try await store.jobCounts()
        let jobs = counts.values.reduce(0, +) - backlog
        let events = try await store.webhookEventCount() - backlog
        guard jobs == events, (load.acknowledged...(load.acknowledged + load.inFlightAtEnd)).contains(events) else {
            throw BenchError(
                description:
                    "benchmark invariant broken: \(events) events and \(jobs) event jobs stored for \(load.acknowledged) acknowledged webhooks"
            )
        }
        return Bench.Webhooks.Run(
            stored: load.acknowledged, perSecond: Double(load.acknowledged) / load.seconds, p50: load.p50, p99: load.p99,
            store: store.summary, hubCPUMicroseconds: load.hubCPUMicroseconds / Double(max(1, load.acknowledged)),
            generatorCPUMicroseconds: load.generatorCPUMicroseconds / Double(max(1, load.acknowledged)))
    }
}

/// CPU time (user + system) from the kernel's accounting, in microseconds.
enum ProcessCPU {
    static func microseconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK))) * 1_000_000
    }

    static func ownMicroseconds() -> Double { microseconds(of: getpid()) }

    /// Of this process's children that have ended and been waited for.
    static func childrenMicroseconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        func micros(_ time: timeval) -> Double { Double(time.tv_sec) * 1_000_000 + Double(time.tv_usec) }
        return micros(usage.ru_utime) + micros(usage.ru_stime)
    }
}

/// Hands out request indexes to the load tasks.
private final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
