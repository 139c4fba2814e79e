import KopruApp
import ArgumentParser
import AsyncHTTPClient
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
                (synchronous=FULL) with one connection, then sends --requests distinct signed webhooks \
                from this process over loopback, --concurrency at a time, on keep-alive connections. \
                Each 200 means the event and its job were committed. Afterwards the store is checked: \
                exactly one event job per request. Reports the median of --runs runs.
                """)

        @Option(help: "Webhooks per run.") var requests = 20_000
        @Option(help: "Requests in flight at once.") var concurrency = 64
        @Option(help: "Runs; the median is reported.") var runs = 3
        @Option(help: "Body size in bytes (a Shopify order is 2-6 KB).") var bodyBytes = 2048
        @Flag(help: "Print one JSON object.") var json = false

        struct Run {
            var perSecond: Double
            var p50: Double
            var p99: Double
            var store: String
        }

        func run() async throws {
            guard requests > 0, concurrency > 0, runs > 0, bodyBytes >= 64 else { throw ValidationError("counts must be positive") }
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .error
                return handler
            }
            var results: [Run] = []
            for _ in 0..<runs { results.append(try await once()) }
            let sorted = results.sorted { $0.perSecond < $1.perSecond }
            let median = sorted[sorted.count / 2]
            if json {
                let object: [String: Any] = [
                    "requests": requests, "per_s": median.perSecond.rounded(), "p50_ms": (median.p50 * 100).rounded() / 100,
                    "p99_ms": (median.p99 * 100).rounded() / 100, "store": median.store, "concurrency": concurrency,
                    "body_bytes": bodyBytes, "runs": runs, "per_s_all": results.map { $0.perSecond.rounded() },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(
                    "webhooks: \(requests) x \(runs) runs, \(concurrency) in flight, \(bodyBytes)-byte bodies, \(median.store)")
                print("  verified + stored: \(Int(median.perSecond)) /s (runs: \(results.map { Int($0.perSecond) }))")
                print("  latency: p50 \(String(format: "%.2f", median.p50)) ms, p99 \(String(format: "%.2f", median.p99)) ms")
            }
        }

        private func once() async throws -> Run {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-bench-webhooks-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let key = SymmetricKey(size: .bits256)
            let path = folder.appendingPathComponent("hub.db").path
            let secret = "bench-webhook-secret-0123456789"
            do {
                let store = try SQLiteStore(path: path, secretBox: SecretBox(masterKey: key))
                try await store.migrate()
                try await store.checkMasterKey()
                try await store.saveConnection(
                    Connection(
                        // Any installed kind: the generic HMAC rule, as a REST ERP's webhooks use.
                        id: "bench", type: "erp-rest", name: "Bench",
                        settings: [
                            "baseURL": "https://erp.example.com/api/", "webhook.deliveryIdHeader": "X-Delivery-Id",
                            "webhook.ratePerSecond": "1000000",
                        ],
                        secrets: ["webhookSecret": Secret(secret)]), now: Date())
            }
            let port = try freePort()
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            child.arguments = ["serve", "--role", "web"]
            var environment = ProcessInfo.processInfo.environment
            environment["KOPRU_STORE"] = "sqlite:\(path)"
            environment["KOPRU_MASTER_KEY"] = key.withUnsafeBytes { Data($0).base64EncodedString() }
            environment["KOPRU_HTTP_PORT"] = "\(port)"
            environment["KOPRU_LOG_LEVEL"] = "error"
            environment["KOPRU_CONFIG"] = nil
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }

            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let base = "http://127.0.0.1:\(port)"
            do {
                let run = try await load(client, base: base, secret: secret, child: child)
                try await client.shutdown()
                return try await verify(run, path: path, key: key)
            } catch {
                try? await client.shutdown()
                throw error
            }
        }

        private func load(_ client: HTTPClient, base: String, secret: String, child: Process) async throws -> (Double, [Double]) {
            try await waitUntilReady(client, base)

            let filler = String(repeating: "x", count: max(0, bodyBytes - 60))
            let requests = (0..<self.requests).map { index -> HTTPClientRequest in
                let body = #"{"id":\#(index),"note":"\#(filler)"}"#
                var request = HTTPClientRequest(url: "\(base)/webhooks/bench")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "X-Delivery-Id", value: "delivery-\(index)")
                request.headers.add(
                    name: "X-Kopru-Signature", value: HMACWebhookVerifier.signature(for: Array(body.utf8), secret: Array(secret.utf8)))
                request.body = .bytes(ByteBuffer(string: body))
                return request
            }
            let next = NextIndex()
            let clock = ContinuousClock()
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
            kill(child.processIdentifier, SIGTERM)
            child.waitUntilExit()
            return (elapsed.seconds, latencies)
        }

        private func verify(_ run: (Double, [Double]), path: String, key: SymmetricKey) async throws -> Run {
            let (seconds, latencies) = run
            let store = try SQLiteStore(path: path, secretBox: SecretBox(masterKey: key))
            let stored = try await store.jobCounts()[.pending] ?? 0
            guard stored == self.requests else {
                throw BenchError(description: "benchmark invariant broken: \(stored) event jobs for \(self.requests) webhooks")
            }
            let sorted = latencies.sorted()
            return Run(
                perSecond: Double(self.requests) / seconds,
                p50: sorted[sorted.count / 2], p99: sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))],
                store: store.summary)
        }

        private func waitUntilReady(_ client: HTTPClient, _ base: String) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let response = try? await client.execute(HTTPClientRequest(url: "\(base)/readyz"), timeout: .seconds(1)),
                    response.status == .ok
                {
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw BenchError(description: "the hub did not become ready within 30 s")
        }

        /// A port nobody is listening on (the kernel's choice for port 0), for the child to take.
        private func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw BenchError(description: "cannot find a free port (errno \(errno))") }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }
}

/// Hands out request indexes to the load tasks.
private final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
