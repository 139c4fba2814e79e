import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Logging
import Testing

/// Issue 15.5: every outbound call is a line of its connection's event log, over real loopback
/// HTTP to the ERP sandbox, through the call log `kopru` wraps each connector's transport in.
@Suite("Call log")
struct CallLogTests {
    static let erp: ConnectionID = "erp"

    /// An ERP sandbox on loopback and a call log over `store`, recording for connection "erp".
    struct World {
        let sandbox = ERPSandbox()
        let server: SandboxServer
        let log: CallLog
        let transport: any HTTPTransport

        init(store: any Store, bodyBytes: Int = CallLog.defaultBodyBytes) async throws {
            server = try await SandboxServer(sandbox.sandbox)
            log = CallLog(store: store, bodyBytes: bodyBytes)
            transport = log.recording(AsyncHTTPClientTransport(), for: CallLogTests.erp)
        }

        func url(_ path: String) -> URL { URL(string: server.baseURL.absoluteString + "/api/v2/" + path)! }

        func request(
            _ method: HTTPRequest.Method = .get, _ path: String, key: String = "erp-sandbox-key", body: String = "",
            timeout: Duration = .seconds(10)
        ) -> OutboundRequest {
            var headers: HTTPFields = [.authorization: "Bearer \(key)"]
            if !body.isEmpty { headers[.contentType] = "application/json" }
            return OutboundRequest(method: method, url: url(path), headers: headers, body: Data(body.utf8), timeout: timeout)
        }
    }

    static func calls(_ store: any Store) async throws -> [EventRecord] {
        try await store.events(EventFilter(connection: erp, kind: "external_call")).reversed()
    }

