import Foundation
import HTTPTypes
import HummingbirdTesting
import KopruConnectors
import KopruCore
import KopruServer
import KopruStore
import KopruStoreSQLite
import NIOCore
import Testing

@Suite("Robustness and secrets")
struct RobustnessTests {
    /// Deterministic, so a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static let templates = [
        "/healthz", "/readyz", "/metrics", "/openapi.json", "/webhooks/{}", "/api/integrations/webhook/{}", "/api/integrations",
        "/api/integrations/{}/config", "/api/integrations/{}", "/api/integrations/{}/sync", "/api/integrations/{}/logs", "/api/jobs",
        "/api/jobs/{}", "/api/jobs/{}/retry", "/api/dead-letters", "/api/dead-letters/{}/replay", "/{}", "/api/{}/{}",
    ]
    static let segments = [
        "shop", "shopify", "magento2", "0", "-1", "99999999999999999999", "%FF%FE%FD", "%C3%28", "..", "%2e%2e", "a%00b",
        String(repeating: "x", count: 3000), "%C4%B0stanbul", "%E2%82", "%7B%7D", "'%20OR%201=1", "webhook",
    ]
    static let queries = ["", "?limit=0", "?limit=abc", "?cursor=-5", "?level=%FF", "?from=2026-13-45", "?status=,,,", "?x=%ZZ", "?limit=99999999999999999999"]

    @Test("1,200 malformed or random requests: no 5xx, the hub still answers, the store is unchanged")
    func fuzz() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection()
        _ = try await hub.store.enqueue([NewJob(kind: "test.kind", idempotencyKey: "k1", payload: Data("{}".utf8))], now: Date())
        let before = try await hub.snapshot()
        let token = hub.token
        let failures = try await hub.live { client in
            var random = Generator(state: 20_261_123)
            var failures: [String] = []
            let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch, .options, .head]
            for index in 0..<1200 {
                var path = Self.templates.randomElement(using: &random)!
                while let range = path.range(of: "{}") {
                    path.replaceSubrange(range, with: Self.segments.randomElement(using: &random)!)
                }
                path += Self.queries.randomElement(using: &random)!
                let method = methods.randomElement(using: &random)!
                var headers: HTTPFields = [:]
                switch random.next() % 4 {
                case 0: headers[.authorization] = "Bearer \(token)"
                case 1: headers[.authorization] = "Bearer kopru_\(random.next())"
                case 2: headers[.authorization] = ["Basic", "Bearer", "bearer  ", ""].randomElement(using: &random)!
                default: break
                }
                headers[.contentType] = ["application/json", "text/plain", "application/json; charset=latin1", "multipart/form-data", "x"]
                    .randomElement(using: &random)!
                if random.next() % 2 == 0 {
                    headers[HTTPField.Name("X-Kopru-Signature")!] = ["", "zz", String(repeating: "0", count: 64), "sha256=abc"]
                        .randomElement(using: &random)!
                }
                if random.next() % 3 == 0 { headers[HTTPField.Name("X-Delivery-Id")!] = "\(random.next())" }
                let body = Self.body(&random)
                let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
                if response.status.code >= 500 { failures.append("#\(index) \(method) \(path.prefix(80)) → \(response.status.code) \(response.text)") }
                if method != .head, response.status.code >= 400, response.error.code == nil {
                    failures.append("#\(index) \(method) \(path.prefix(80)) → \(response.status.code) without the JSON error shape")
                }
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            return failures
        }
        #expect(failures == [])
        #expect(try await hub.snapshot() == before)
    }

    static func body(_ random: inout Generator) -> ByteBuffer? {
        switch random.next() % 7 {
        case 0: return nil
        case 1: return ByteBuffer(bytes: (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case 2: return ByteBuffer(bytes: [0xC3, 0x28, 0xFF, 0xFE, 0x7B, 0x22, 0xA0, 0xA1])  // invalid UTF-8
        case 3:
            return ByteBuffer(
                string: [#"{"id":"#, #"{"flow":123}"#, #"{"settings":[]}"#, "null", #"{"a":"\ud800"}"#, "{\"id\":\"x\"}}}}", "[[[[[[[["]
                    .randomElement(using: &random)!)
        case 4: return ByteBuffer(repeating: UInt8(ascii: "a"), count: (1 << 20) + 10)
        case 5: return ByteBuffer(string: String(repeating: "{\"a\":", count: 2000))
        default: return ByteBuffer(string: "{}")
        }
    }

    @Test("a planted secret appears in no response, no log line and no database file")
    func plantedSecret() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let planted = "PLANTED-7f3a9c2e-d41d-SECRET"
        let token = hub.token
        let responses = try await hub.live { client in
            var bodies: [String] = []
            func call(_ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields, _ body: String? = nil) async throws {
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                bodies.append(response.text + " " + response.headers.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
            }
            let json: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            try await call(.post, "/api/integrations/shopify/config", json,
                #"{"id":"shop","api_key":"\#(planted)","secrets":{"webhookSecret":"\#(planted)"},"settings":{"webhook.deliveryIdHeader":"X-Delivery-Id"}}"#)
            try await call(.post, "/api/integrations/shopify/config", json, #"{"id":"shop","secrets":{"token":"\#(planted)-2"}}"#)
            try await call(.post, "/api/integrations/shopify/config", json, #"{"id":"shop","secrets":{"other":["\#(planted)"]}}"#)
            try await call(.get, "/api/integrations", auth)
            try await call(.get, "/api/integrations/shop", auth)
            try await call(.post, "/api/integrations/shop/sync", json, #"{"flow":"orders"}"#)
            try await call(.get, "/api/integrations/shop/logs", auth)
            try await call(.get, "/api/jobs", auth)
            try await call(.get, "/api/jobs/1", auth)
            try await call(.post, "/api/jobs/1/retry", auth)
            try await call(.get, "/api/dead-letters", auth)
            try await call(.post, "/api/dead-letters/1/replay", auth)
            let body = #"{"id":1}"#
            var signed: HTTPFields = [.contentType: "application/json", HTTPField.Name("X-Delivery-Id")!: "d1"]
            signed[HTTPField.Name("X-Kopru-Signature")!] = HMACWebhookVerifier.signature(for: Array(body.utf8), secret: Array(planted.utf8))
            try await call(.post, "/webhooks/shop", signed, body)
            try await call(.post, "/api/integrations/webhook/shopify", signed, body)
            var forged = signed
            forged[HTTPField.Name("X-Kopru-Signature")!] = planted
            try await call(.post, "/webhooks/shop", forged, body)
            try await call(.get, "/api/integrations", [.authorization: "Bearer \(planted)"])
            try await call(.get, "/metrics", [:])
            try await call(.get, "/openapi.json", [:])
            try await call(.delete, "/api/integrations/shop", auth)
            return bodies
        }
        #expect(try await hub.store.connection("shop")?.secrets["webhookSecret"]?.reveal() == planted, "the secret was stored")
        for text in responses { #expect(!text.contains(planted), "response: \(text.prefix(200))") }
        for line in hub.logs.all { #expect(!line.contains(planted), "log: \(line)") }
        #expect(hub.logs.all.count > 10)
        let files = try FileManager.default.contentsOfDirectory(atPath: hub.directory.path)
        #expect(files.contains("hub.db"))
        for file in files {
            let bytes = try Data(contentsOf: hub.directory.appendingPathComponent(file))
            #expect(bytes.range(of: Data(planted.utf8)) == nil, "plain secret in \(file)")
            #expect(bytes.range(of: Data(token.utf8)) == nil, "plain admin token in \(file)")
        }
    }
}
