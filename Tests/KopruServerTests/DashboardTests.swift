import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KopruCore
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

    @Test("a session cookie the hub did not sign, or one past its expiry, is no session")
    func tamperedCookie() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.live { client in
            let cookie = try await Self.signIn(client, token: hub.token)
            let value = String(cookie.dropFirst("kopru_session=".count))
            var parts = value.split(separator: ".").map(String.init)
            parts[1] = "\(Int(parts[1])! + 86_400 * 365)"
            for forged in [parts.joined(separator: "."), value + "x", "v1.9999999999.abc.\(String(repeating: "0", count: 64)).AAAA"] {
                let response = try await client.execute(uri: "/", method: .get, headers: [.cookie: "kopru_session=\(forged)"])
                #expect(response.status == .seeOther, "\(forged.prefix(20))")
            }
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
                #expect(refused.text.contains("salt okunur"))
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
}
