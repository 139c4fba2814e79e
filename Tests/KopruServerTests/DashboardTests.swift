import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import KopruStoreSQLite
import NIOCore
import Testing

/// The dashboard's sign-in, sessions, anti-forgery tokens and roles, against the router over
/// loopback (the browser test in KopruCLITests drives the same pages in Chromium).
@Suite("Dashboard: sign-in, sessions, forgery, roles")
struct DashboardTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Signs in with `token`; returns the `Cookie` header value the browser would send back.
    static func signIn(_ client: any TestClientProtocol, token: String) async throws -> String {
        let response = try await client.execute(
            uri: "/login", method: .post, headers: form, body: ByteBuffer(string: "token=\(token)&next=%2Fdead-letters"))
        #expect(response.status == .seeOther)
        #expect(response.headers[.location] == "/dead-letters")
        let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("kopru_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        #expect(!cookie.contains("Secure"), "plain HTTP on loopback: a Secure cookie would never come back")
        return String(cookie.prefix { $0 != ";" })
    }

    static func csrf(in page: String) throws -> String {
        let marker = "<meta name=\"csrf-token\" content=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }

    /// A dead order export, as a permanent refusal leaves one.
    static func deadLetter(_ store: any Store) async throws -> JobID {
        let id = try await store.enqueue(
            [NewJob(kind: "order.export", idempotencyKey: "orders:shop:1042", payload: Data("{}".utf8), connection: "erp")], now: Date())[0].id
        let claimed = try await store.claim(ClaimRequest(owner: "test", limit: 1, leaseDuration: 60, now: Date(), slots: .unlimited))
        _ = try await store.complete([
            JobCompletion(lease: claimed[0].lease, outcome: .dead(reason: "422 UNKNOWN_PRODUCT: Unknown product code 'SKU-9'"), now: Date())
        ])
        return id
    }

    @Test("a page without a session sends the browser to sign in and back; a bad token is refused, logged, and throttled after five")
    func signInIsRequiredAndThrottled() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.live { client in
            let page = try await client.execute(uri: "/dead-letters", method: .get)
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=%2Fdead-letters")
            let form = try await client.execute(uri: "/login", method: .get)
            #expect(form.status == .ok && form.text.contains("Köprü paneline giriş"))
            #expect(form.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
            for attempt in 1...5 {
                let refused = try await client.execute(
                    uri: "/login", method: .post, headers: Self.form, body: ByteBuffer(string: "token=kopru_guess\(attempt)"))
                #expect(refused.status == .unauthorized)
                #expect(refused.headers[.setCookie] == nil)
            }
            let throttled = try await client.execute(uri: "/login", method: .post, headers: Self.form, body: ByteBuffer(string: "token=\(hub.token)"))
            #expect(throttled.status == .tooManyRequests, "even the right token waits out the minute")
            #expect(throttled.headers[.retryAfter] != nil)
        }
        let logged = try await hub.store.events(EventFilter(kind: "signin"))
        #expect(logged.count == 5)
        #expect(hub.logs.all.filter { $0.contains("dashboard sign-in refused") }.count == 5)
        #expect(!hub.logs.all.joined().contains("kopru_guess"), "a presented token is never logged")
    }

    @Test("signed in: pages draw, a replay needs the form's anti-forgery token, a revoked token's session ends")
    func adminSessionAndForgery() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "<script>alert(1)</script> ERP"), now: Date())
        let dead = try await Self.deadLetter(hub.store)
        try await hub.live { client in
            let cookie = try await Self.signIn(client, token: hub.token)
            let overview = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Genel bakış") && overview.text.contains("data-live=\"dead\">1<"))
            #expect(overview.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; ERP"), "a name is text, never markup")
            #expect(!overview.text.contains("<script>alert"))
            let english = try await client.execute(uri: "/?lang=en", method: .get, headers: [.cookie: cookie])
            #expect(english.text.contains("Overview") && english.headers[.setCookie]?.hasPrefix("kopru_lang=en") == true)

            let letters = try await client.execute(uri: "/dead-letters", method: .get, headers: [.cookie: cookie])
            #expect(letters.text.contains("UNKNOWN_PRODUCT") && letters.text.contains("id=\"replay-selected\""))
            let csrf = try Self.csrf(in: letters.text)

            var headers = Self.form
            headers[.cookie] = cookie
            let forged = try await client.execute(
                uri: "/dead-letters/replay", method: .post, headers: headers, body: ByteBuffer(string: "job=\(dead)"))
            #expect(forged.status == .forbidden)
            let wrong = try await client.execute(
                uri: "/dead-letters/replay", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf.dropLast(2))xx&job=\(dead)"))
            #expect(wrong.status == .forbidden)
            var elsewhere = headers
            elsewhere[.origin] = "http://evil.example"
            let crossSite = try await client.execute(
                uri: "/dead-letters/replay", method: .post, headers: elsewhere, body: ByteBuffer(string: "csrf=\(csrf)&job=\(dead)"))
            #expect(crossSite.status == .forbidden)
            #expect(try await hub.store.job(dead)?.status == .dead, "nothing changed by a refused form")

            let replayed = try await client.execute(
                uri: "/dead-letters/replay", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)&job=\(dead)"))
            #expect(replayed.status == .seeOther)
            #expect(replayed.headers[.location] == "/dead-letters?replayed=\(dead)")
            #expect(try await hub.store.job(dead)?.status == .pending)

            try await hub.store.revokeToken(name: "tester", now: Date())
            let after = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
            #expect(after.status == .seeOther, "the session ended with its token")
        }
    }

    @Test("a session cookie the hub did not sign, or one past its expiry, is no session; signing out ends the token's sessions")
    func tamperedExpiredAndSignedOutCookies() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let hash = AdminTokens.hash(hub.token)
        let signer = DashboardSessionSigner(key: hub.sessionKey)
        try await hub.live { client in
            let cookie = try await Self.signIn(client, token: hub.token)
            let value = String(cookie.dropFirst("kopru_session=".count))
            var parts = value.split(separator: ".").map(String.init)
            parts[1] = "\(Int(parts[1])! + 86_400_000 * 365)"
            let expired = signer.cookieValue(for: DashboardSession(tokenHash: hash, expires: Date().addingTimeInterval(-1), id: "old"))
            let otherKey = DashboardSessionSigner(key: .random()).cookieValue(
                for: DashboardSession(tokenHash: hash, expires: Date().addingTimeInterval(3600), id: "x"))
            let valid = signer.cookieValue(for: DashboardSession(tokenHash: hash, expires: Date().addingTimeInterval(3600), id: "ok"))
            #expect(try await client.execute(uri: "/", method: .get, headers: [.cookie: "kopru_session=\(valid)"]).status == .ok)
            for forged in [parts.joined(separator: "."), value + "x", expired, otherKey] {
                let response = try await client.execute(uri: "/", method: .get, headers: [.cookie: "kopru_session=\(forged)"])
                #expect(response.status == .seeOther, "\(forged.prefix(24))")
            }

            let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
            var headers = Self.form
            headers[.cookie] = cookie
            let out = try await client.execute(
                uri: "/logout", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(try Self.csrf(in: page.text))"))
            #expect(out.status == .seeOther && out.headers[.location] == "/login")
            for stale in [cookie, "kopru_session=\(valid)"] {
                #expect(try await client.execute(uri: "/", method: .get, headers: [.cookie: stale]).status == .seeOther, "ended by the sign-out")
            }
            let again = try await Self.signIn(client, token: hub.token)
            #expect(try await client.execute(uri: "/", method: .get, headers: [.cookie: again]).status == .ok, "a new sign-in works")
        }
    }

    @Test("after signing in the browser goes only to a path of this hub, never to another site")
    func hostileNext() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.live { client in
            for hostile in ["//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example", "/ /evil.example", "javascript:alert(1)"] {
                let body = "token=\(hub.token)&next=\(hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                let response = try await client.execute(uri: "/login", method: .post, headers: Self.form, body: ByteBuffer(string: body))
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/", "\(hostile)")
            }
            // The form keeps only a safe `next`: a tab sent as %09 arrives as a tab.
            let form = try await client.execute(uri: "/login?next=/%09/evil.example", method: .get)
            #expect(form.text.contains("name=\"next\" value=\"/\""))
            let fine = try await client.execute(
                uri: "/login", method: .post, headers: Self.form, body: ByteBuffer(string: "token=\(hub.token)&next=%2Flogs%3Flevel%3Derror"))
            #expect(fine.headers[.location] == "/logs?level=error")
        }
    }

    @Test("a read-only token sees the pages without their buttons and is refused every change, in the dashboard and the API")
    func readOnlyToken() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let (token, hash) = AdminTokens.generate()
        try await hub.store.createToken(APIToken(name: "staff", hash: hash, role: .read, createdAt: Date()))
        try await hub.store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "ERP"), now: Date())
        let dead = try await Self.deadLetter(hub.store)
        try await hub.live { client in
            let cookie = try await Self.signIn(client, token: token)
            let letters = try await client.execute(uri: "/dead-letters", method: .get, headers: [.cookie: cookie])
            #expect(letters.status == .ok && letters.text.contains("UNKNOWN_PRODUCT"))
            #expect(!letters.text.contains("replay-selected") && letters.text.contains("salt okunur"))
            let connection = try await client.execute(uri: "/connections/erp", method: .get, headers: [.cookie: cookie])
            #expect(connection.status == .ok && !connection.text.contains("id=\"pause\""))
            let csrf = try Self.csrf(in: letters.text)
            var headers = Self.form
            headers[.cookie] = cookie
            for (uri, body) in [("/dead-letters/replay", "job=\(dead)"), ("/connections/erp/pause", "")] {
                let refused = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)&\(body)"))
                #expect(refused.status == .forbidden, "\(uri)")
                #expect(refused.text.contains("Bu anahtar salt okunur"), "refused for its role, not its form")
            }
            #expect(try await hub.store.job(dead)?.status == .dead)
            #expect(try await hub.store.connection("erp")?.paused == false)

            let bearer: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            #expect(try await client.execute(uri: "/api/dead-letters", method: .get, headers: bearer).status == .ok)
            let change = try await client.execute(uri: "/api/dead-letters/\(dead)/replay", method: .post, headers: bearer)
            #expect(change.status == .forbidden && change.error.code == "read_only_token")
            #expect(try await hub.store.job(dead)?.status == .dead)
        }
    }

    @Test("pause and resume from the connection page, and the live counts need a session")
    func pauseResumeAndLive() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "ERP"), now: Date())
        try await hub.live { client in
            #expect(try await client.execute(uri: "/dashboard/live.json", method: .get).status == .unauthorized)
            let cookie = try await Self.signIn(client, token: hub.token)
            let page = try await client.execute(uri: "/connections/erp", method: .get, headers: [.cookie: cookie])
            let csrf = try Self.csrf(in: page.text)
            var headers = Self.form
            headers[.cookie] = cookie
            let paused = try await client.execute(uri: "/connections/erp/pause", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(paused.status == .seeOther)
            #expect(try await hub.store.connection("erp")?.paused == true)
            let shown = try await client.execute(uri: "/connections/erp", method: .get, headers: [.cookie: cookie])
            #expect(shown.text.contains("Duraklatıldı") && shown.text.contains("id=\"resume\""))
            _ = try await client.execute(uri: "/connections/erp/resume", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(try await hub.store.connection("erp")?.paused == false)
            let live = try await client.execute(uri: "/dashboard/live.json", method: .get, headers: [.cookie: cookie])
            #expect(live.status == .ok && live.json["pending"] as? Int == 0)
        }
    }

    @Test("orders: newest first, found by the end of their number, each with its timeline of jobs and calls")
    func ordersAndTimeline() async throws {
        let flows = FlowCatalog([FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp")])
        let hub = try await HubFixture(flows: flows)
        defer { hub.cleanUp() }
        let now = Date()
        var effects: [StoreEffect] = []
        for index in 1...60 {
            effects.append(
                .recordOrder(
                    OrderRecord(
                        id: "shop:\(String(format: "%09d", index))", connection: "shop", externalID: "\(index)", number: String(format: "%09d", index),
                        status: "accepted", total: "129.90", currency: "TRY", placedAt: now, firstSeenAt: now.addingTimeInterval(Double(index)),
                        updatedAt: now, seenVia: index.isMultiple(of: 2) ? "webhook" : "poll", exportQueuedAt: now, exportTarget: "erp")))
        }
        effects.append(.recordOrderExport(order: "shop:000000042", target: "erp", reference: "SIP-42", at: now))
        let export = try await hub.store.enqueue(
            [NewJob(kind: "order.export", idempotencyKey: "orders:shop:000000042", payload: Data("{}".utf8), connection: "erp")], now: now)[0].id
        let claimed = try await hub.store.claim(ClaimRequest(owner: "t", limit: 1, leaseDuration: 60, now: now, slots: .unlimited))
        effects.append(
            .log(EventRecord(at: now, level: .info, kind: "export", connection: "erp", subject: "order:shop:000000042", message: "order 000000042 created as SIP-42")))
        _ = try await hub.store.complete([JobCompletion(lease: claimed[0].lease, outcome: .succeeded, effects: effects, now: now)])
        try await hub.store.append([
            EventRecord(at: now, level: .info, kind: "external_call", connection: "erp", subject: "job:\(export)", message: "POST /api/v2/orders → 201")
        ])
        try await hub.live { client in
            let cookie = try await Self.signIn(client, token: hub.token)
            let list = try await client.execute(uri: "/orders", method: .get, headers: [.cookie: cookie])
            #expect(list.status == .ok)
            #expect(list.text.components(separatedBy: "data-order=").count - 1 == 50, "a page of 50")
            #expect(list.text.range(of: "000000060")!.lowerBound < list.text.range(of: "000000059")!.lowerBound, "newest first")
            #expect(list.text.contains("id=\"older\""))
            let found = try await client.execute(uri: "/orders?q=%2342", method: .get, headers: [.cookie: cookie])
            #expect(found.text.components(separatedBy: "data-order=").count - 1 == 1 && found.text.contains("SIP-42"), "#42 finds 000000042")
            let pending = try await client.execute(uri: "/orders?pending=1", method: .get, headers: [.cookie: cookie])
            #expect(!pending.text.contains("SIP-42"), "an exported order is not pending")
            let timeline = try await client.execute(uri: "/orders/shop%3A000000042", method: .get, headers: [.cookie: cookie])
            #expect(timeline.status == .ok)
            #expect(timeline.text.contains("Kanaldan alındı") && timeline.text.contains("webhook ile"))
            #expect(timeline.text.contains("data-step=\"export\"") && timeline.text.contains("/jobs/\(export)"))
            #expect(timeline.text.contains("POST /api/v2/orders → 201"), "the export's calls")
            #expect(timeline.text.contains("order 000000042 created as SIP-42"), "the order's events")
            let overview = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
            #expect(overview.text.contains("id=\"orders-all\">60<") && overview.text.contains("id=\"orders-pending\">59<"))
            #expect(try await client.execute(uri: "/orders/shop%3Anope", method: .get, headers: [.cookie: cookie]).status == .notFound)
        }
    }

    @Test("send test webhook: signed with the connection's rule, through the real intake, stored once; without a secret it says so")
    func testWebhook() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection("shop")
        try await hub.addWebhookConnection("bare", secret: nil)
        try await hub.live { client in
            let cookie = try await Self.signIn(client, token: hub.token)
            let page = try await client.execute(uri: "/connections/shop", method: .get, headers: [.cookie: cookie])
            var headers = Self.form
            headers[.cookie] = cookie
            let body = ByteBuffer(string: "csrf=\(try Self.csrf(in: page.text))")
            let sent = try await client.execute(uri: "/connections/shop/test-webhook", method: .post, headers: headers, body: body)
            #expect(sent.headers[.location] == "/connections/shop?tested=200%20accepted")
            let shown = try await client.execute(uri: sent.headers[.location]!, method: .get, headers: [.cookie: cookie])
            #expect(shown.text.contains("id=\"tested\"") && shown.text.contains("200 accepted"))
            let bare = try await client.execute(uri: "/connections/bare/test-webhook", method: .post, headers: headers, body: body)
            #expect(bare.headers[.location] == "/connections/bare?tested=cannot_sign")
        }
        #expect(try await hub.store.lastWebhookReceived(connection: "shop") != nil, "stored by the intake")
        #expect(try await hub.store.lastWebhookReceived(connection: "bare") == nil)
        #expect(try await hub.store.jobs(JobFilter(kind: "webhook.received")).count == 1)
    }
}
