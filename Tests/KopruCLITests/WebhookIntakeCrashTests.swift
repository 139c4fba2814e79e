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
        let sender = WebhookSender(port: port, secret: Self.secret)
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
        let senders = sender.deliverAll(count, deadline: deadline)
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
}
