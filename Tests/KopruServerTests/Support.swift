import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KopruApp
import KopruConnectors
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import KopruStoreSQLite
import Logging
import NIOCore
import Synchronization
import Testing

/// A hub on a fresh SQLite file with one admin token, served live on loopback.
struct HubFixture {
    let store: SQLiteStore
    let directory: URL
    let token: String
    let logs = CapturedLogs()
    var webhooks = WebhookIntake.Configuration()
    var flows = FlowCatalog([])
    var kinds = HubKinds.forServerTests
    let sessionKey = DashboardKey.random()

    init(kinds: HubKinds = .forServerTests, flows: FlowCatalog = FlowCatalog([])) async throws {
        self.kinds = kinds
        self.flows = flows
        HubMetrics.bootstrap()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("hub.db").path, secretBox: .ephemeral())
        try await store.migrate()
        try await store.checkMasterKey()
        let (token, hash) = AdminTokens.generate()
        try await store.createToken(APIToken(name: "tester", hash: hash, createdAt: Date()))
        self.token = token
    }

    var auth: HTTPFields { [.authorization: "Bearer \(token)"] }
    var jsonAuth: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    /// Runs `body` against the hub served on a free loopback port (`.ahc()` for requests sent
    /// from several tasks at once, on a pool of connections).
    func live<Value: Sendable>(
        _ setup: TestingSetup = .live, _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let logs = self.logs
        var dependencies = HubServerDependencies(
            store: store, kinds: kinds, webhooks: webhooks, makeLogger: { label in Logger(label: label) { logs.handler(label: $0) } }, flows: flows)
        dependencies.sessionKey = sessionKey
        let app = buildApplication(dependencies, host: "127.0.0.1", port: 0)
        return try await app.test(setup, body)
    }

    /// A webhook connection: HMAC-SHA256 hex in X-Kopru-Signature, delivery id in X-Delivery-Id.
    func addWebhookConnection(
        _ id: String = "shop", type: String = "shopify", secret: String? = "whsec-test-0123456789",
        settings: [String: String] = [:]
    ) async throws {
        var all = ["webhook.deliveryIdHeader": "X-Delivery-Id", "webhook.topicHeader": "X-Topic"]
        all.merge(settings) { $1 }
        try await store.saveConnection(
            Connection(
                id: ConnectionID(id), type: type, name: id, settings: all,
                secrets: secret.map { ["webhookSecret": Secret($0)] } ?? [:]), now: Date())
    }

    static func signed(
        _ body: String, secret: String = "whsec-test-0123456789", delivery: String? = nil, extra: HTTPFields = [:]
    ) -> (HTTPFields, ByteBuffer) {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name("X-Kopru-Signature")!] = HMACWebhookVerifier.signature(
            for: Array(body.utf8), secret: Array(secret.utf8))
        if let delivery { headers[HTTPField.Name("X-Delivery-Id")!] = delivery }
        for field in extra { headers[field.name] = field.value }
        return (headers, ByteBuffer(string: body))
    }

    /// Everything the store holds that a request could change, for "nothing was harmed" checks.
    func snapshot() async throws -> String {
        let connections = try await store.connections().map { "\($0.id) \($0.type) \($0.name) \($0.settings.sorted { $0.key < $1.key }) \($0.secrets.mapValues { $0.reveal() }.sorted { $0.key < $1.key }) \($0.paused)" }
        let jobs = try await store.jobs(JobFilter(limit: 10_000)).map { "\($0.id) \($0.kind) \($0.status) \($0.idempotencyKey) \($0.attempts)" }
        let tokens = try await store.tokens().map { "\($0.name) \($0.hash) \(String(describing: $0.revokedAt))" }
        return (connections + jobs + tokens).joined(separator: "\n")
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: directory)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    var error: (code: String?, field: String?, message: String) {
        let error = json["error"] as? [String: Any]
        return (error?["code"] as? String, error?["field"] as? String, error?["message"] as? String ?? "")
    }
}

/// Log lines from the server's loggers, kept for inspection.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func handler(label: String) -> any LogHandler {
        CapturingHandler(label: label, sink: self)
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
}

private struct CapturingHandler: LogHandler {
    let label: String
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(label): \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

/// A kind with no connector behind it, for routes that only read the kind (webhooks, config).
struct StubConnector: Sendable {}

extension HubKinds {
    /// The installed kinds, and three the API tests use that have no connector here yet.
    static let forServerTests = HubKinds(
        connectors: Installed.connectors + [
            .stub("shopify", [.orderFeed, .customerFeed, .stockSink, .priceSink, .orderShipmentSink]), .stub("hepsiburada", [.orderFeed]),
            .stub("iyzico", []),
        ],
        flows: Installed.flows)
}

extension ConnectorKind {
    static func stub(_ id: String, _ capabilities: Set<Capability>) -> ConnectorKind {
        ConnectorKind(
            id: id, name: id.capitalized, capabilities: capabilities,
            endpointLimits: { _ in EndpointLimits(fallback: EndpointClass(name: "default", limit: nil) { _, _ in true }) },
            build: { _ in StubConnector() })
    }
}
