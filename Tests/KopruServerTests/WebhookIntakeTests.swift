import Foundation
import HTTPTypes
import HummingbirdTesting
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStoreSQLite
import KopruServer
import KopruStore
import NIOCore
import Testing

@Suite("Webhook intake over loopback")
struct WebhookIntakeTests {
    static let body = #"{"id":820982911946154508,"topic":"orders/create","total_price":"1250.00"}"#

    @Test("a signed webhook is stored with its job before the 200; a redelivery is a counted duplicate")
    func acceptsAndDeduplicates() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection()
        try await hub.live { client in
            let (headers, body) = HubFixture.signed(Self.body, delivery: "d-1", extra: [HTTPField.Name("X-Topic")!: "orders/create"])
            let first = try await client.execute(uri: "/webhooks/shop", method: .post, headers: headers, body: body)
            #expect(first.status == .ok)
            #expect(first.json["status"] as? String == "accepted")
            let again = try await client.execute(uri: "/webhooks/shop", method: .post, headers: headers, body: body)
            #expect(again.status == .ok)
            #expect(again.json["status"] as? String == "duplicate")
            #expect(again.json["event"] as? String == first.json["event"] as? String)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains(#"kopru_webhooks_total{provider="shopify",outcome="duplicate"}"#))
        }
        let event = try await hub.store.webhookEvent(connection: "shop", deliveryKey: "id:d-1")
        #expect(event?.topic == "orders/create")
        #expect(event?.body == Data(Self.body.utf8))
        let jobs = try await hub.store.jobs(JobFilter(kind: WebhookReceivedJob.kind))
        #expect(jobs.count == 1)
        #expect(jobs.first?.connection == "shop")
    }

    @Test("without a delivery id, deliveries are told apart by a hash of the body")
    func hashDedupe() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection()
        try await hub.live { client in
            for (body, expected) in [("{\"a\":1}", "accepted"), ("{\"a\":1}", "duplicate"), ("{\"a\":2}", "accepted")] {
                let (headers, buffer) = HubFixture.signed(body)
                let response = try await client.execute(uri: "/webhooks/shop", method: .post, headers: headers, body: buffer)
                #expect(response.json["status"] as? String == expected, "\(body)")
            }
        }
        #expect(try await hub.store.jobs(JobFilter(kind: WebhookReceivedJob.kind)).count == 2)
    }

    @Test("every refusal: status, error code, a log line without the body, and nothing stored")
    func refusals() async throws {
        var hub = try await HubFixture()
        hub.webhooks = .init(bodyLimit: 4096)
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection()
        try await hub.addWebhookConnection("no-secret", secret: nil)
        try await hub.addWebhookConnection("far-away", settings: ["webhook.allowedIPs": "10.0.0.0/8, 2001:db8::/32"])
        try await hub.addWebhookConnection(
            "timed", settings: ["webhook.timestampHeader": "X-Timestamp", "webhook.signedBytes": "timestamp.body"])
        let before = try await hub.snapshot()
        try await hub.live { client in
            func post(_ uri: String, _ headers: HTTPFields, _ body: String) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            let (good, _) = HubFixture.signed(Self.body)
            var wrongSignature = good
            wrongSignature[HTTPField.Name("X-Kopru-Signature")!] = String(repeating: "ab", count: 32)
            var missing = good
            missing[HTTPField.Name("X-Kopru-Signature")!] = nil
            var oneByte = Array(Self.body.utf8)
            oneByte[10] ^= 0x01
            let stale = String(Int(Date().timeIntervalSince1970) - 3600)
            var staleHeaders: HTTPFields = [.contentType: "application/json", HTTPField.Name("X-Timestamp")!: stale]
            staleHeaders[HTTPField.Name("X-Kopru-Signature")!] = HMACWebhookVerifier.signature(
                for: Array(Self.body.utf8), secret: Array("whsec-test-0123456789".utf8),
                rule: .init(signedBytes: .timestampDotBody, timestampHeader: "X-Timestamp"), timestamp: stale)

            let cases: [(String, String, HTTPFields, String, HTTPResponse.Status, String)] = [
                ("wrong signature", "/webhooks/shop", wrongSignature, Self.body, .unauthorized, "signature_invalid"),
                ("one byte changed", "/webhooks/shop", good, String(decoding: oneByte, as: UTF8.self), .unauthorized, "signature_invalid"),
                ("missing signature header", "/webhooks/shop", missing, Self.body, .unauthorized, "signature_missing"),
                ("stale timestamp", "/webhooks/timed", staleHeaders, Self.body, .unauthorized, "timestamp_stale"),
                ("no secret configured", "/webhooks/no-secret", good, Self.body, .forbidden, "webhook_secret_missing"),
                ("unknown connection", "/webhooks/nobody", good, Self.body, .notFound, "connection_unknown"),
                ("unknown provider", "/api/integrations/webhook/nobody", good, Self.body, .notFound, "connection_unknown"),
                ("IP not allowed", "/webhooks/far-away", good, Self.body, .forbidden, "ip_not_allowed"),
                ("oversized body", "/webhooks/shop", good, String(repeating: "x", count: 5000), .contentTooLarge, "body_too_large"),
            ]
            for (name, uri, headers, body, status, code) in cases {
                let response = try await post(uri, headers, body)
                #expect(response.status == status, "\(name)")
                #expect(response.error.code == code, "\(name): \(response.text)")
            }
        }
        #expect(try await hub.snapshot() == before, "refused webhooks stored nothing")
        let refusals = hub.logs.all.filter { $0.contains("webhook refused") }
        #expect(refusals.count == 9)
        #expect(!hub.logs.all.contains { $0.contains("820982911946154508") }, "no body in the log")
    }

    @Test("a sender whose clock is 10 minutes off either way: refused as stale by the 5-minute window, accepted with clock.skewSeconds 600")
    func clockSkewWidensTheSignatureWindow() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let timed = ["webhook.timestampHeader": "X-Timestamp", "webhook.signedBytes": "timestamp.body"]
        try await hub.addWebhookConnection("timed", settings: timed)
        try await hub.addWebhookConnection("skewed", settings: timed.merging([ClockSkew.settingKey: "600"]) { $1 })
        try await hub.live { client in
            var delivery = 0
            func post(_ uri: String, offBy seconds: Int) async throws -> TestResponse {
                delivery += 1
                let stamp = String(Int(Date().timeIntervalSince1970) + seconds)
                var headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("X-Timestamp")!: stamp]
                headers[HTTPField.Name("X-Delivery-Id")!] = "skew-\(delivery)"
                headers[HTTPField.Name("X-Kopru-Signature")!] = HMACWebhookVerifier.signature(
                    for: Array(Self.body.utf8), secret: Array("whsec-test-0123456789".utf8),
                    rule: .init(signedBytes: .timestampDotBody, timestampHeader: "X-Timestamp"), timestamp: stamp)
                return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: Self.body))
            }
            for offset in [-590, 590] {
                let refused = try await post("/webhooks/timed", offBy: offset)
                #expect(refused.status == .unauthorized && refused.error.code == "timestamp_stale", "\(offset) s: \(refused.text)")
                #expect(try await post("/webhooks/skewed", offBy: offset).status == .ok, "\(offset) s off, with the skew configured")
            }
            // The window is wider by the skew, not open: 5 + 10 minutes.
            #expect(try await post("/webhooks/skewed", offBy: -960).error.code == "timestamp_stale")
        }
        #expect(try await hub.store.jobs(JobFilter(kind: WebhookReceivedJob.kind)).count == 2)
    }

    @Test("the allow-list admits the sender's network; the rate limit answers 429 with Retry-After")
    func allowListAndRateLimit() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection(
            settings: ["webhook.allowedIPs": "127.0.0.0/8", "webhook.ratePerSecond": "0.01", "webhook.burst": "3"])
        try await hub.live { client in
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for index in 1...5 {
                let (headers, body) = HubFixture.signed("{\"n\":\(index)}", delivery: "d-\(index)")
                let response = try await client.execute(uri: "/webhooks/shop", method: .post, headers: headers, body: body)
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    retryAfter = response.headers[.retryAfter]
                    #expect(response.error.code == "rate_limited")
                }
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .ok })
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
            #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
        }
        #expect(try await hub.store.jobs(JobFilter(kind: WebhookReceivedJob.kind)).count == 3)
    }

    @Test("at the shipped rate limit a burst of 1,000 webhooks on one connection is taken whole: no 429")
    func defaultRateLimitTakesABurst() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection()
        let statuses = try await hub.live(.ahc()) { client in
            try await withThrowingTaskGroup(of: [UInt].self) { group in
                // Eight senders at once, as a shop's queue workers redeliver after an outage.
                for sender in 0..<8 {
                    group.addTask {
                        var statuses: [UInt] = []
                        for index in stride(from: sender, to: 1_000, by: 8) {
                            let (headers, body) = HubFixture.signed("{\"n\":\(index)}", delivery: "burst-\(index)")
                            let response = try await client.execute(uri: "/webhooks/shop", method: .post, headers: headers, body: body)
                            statuses.append(UInt(response.status.code))
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0 += $1 }
            }
        }
        #expect(statuses.count == 1_000)
        #expect(statuses.filter { $0 != 200 }.isEmpty, "refused: \(Dictionary(grouping: statuses.filter { $0 != 200 }) { $0 }.mapValues(\.count))")
        #expect(try await hub.store.jobs(JobFilter(kind: WebhookReceivedJob.kind, limit: 2_000)).count == 1_000)
    }

    @Test("the provider route finds the connection by header or by a JSON pointer into the body")
    func providerRouting() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection(
            "shop-a", settings: ["webhook.routeBy": "header:X-Shopify-Shop-Domain", "webhook.routeValue": "a.myshopify.com"])
        try await hub.addWebhookConnection(
            "shop-b", settings: ["webhook.routeBy": "header:X-Shopify-Shop-Domain", "webhook.routeValue": "b.myshopify.com"])
        try await hub.addWebhookConnection(
            "pay", type: "iyzico", settings: ["webhook.routeBy": "json:/merchant/id", "webhook.routeValue": "M-42"])
        try await hub.live { client in
            let (headersB, bodyB) = HubFixture.signed(
                Self.body, delivery: "x1", extra: [HTTPField.Name("X-Shopify-Shop-Domain")!: "b.myshopify.com"])
            let routed = try await client.execute(uri: "/api/integrations/webhook/shopify", method: .post, headers: headersB, body: bodyB)
            #expect(routed.status == .ok)
            let (headersC, bodyC) = HubFixture.signed(
                Self.body, delivery: "x2", extra: [HTTPField.Name("X-Shopify-Shop-Domain")!: "c.myshopify.com"])
            let unmatched = try await client.execute(uri: "/api/integrations/webhook/shopify", method: .post, headers: headersC, body: bodyC)
            #expect(unmatched.status == .notFound)
            let payment = #"{"merchant":{"id":"M-42"},"status":"SUCCESS"}"#
            let (headersP, bodyP) = HubFixture.signed(payment, delivery: "p1")
            let paid = try await client.execute(uri: "/api/integrations/webhook/iyzico", method: .post, headers: headersP, body: bodyP)
            #expect(paid.status == .ok, "\(paid.text)")
        }
        #expect(try await hub.store.webhookEvent(connection: "shop-b", deliveryKey: "id:x1") != nil)
        #expect(try await hub.store.webhookEvent(connection: "shop-a", deliveryKey: "id:x1") == nil)
        #expect(try await hub.store.webhookEvent(connection: "pay", deliveryKey: "id:p1") != nil)
    }
}
