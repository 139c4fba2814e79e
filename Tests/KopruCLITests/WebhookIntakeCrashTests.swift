import Crypto
import Foundation
import KopruCore
import KopruStore
import KopruStoreSQLite
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Invariant 1 with a real process: `serve --role all` is SIGKILLed twice while signed webhooks
/// pour in, and the sender re-delivers whatever it was not answered 2xx for (and some it was),
/// as providers do. Every event that was acknowledged is stored, and each exactly once.
@Suite("Webhook intake crash", .serialized)
struct WebhookIntakeCrashTests {
    static let secret = "intake-crash-secret-0123456789"

    final class Sender: Sendable {
        let base: URL
        let session: URLSession
        private let acked = Mutex<Set<Int>>([])
        private let next = Mutex(0)

        init(port: Int) {
            base = URL(string: "http://127.0.0.1:\(port)/webhooks/shop")!
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = 3
            session = URLSession(configuration: configuration)
        }

        var acknowledged: Set<Int> { acked.withLock { $0 } }

        func take(_ count: Int) -> Int? {
            next.withLock { index in
                defer { index += 1 }
                return index < count ? index : nil
            }
        }

        /// One delivery attempt; true when the hub answered 2xx.
        func deliver(_ index: Int) async -> Bool {
            let body = Data(#"{"id":\#(index),"topic":"orders/create"}"#.utf8)
            var request = URLRequest(url: base)
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("d-\(index)", forHTTPHeaderField: "X-Delivery-Id")
            let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(WebhookIntakeCrashTests.secret.utf8)))
            request.setValue(Data(signature).map { String(format: "%02x", $0) }.joined(), forHTTPHeaderField: "X-Kopru-Signature")
            guard let (_, response) = try? await session.data(for: request), let status = (response as? HTTPURLResponse)?.statusCode,
                (200..<300).contains(status)
            else { return false }
            acked.withLock { _ = $0.insert(index) }
            return true
        }

        /// Re-delivers until answered 2xx, as a provider retries.
        func deliverUntilAcknowledged(_ index: Int, deadline: ContinuousClock.Instant) async {
            while ContinuousClock.now < deadline {
                if await deliver(index) { return }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("two SIGKILLs of serve --role all during intake, with re-delivery: every acknowledged event stored, once")
    func killDuringIntake() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-intake-crash-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try freeLoopbackPort()
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            connections:
              - id: shop
                type: erp-rest
                settings: {baseURL: "https://erp.example.com/api/", webhook: {deliveryIdHeader: X-Delivery-Id, ratePerSecond: 100000, burst: 100000}}
                secrets: {webhookSecret: \(Self.secret)}
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let database = folder.appendingPathComponent("hub.db").path
        let environment = [
            "KOPRU_STORE": "sqlite:\(database)", "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path,
            "KOPRU_HTTP_PORT": "\(port)", "KOPRU_LOG_LEVEL": "warning",
        ]
        let log = folder.appendingPathComponent("kopru.log")
        let sender = Sender(port: port)
        func start() async throws -> KopruProcess {
            let hub = try KopruProcess(["serve", "--role", "all"], environment: environment, logFile: log)
            var ready = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            ready.timeoutInterval = 1
            try await eventually("the hub is ready", timeout: .seconds(60)) {
                ((try? await sender.session.data(for: ready))?.1 as? HTTPURLResponse)?.statusCode == 200
            }
            return hub
        }

        let count = 600
        var hub = try await start()
        let deadline = ContinuousClock.now + .seconds(240)
        let senders = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        while let index = sender.take(count) { await sender.deliverUntilAcknowledged(index, deadline: deadline) }
                    }
                }
            }
        }
        var killedAt: [Int] = []
        for threshold in [150, 350] {
            try await eventually("\(threshold) acknowledged", timeout: .seconds(120)) { sender.acknowledged.count >= threshold }
            hub.signal(SIGKILL)
            _ = try await hub.waitForExit()
            killedAt.append(sender.acknowledged.count)
            hub = try await start()
        }
        await senders.value
        // A provider that timed out on an answer sends it again: answered 2xx as a duplicate.
        for index in stride(from: 0, to: count, by: 12) { #expect(await sender.deliver(index), "re-delivery of d-\(index)") }
        hub.signal(SIGTERM)
        _ = try await hub.waitForExit()

        #expect(sender.acknowledged.count == count, "acknowledged \(sender.acknowledged.count) of \(count)")
        #expect(killedAt.allSatisfy { $0 < count }, "the kills came during intake: \(killedAt)")
        let store = try SQLiteStore(path: database, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))
        var missing: [Int] = []
        for index in sender.acknowledged.sorted() where try await store.webhookEvent(connection: "shop", deliveryKey: "id:d-\(index)") == nil {
            missing.append(index)
        }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(10))")
        let rows = try sqliteCount(database, "SELECT count(*) FROM webhook_events")
        #expect(rows == count, "\(rows) stored events for \(count) deliveries")
    }

    /// Counted with the sqlite3 shell, apart from the store's own code.
    func sqliteCount(_ database: String, _ sql: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [database, sql]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return Int(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