    @Test("a job's call over loopback lands in its connection's log: method, path, status, duration, job")
    func jobCallIsLogged() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-calllog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("hub.db").path, secretBox: .ephemeral())
        try await store.migrate()
        let world = try await World(store: store)
        world.sandbox.setStock(["SKU-1": 4, "SKU-2": 0])
        world.sandbox.sandbox.setFaults(FaultPlan(latencyMilliseconds: 40...40), on: "stocks.list")
        let transport = world.transport
        let request = world.request(.get, "stocks")
        let handler = ClosureJobHandler(kind: "test.read-stock") { _ in
            let response = try await transport.send(request)
            guard response.status == 200 else { throw ConnectorError.permanent("stocks answered \(response.status)") }
            return .done
        }
        var quiet = Logger(label: "kopru.test")
        quiet.logLevel = .critical
        let processor = JobProcessor(
            store: store, registry: JobRegistry([handler]),
            configuration: JobProcessorConfiguration(pollInterval: .milliseconds(20)), logger: quiet)
        let job = try await store.enqueue([NewJob(kind: "test.read-stock", idempotencyKey: "1", connection: Self.erp)], now: Date())[0].id
        let working = Task { try await processor.run() }
        // The log's own service writes the line: nothing here flushes it by hand.
        let flushing = Task { try await world.log.run() }
        defer {
            processor.stop()
            world.log.stop()
            Task { await world.server.shutdown() }
        }
        try await eventually("the call in the log", timeout: .seconds(30)) { try await !Self.calls(store).isEmpty }
        processor.stop()
        world.log.stop()
        _ = try? await working.value
        _ = try? await flushing.value

        let call = try #require(try await Self.calls(store).first)
        #expect(call.connection == Self.erp)
        #expect(call.level == .info)
        #expect(call.details["method"] == "GET")
        #expect(call.details["path"] == "/api/v2/stocks")
        #expect(call.details["host"] == "127.0.0.1:\(world.server.port)")
        #expect(call.details["status"] == "200")
        #expect(call.details["job"] == "\(job)")
        #expect(call.subject == "job:\(job)")
        #expect(try #require(call.durationMilliseconds) >= 40, "the sandbox waited 40 ms before answering")
        #expect(call.details["response_body"]?.contains("SKU-1") == true, "\(call.details)")
        #expect(call.message == "GET /api/v2/stocks → 200")
    }

    @Test("no secret reaches the log: credential headers, user info, secret query values and body keys")
    func secretsAreRedacted() async throws {
        let store = MemoryStore()
        let world = try await World(store: store)
        defer { Task { await world.server.shutdown() } }
        var request = world.request(
            .post, "customers?api_key=query-secret-1&page=2", key: "erp-sandbox-key",
            body: #"{"email":"a@example.com","password":"body-secret-2","nested":{"token":"body-secret-3"},"note":"Key: body-secret-4"}"#)
        var components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        (components.user, components.password) = ("url-user-5", "url-secret-6")
        request.url = components.url!
        request.headers[HTTPField.Name("X-Api-Key")!] = "header-secret-7"
        _ = try? await world.transport.send(request)
        // The sandbox refuses a wrong key; its answer is logged too, and must not echo the key.
        _ = try await world.transport.send(world.request(.get, "stocks", key: "wrong-key-8"))
        await world.log.flush()

        let calls = try await Self.calls(store)
        #expect(calls.count == 2)
        let stored = calls.map { "\($0)" }.joined(separator: "\n")
        for secret in [
            "erp-sandbox-key", "query-secret-1", "body-secret-2", "body-secret-3", "body-secret-4", "url-user-5", "url-secret-6",
            "header-secret-7", "wrong-key-8",
        ] {
            #expect(!stored.contains(secret), "\(secret) was stored: \(stored)")
        }
        let first = try #require(calls.first)
        #expect(first.details["path"] == "/api/v2/customers?api_key=***&page=2")
        #expect(first.details["request_body"]?.contains(#""password":"***""#) == true, "\(first.details)")
        #expect(first.details["request_body"]?.contains("a@example.com") == true, "what is not secret stays readable")
    }

    @Test("bodies are cut to the configured size; 0 keeps none")
    func bodiesAreCut() async throws {
        let store = MemoryStore()
        let world = try await World(store: store, bodyBytes: 100)
        defer { Task { await world.server.shutdown() } }
        world.sandbox.setStock(Dictionary(uniqueKeysWithValues: (1...50).map { ("SKU-ÇĞİ-\($0)", $0) }))
        let big = #"{"notes":[\#((1...40).map { #""satır-\#($0)-ğüşöç""# }.joined(separator: ","))]}"#
        _ = try await world.transport.send(world.request(.post, "customers", body: big))
        _ = try await world.transport.send(world.request(.get, "stocks"))
        await world.log.flush()
        let calls = try await Self.calls(store)
        #expect(calls.count == 2)
        for call in calls {
            for name in ["request_body", "response_body"] {
                guard let body = call.details[name] else { continue }
                #expect(body.utf8.count <= 100, "\(name): \(body.utf8.count) bytes")
            }
        }
        for body in [calls[0].details["request_body"], calls[1].details["response_body"]] {
            #expect(body?.hasSuffix("…") == true, "a long body says it was cut: \(body ?? "none")")
        }
        #expect(calls[0].details["request_bytes"] == "\(big.utf8.count)")
        #expect(calls[1].details["response_body"]?.hasPrefix("[{") == true, "\(calls[1].details)")

        // A bulk-sized body is logged by its size: masking it would mean parsing all of it.
        let bulk = #"{"rows":[\#(Array(repeating: #"{"sku":"SKU-000001","qty":12}"#, count: 3000).joined(separator: ","))]}"#
        _ = try await world.transport.send(world.request(.post, "customers", body: bulk))
        await world.log.flush()
        let logged = try #require(try await Self.calls(store).last)
        #expect(logged.details["request_body"] == "(\(bulk.utf8.count) bytes, not kept)", "\(logged.details)")
        #expect(logged.details["request_bytes"] == "\(bulk.utf8.count)")

        let bare = MemoryStore()
        let none = try await World(store: bare, bodyBytes: 0)
        defer { Task { await none.server.shutdown() } }
        _ = try await none.transport.send(none.request(.post, "customers", body: big))
        await none.log.flush()
        let call = try #require(try await Self.calls(bare).first)
        #expect(call.details["request_body"] == nil && call.details["response_body"] == nil, "\(call.details)")
        #expect(call.details["status"] != nil)
    }

    @Test("levels: info below 400, warning for 4xx and 429, error for 5xx, timeouts and refused connections")
    func levelsFollowTheOutcome() async throws {
        let store = MemoryStore()
        let world = try await World(store: store)
        defer { Task { await world.server.shutdown() } }
        _ = try await world.transport.send(world.request(.get, "stocks"))
        _ = try await world.transport.send(world.request(.get, "stocks", key: "wrong"))
        world.sandbox.sandbox.setFaults(FaultPlan(rateLimitShare: 1, retryAfterSeconds: 7), on: "stocks.list")
        _ = try await world.transport.send(world.request(.get, "stocks"))
        world.sandbox.sandbox.setFaults(FaultPlan(serverErrorShare: 1), on: "stocks.list")
        _ = try await world.transport.send(world.request(.get, "stocks"))
        world.sandbox.sandbox.setFaults(FaultPlan(timeoutShare: 1), on: "stocks.list")
        await #expect(throws: (any Error).self) { try await world.transport.send(world.request(.get, "stocks", timeout: .milliseconds(300))) }
        let closed = try await SandboxServer(ERPSandbox().sandbox)
        let refused = closed.baseURL.appendingPathComponent("api/v2/stocks")
        await closed.shutdown()
        await #expect(throws: (any Error).self) {
            try await world.transport.send(OutboundRequest(method: .get, url: refused, timeout: .seconds(1)))
        }
        await world.log.flush()

        let calls = try await Self.calls(store)
        #expect(calls.map(\.level) == [.info, .warning, .warning, .error, .error, .error], "\(calls.map(\.message))")
        #expect(calls.prefix(3).map { $0.details["status"] } == ["200", "401", "429"])
        #expect(calls.count > 3 && calls[3].details["status"]?.hasPrefix("5") == true, "the sandbox answers 500 or 503")
        for failed in calls.suffix(2) {
            let error = try #require(failed.details["error"], "\(failed.details)")
            #expect(!error.isEmpty && !error.contains("127.0.0.1") && !error.contains(":"), "a type name, not a text: \(error)")
            #expect(failed.details["status"] == nil)
            #expect(failed.durationMilliseconds != nil)
        }
        #expect(try #require(calls[4].durationMilliseconds) >= 300, "the timeout's wait is its duration")
    }

    @Test("the event retention purges call lines like any other")
    func retentionPurgesCalls() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-calllog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("hub.db").path, secretBox: .ephemeral())
        try await store.migrate()
        let world = try await World(store: store)
        defer { Task { await world.server.shutdown() } }
        for _ in 0..<3 { _ = try await world.transport.send(world.request(.get, "stocks")) }
        await world.log.flush()
        #expect(try await Self.calls(store).count == 3)
        let retention = EventRetention(store: store, retention: .seconds(30 * 86_400))
        _ = try await retention.purgeOnce(now: Date().addingTimeInterval(29 * 86_400))
        #expect(try await Self.calls(store).count == 3, "younger than the retention: kept")
        _ = try await retention.purgeOnce(now: Date().addingTimeInterval(31 * 86_400))
        #expect(try await Self.calls(store).isEmpty, "older than the retention: purged")
    }

    /// Answers 200 at once, as fast as a transport can.
    struct Instant: HTTPTransport {
        func send(_ request: OutboundRequest) async throws -> InboundResponse { InboundResponse(status: 200) }
    }

    @Test("a call never waits on the store: lines wait in a bounded buffer, the oldest dropped and counted")
    func callsOnlyBuffer() async throws {
        let store = MemoryStore()
        let log = CallLog(store: store, capacity: 3)
        let transport = log.recording(Instant(), for: Self.erp)
        for number in 1...5 {
            _ = try await transport.send(OutboundRequest(method: .get, url: URL(string: "https://erp.example/call/\(number)")!))
        }
        #expect(try await Self.calls(store).isEmpty, "nothing is written until the log flushes")
        #expect(log.droppedCalls == 2)
        await log.flush()
        #expect(try await Self.calls(store).map { $0.details["path"] } == ["/call/3", "/call/4", "/call/5"])
    }
}
