import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient
import KopruSandbox
import Testing

@testable import ConnectorMagento2

/// The wire contract: Magento's three ways in, the spec's OAuth vector, and sandboxes that
/// refuse what the real systems refuse.
@Suite struct ConnectorContractTests {
    @Test func oauthSignatureMatchesTheSpecVector() {
        let signer = OAuth1Signer(
            consumerKey: "ck1234567890abcdef", consumerSecret: "cs_secret_abc", token: "at1234567890abcdef",
            tokenSecret: "ats_secret_xyz")
        let url = URL(string: "https://shop.example.com/rest/default/V1/orders?searchCriteria%5BpageSize%5D=1")!
        let oauth = [
            ("oauth_consumer_key", "ck1234567890abcdef"), ("oauth_nonce", "n0nce123"), ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", "1763900000"), ("oauth_token", "at1234567890abcdef"), ("oauth_version", "1.0"),
        ]
        #expect(
            signer.baseString(method: "GET", url: url, oauth: oauth)
                == "GET&https%3A%2F%2Fshop.example.com%2Frest%2Fdefault%2FV1%2Forders&oauth_consumer_key%3Dck1234567890abcdef%26oauth_nonce%3Dn0nce123%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1763900000%26oauth_token%3Dat1234567890abcdef%26oauth_version%3D1.0%26searchCriteria%255BpageSize%255D%3D1"
        )
        #expect(signer.signature(method: "GET", url: url, oauth: oauth) == "M51QSd2HRY4tCyxu4UC/6DjAT6yYATG4/kXZpHvcEyc=")
    }

    func connector(_ magento: MagentoSandbox, settings: [String: String], secrets: [String: String]) throws -> Magento2Connector {
        try Magento2Connector(
            connection: "shop", settings: ["baseURL": "http://shop.test"].merging(settings) { $1 },
            secrets: secrets.mapValues { Secret($0) }, transport: SandboxTransport(magento.sandbox))
    }

    @Test func magentoLetsAnIntegrationInByOAuthByBearerOnlyWhenAllowedAndByAdminToken() async throws {
        let magento = MagentoSandbox()
        magento.placeOrder(FlowHarness.order(1))
        let credentials = magento.credentials
        let oauth = try connector(
            magento, settings: [:],
            secrets: [
                "consumerKey": credentials.consumerKey, "consumerSecret": credentials.consumerSecret,
                "accessToken": credentials.accessToken, "accessTokenSecret": credentials.accessTokenSecret,
            ])
        #expect(try await oauth.orders(after: FeedPosition(updatedAt: .distantPast, id: 0), limit: 10).count == 1)

        let forged = try connector(
            magento, settings: [:],
            secrets: [
                "consumerKey": credentials.consumerKey, "consumerSecret": "wrong", "accessToken": credentials.accessToken,
                "accessTokenSecret": credentials.accessTokenSecret,
            ])
        await #expect(throws: ConnectorError.self) { try await forged.orders(after: .init(updatedAt: .distantPast, id: 0), limit: 10) }

        let bearer = try connector(magento, settings: ["auth": "bearer"], secrets: ["accessToken": credentials.accessToken])
        do {
            _ = try await bearer.orders(after: .init(updatedAt: .distantPast, id: 0), limit: 10)
            Issue.record("bearer integration tokens are off by default since 2.4.4")
        } catch let error as ConnectorError {
            #expect(error.disposition == .authentication)
            #expect(error.message.contains("Magento_Sales::sales"), "template filled: \(error.message)")
        }
        magento.configure { credentials, _ in credentials.bearerIntegrationTokens = true }
        #expect(try await bearer.orders(after: .init(updatedAt: .distantPast, id: 0), limit: 10).count == 1)

        let admin = try connector(magento, settings: ["auth": "admin", "adminUsername": "admin"], secrets: ["adminPassword": "admin123"])
        #expect(try await admin.orders(after: .init(updatedAt: .distantPast, id: 0), limit: 10).count == 1)
        #expect(try await admin.orders(after: .init(updatedAt: .distantPast, id: 0), limit: 10).count == 1)
        #expect(magento.sandbox.ledger.entries(route: "admin.token").count == 1, "the admin token is reused")
    }

    @Test func theSandboxRefusesAReplayedNonceAndAStaleTimestamp() async throws {
        let magento = MagentoSandbox()
        let c = magento.credentials
        let signer = OAuth1Signer(consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, token: c.accessToken, tokenSecret: c.accessTokenSecret)
        let url = URL(string: "http://shop.test/rest/default/V1/orders")!
        func call(nonce: String, timestamp: Int) async -> Int {
            let header = signer.authorization(method: "GET", url: url, nonce: nonce, timestamp: timestamp)
            let outcome = await magento.sandbox.process(
                SandboxRequest(method: "GET", target: "/rest/default/V1/orders", headers: ["Authorization": header, "Host": "shop.test"]))
            if case .respond(let response) = outcome { return response.status }
            return 0
        }
        let now = Int(Date().timeIntervalSince1970)
        #expect(await call(nonce: "a1", timestamp: now) == 200)
        #expect(await call(nonce: "a1", timestamp: now) == 401)
        #expect(await call(nonce: "a2", timestamp: now - 3600) == 401)
    }

    @Test func theERPSandboxRefusesWrongTotalsUnknownCodesAndBadCredentials() async throws {
        let erp = ERPSandbox()
        erp.setStock(code: "A", quantity: 1)
        func post(_ body: JSON, key: String = "erp-sandbox-key") async -> (Int, String) {
            let outcome = await erp.sandbox.process(
                SandboxRequest(
                    method: "POST", target: "/api/v2/orders",
                    headers: ["Authorization": "Bearer \(key)", "Idempotency-Key": UUID().uuidString], body: body.data))
            guard case .respond(let response) = outcome else { return (0, "") }
            return (response.status, (try? JSON.parse(response.body))?["error"]?["field"]?.string ?? "")
        }
        let good: JSON = ["order_id": "1", "total": 20, "customer_email": "a@b.c", "items": [["sku": "A", "qty": 2, "price": 10]]]
        #expect(await post(good).0 == 201)
        #expect(await post(good, key: "nope").0 == 401)
        var wrongTotal = good.object!
        wrongTotal["total"] = 21
        #expect(await post(.object(wrongTotal)) == (422, "total"))
        var unknown = good.object!
        unknown["items"] = [["sku": "B", "qty": 1, "price": 20]]
        #expect(await post(.object(unknown)) == (422, "items[0].sku"))
        var fraction = good.object!
        fraction["items"] = [["sku": "A", "qty": .number(Decimal(string: "1.5")!), "price": 10], ["sku": "A", "qty": 1, "price": 5]]
        #expect(await post(.object(fraction)) == (422, "items[0].qty"))
    }

    @Test func faultSpecificationsParseAndRejectNonsense() throws {
        let plans = try FaultPlan.parse("orders.create:5xx=0.3,timeout=0.1,commit-fail=0.05;*:latency=5-20")
        #expect(plans["orders.create"]?.serverErrorShare == 0.3)
        #expect(plans["*"]?.latencyMilliseconds == 5...20)
        #expect(throws: FaultSpecError.self) { try FaultPlan.parse("orders.create:5xx=2") }
        #expect(throws: FaultSpecError.self) { try FaultPlan.parse("orders.create:explode=0.1") }
    }

    @Test func droppedAndUnansweredRequestsReachTheClientAsNetworkFailuresOverRealSockets() async throws {
        let erp = ERPSandbox()
        let server = try await SandboxServer(erp.sandbox)
        defer { Task { await server.shutdown() } }
        let transport = AsyncHTTPClientTransport()
        let url = server.baseURL.appendingPathComponent("api/v2/stocks")
        var headers = HTTPFields()
        headers[.authorization] = "Bearer erp-sandbox-key"
        erp.sandbox.setFaults(FaultPlan(dropShare: 1), on: "stocks.list")
        await #expect(throws: (any Error).self) { _ = try await transport.send(OutboundRequest(method: .get, url: url, headers: headers)) }
        erp.sandbox.setFaults(FaultPlan(timeoutShare: 1), on: "stocks.list")
        await #expect(throws: (any Error).self) {
            _ = try await transport.send(OutboundRequest(method: .get, url: url, headers: headers, timeout: .milliseconds(300)))
        }
        erp.sandbox.setFaults(FaultPlan(rateLimitShare: 1, retryAfterSeconds: 7), on: "stocks.list")
        let limited = try await transport.send(OutboundRequest(method: .get, url: url, headers: headers))
        #expect(limited.status == 429)
        #expect(ConnectorError.http(status: 429, message: "", headers: limited.headers).disposition == .rateLimited(retryAfter: .seconds(7)))
        #expect(erp.sandbox.ledger.entries(route: "stocks.list").map(\.fault) == ["drop", "timeout", "429"])
    }
}
