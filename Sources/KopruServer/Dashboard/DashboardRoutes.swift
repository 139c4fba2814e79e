import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore
import Logging
import NIOCore

/// The dashboard: HTML pages the hub draws itself (no front-end build, nothing fetched from
/// elsewhere), signed in with an admin token and kept in a signed session cookie. Every change
/// is a form POST carrying the session's anti-forgery token; a read-only token sees the same
/// pages without their buttons and is refused any change.
package struct DashboardRoutes: Sendable {
    let store: any Store
    let directory: ConnectionDirectory
    let integrations: IntegrationRoutes
    let signer: DashboardSessionSigner
    let now: @Sendable () -> Date
    let logger: Logger
    let signIns = SignInThrottle()
    let live: LiveCounts
    /// The real intake: a test webhook goes through every check a provider's does.
    let intake: WebhookIntake?

    init(
        store: any Store, directory: ConnectionDirectory, integrations: IntegrationRoutes, sessionKey: DashboardKey,
        now: @escaping @Sendable () -> Date, logger: Logger, intake: WebhookIntake? = nil
    ) {
        self.intake = intake
        self.store = store
        self.directory = directory
        self.integrations = integrations
        self.signer = DashboardSessionSigner(key: sessionKey)
        self.now = now
        self.logger = logger
        self.live = LiveCounts(store: store)
    }

    func add(to router: Router<HubRequestContext>) {
        router.get("/") { request, _ in try await self.page(request) { try await DashboardPages.overview($0, store: self.store, now: self.now()) } }
        router.get("dashboard") { _, _ in Self.redirect(to: "/") }
        router.get("login") { request, _ in
            let words = Self.words(request)
            return Self.html(DashboardPages.signIn(words, next: Self.safeNext(request.uri.queryParameters["next"].map(String.init))), words: words, request: request)
        }
        router.post("login") { request, context in try await self.signIn(request, context) }
        // Signing out ends every dashboard session of the token, here and on any other device:
        // the cookie is the hub's signature, and only the store can say it no longer counts.
        router.post("logout") { request, _ in
            let form = try await FormFields.read(request)
            if let viewer = try await self.viewer(request) {
                guard Self.sameOrigin(request), self.signer.checkCSRF(form.first("csrf"), for: viewer.session) else {
                    return Self.html(
                        DashboardPages.message(viewer, viewer.words.forbiddenForgery), words: viewer.words, request: request, status: .forbidden)
                }
                try await self.store.endSessions(tokenHash: viewer.session.tokenHash, at: self.now())
                self.logger.info("dashboard sign-out", metadata: ["token": "\(viewer.tokenName)"])
            }
            var response = Self.redirect(to: "/login")
            response.setCookie(Self.sessionCookie("", request: request, maxAge: 0))
            return response
        }
        router.get("orders") { request, _ in
            try await self.page(request) { try await DashboardPages.orders($0, query: request, store: self.store) }
        }
        router.get("orders/:id") { request, context in
            try await self.pageWithStatus(request) { viewer in
                // The id holds the channel and the number (`shop:000000123`), sent percent-encoded.
                guard let id = context.parameters.get("id")?.removingPercentEncoding, id.count <= 200,
                    let order = try await self.store.order(id: id)
                else {
                    return (DashboardPages.message(viewer, viewer.words.notFound), .notFound)
                }
                return (try await DashboardPages.order(viewer, order, flows: self.integrations.flows.flows, store: self.store), .ok)
            }
        }
        router.get("logs") { request, _ in
            try await self.page(request) { try await DashboardPages.logs($0, query: request, store: self.store) }
        }
        router.get("dead-letters") { request, _ in
            try await self.page(request) { try await DashboardPages.deadLetters($0, query: request, store: self.store) }
        }
        router.post("dead-letters/replay") { request, context in
            try await self.action(request, context) { viewer, form in
                let ids = form.all("job").compactMap { Int64($0) }.prefix(200)
                guard !ids.isEmpty else { return Self.redirect(to: "/dead-letters") }
                var replayed: [Int64] = []
                for id in ids {
                    // A job replayed by someone else meanwhile is no longer dead: skipped, not an error.
                    do { replayed.append(try await self.store.replayDeadLetter(id, now: self.now()).id) } catch let error as StoreError
                    where error.isInvalidState || error.isNotFound {}
                }
                self.logger.notice("dead letters replayed", metadata: ["token": "\(viewer.tokenName)", "jobs": "\(replayed)"])
                return Self.redirect(to: "/dead-letters?replayed=" + replayed.map { "\($0)" }.joined(separator: ","))
            }
        }
        router.get("jobs/:id") { request, context in
            try await self.pageWithStatus(request) { viewer in
                guard let id = context.parameters.get("id").flatMap(Int64.init), let job = try await self.store.job(id) else {
                    return (DashboardPages.message(viewer, viewer.words.notFound), .notFound)
                }
                return (try await DashboardPages.job(viewer, job, store: self.store), .ok)
            }
        }
        router.get("connections") { request, _ in
            try await self.page(request) { try await DashboardPages.connections($0, store: self.store) }
        }
        router.get("connections/:id") { request, context in
            try await self.pageWithStatus(request) { viewer in
                guard let connection = try await self.connection(context) else {
                    return (DashboardPages.message(viewer, viewer.words.notFound), .notFound)
                }
                return (
                    try await DashboardPages.connection(
                        viewer, connection, flows: self.integrations.flows.flows, query: request, store: self.store),
                    .ok
                )
            }
        }
        for (verb, paused) in [("pause", true), ("resume", false)] {
            router.post("connections/:id/\(verb)") { request, context in
                try await self.action(request, context) { viewer, _ in
                    guard var connection = try await self.connection(context) else { throw APIError.notFound("no such connection") }
                    connection.paused = paused
                    try await self.store.saveConnection(connection, now: self.now())
                    self.directory.invalidate()
                    self.logger.notice(
                        "connection \(verb)d from the dashboard", metadata: ["token": "\(viewer.tokenName)", "connection": "\(connection.id)"])
                    return Self.redirect(to: "/connections/\(connection.id.rawValue)")
                }
            }
        }
        router.post("connections/:id/sync") { request, context in
            try await self.action(request, context) { viewer, form in
                guard let connection = try await self.connection(context) else { throw APIError.notFound("no such connection") }
                let flow = form.first("flow").map { JSON.string($0) }
                let mode = form.first("mode") == "full" ? "full" : "delta"
                let (job, _) = try await self.integrations.queueSync(connection, flow: flow, mode: mode, requestedBy: viewer.tokenName)
                return Self.redirect(to: "/connections/\(connection.id.rawValue)?synced=\(job)")
            }
        }
        router.post("connections/:id/test-webhook") { request, context in
            try await self.action(request, context) { viewer, _ in
                guard let connection = try await self.connection(context) else { throw APIError.notFound("no such connection") }
                let outcome = try await self.sendTestWebhook(to: connection, context: context)
                self.logger.notice(
                    "test webhook sent from the dashboard",
                    metadata: ["token": "\(viewer.tokenName)", "connection": "\(connection.id)", "outcome": "\(outcome)"])
                return Self.redirect(to: "/connections/\(connection.id.rawValue)?tested=\(HTML.query(outcome))")
            }
        }
        router.get("dashboard/live.json") { request, _ in
            guard try await self.viewer(request) != nil else { throw APIError.unauthenticated }
            var response = Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await self.live.json(now: self.now()))))
            Self.secure(&response.headers)
            return response
        }
        router.get("assets/dashboard.css") { _, _ in Self.asset(PackageResources.dashboard_css, type: "text/css; charset=utf-8") }
        router.get("assets/live.js") { _, _ in Self.asset(PackageResources.live_js, type: "text/javascript; charset=utf-8") }
    }

    /// The dashboard's routes as `METHOD /path` (`:id` segments as `{}`): pages for people, not
    /// part of the API's OpenAPI document.
    package static func routeSignatures() -> Set<String> {
        let router = Router(context: HubRequestContext.self)
        let store = MemoryStore()
        let directory = ConnectionDirectory(store: store, kinds: HubKinds(connectors: [], flows: []))
        let integrations = IntegrationRoutes(
            store: store, directory: directory, now: { Date() }, flows: FlowCatalog([]), kinds: HubKinds(connectors: [], flows: []),
            checkConnection: { _, _ in [] })
        DashboardRoutes(
            store: store, directory: directory, integrations: integrations, sessionKey: .random(), now: { Date() },
            logger: Logger(label: "kopru.dashboard")
        ).add(to: router)
        return Set(router.routes.map { route in
            "\(route.method.rawValue) /" + "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") ? "{}" : String($0) }.joined(separator: "/")
        })
    }

    /// Signs a sample event with the connection's own rule and hands it to the intake as a
    /// request from the browser's address; returns what the intake said (`200 accepted #12`,
    /// `401 signature_invalid`, ...). The event is stored as a provider's would be, under the
    /// topic `kopru/test`: it wakes the connection's flows, which read the source and find nothing new.
    func sendTestWebhook(to connection: Connection, context: HubRequestContext) async throws -> String {
        guard let intake, let kind = integrations.kinds.connector(connection.type) else { return "unavailable" }
        let id = UUID().uuidString.lowercased()
        let body = Array(#"{"kopru":"test","id":"\#(id)","sentAt":"\#(ISO8601DateFormatter().string(from: now()))"}"#.utf8)
        let settings = kind.webhooks.defaults.merging(connection.settings) { $1 }
        guard let signature = kind.webhooks.sign(settings, connection.secrets, body, now()) else { return "cannot_sign" }
        var head = HTTPRequest(method: .post, scheme: "http", authority: "kopru", path: "/webhooks/\(connection.id.rawValue)")
        head.headerFields[.contentType] = "application/json"
        for (name, value) in signature { if let field = HTTPField.Name(name) { head.headerFields[field] = value } }
        if let header = settings["webhook.deliveryIdHeader"].flatMap({ HTTPField.Name($0) }) { head.headerFields[header] = "kopru-test-\(id)" }
        if let header = settings["webhook.topicHeader"].flatMap({ HTTPField.Name($0) }) { head.headerFields[header] = "kopru/test" }
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
        do {
            let response = try await intake.receive(.connection(connection.id), request: request, context: context)
            return "\(response.status.code) accepted"
        } catch let error as APIError {
            return "\(error.status.code) \(error.code)"
        }
    }

    // MARK: who is looking

    /// The signed-in viewer, if the request's session cookie is the hub's, unexpired, and its
    /// token is still unrevoked.
    func viewer(_ request: Request) async throws -> Viewer? {
        guard let cookie = request.cookies[DashboardSession.cookieName],
            let session = signer.session(fromCookie: cookie.value, now: now()),
            let token = try await store.token(hash: session.tokenHash), token.revokedAt == nil,
            token.sessionsEndedAt.map({ session.issuedAt >= $0 }) ?? true
        else { return nil }
        return Viewer(
            tokenName: token.name, role: token.role, csrf: signer.csrfToken(for: session), words: Self.words(request), session: session,
            path: request.uri.path)
    }

    private func connection(_ context: HubRequestContext) async throws -> Connection? {
        guard let id = context.parameters.get("id"), RequestParsing.isIdentifier(id) else { return nil }
        return try await store.connection(ConnectionID(id))
    }

    /// A page for a signed-in viewer; anyone else is sent to sign in and brought back.
    private func pageWithStatus(_ request: Request, draw: (Viewer) async throws -> (HTML, HTTPResponse.Status)) async throws -> Response {
        guard let viewer = try await viewer(request) else {
            return Self.redirect(to: "/login?next=" + HTML.query(request.uri.path))
        }
        let (body, status) = try await draw(viewer)
        return Self.html(body, words: viewer.words, request: request, status: status)
    }

    private func page(_ request: Request, draw: (Viewer) async throws -> HTML) async throws -> Response {
        try await pageWithStatus(request) { (try await draw($0), .ok) }
    }

    /// A change: only for a signed-in admin, from a form this dashboard drew (its anti-forgery
    /// token, and an Origin, where the browser sends one, that is this host).
    private func action(
        _ request: Request, _ context: HubRequestContext, change: (Viewer, FormFields) async throws -> Response
    ) async throws -> Response {
        guard let viewer = try await viewer(request) else { return Self.redirect(to: "/login") }
        let form = try await FormFields.read(request)
        guard Self.sameOrigin(request), signer.checkCSRF(form.first("csrf"), for: viewer.session) else {
            logger.warning(
                "dashboard change refused: no valid anti-forgery token",
                metadata: ["token": "\(viewer.tokenName)", "route": "\(context.endpointPath ?? "-")"])
            return Self.html(DashboardPages.message(viewer, viewer.words.forbiddenForgery), words: viewer.words, request: request, status: .forbidden)
        }
        guard viewer.role == .admin else {
            return Self.html(DashboardPages.message(viewer, viewer.words.forbiddenReadOnly), words: viewer.words, request: request, status: .forbidden)
        }
        do {
            return try await change(viewer, form)
        } catch let error as APIError where error.status.code < 500 {
            // A person reads it: the same words as the API's, on a page.
            return Self.html(DashboardPages.message(viewer, error.message), words: viewer.words, request: request, status: error.status)
        }
    }

    private func signIn(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let words = Self.words(request)
        let address = context.remoteAddress?.ipAddress ?? "-"
        let form = try await FormFields.read(request)
        let next = Self.safeNext(form.first("next"))
        guard Self.sameOrigin(request) else {
            return Self.html(DashboardPages.signIn(words, next: next, error: words.forbiddenForgery), words: words, request: request, status: .forbidden)
        }
        if let wait = signIns.attempt(address, now: now()) {
            var response = Self.html(
                DashboardPages.signIn(words, next: next, error: words.signInThrottled), words: words, request: request, status: .tooManyRequests)
            response.headers[.retryAfter] = "\(wait)"
            return response
        }
        let presented = (form.first("token") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard presented.count <= 200, let token = try await store.token(hash: AdminTokens.hash(presented)), token.revokedAt == nil else {
            logger.warning("dashboard sign-in refused: unknown or revoked token", metadata: ["remote": "\(address)"])
            if signIns.mayRecord(now: now()) {
                try? await store.append([
                    EventRecord(
                        at: now(), level: .warning, kind: "signin", message: "dashboard sign-in refused from \(address)",
                        details: ["remote": address])
                ])
            }
            return Self.html(
                DashboardPages.signIn(words, next: next, error: words.signInFailed), words: words, request: request, status: .unauthorized)
        }
        let session = DashboardSession(
            tokenHash: token.hash, expires: now().addingTimeInterval(DashboardSession.lifetime), id: DashboardSessionSigner.newSessionID())
        signIns.succeeded(address)
        logger.info("dashboard sign-in", metadata: ["token": "\(token.name)", "remote": "\(address)"])
        var response = Self.redirect(to: next)
        response.setCookie(Self.sessionCookie(signer.cookieValue(for: session), request: request, maxAge: Int(DashboardSession.lifetime)))
        return response
    }

    // MARK: responses

    static func html(_ body: HTML, words: DashboardWords, request: Request, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.raw)))
        secure(&response.headers)
        if let asked = request.uri.queryParameters["lang"].flatMap({ DashboardWords.Language(rawValue: String($0)) }) {
            response.setCookie(
                Cookie(name: "kopru_lang", value: asked.rawValue, maxAge: 365 * 86_400, path: "/", secure: isTLS(request), httpOnly: true, sameSite: .strict))
        }
        return response
    }

    /// No script, style or image from anywhere but the hub, no framing, no sniffing.
    static func secure(_ headers: inout HTTPFields) {
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        var response = Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        secure(&response.headers)
        return response
    }

    static func sessionCookie(_ value: String, request: Request, maxAge: Int) -> Cookie {
        Cookie(
            name: DashboardSession.cookieName, value: value, maxAge: maxAge, path: "/", secure: isTLS(request), httpOnly: true,
            sameSite: .strict)
    }

    /// Served over TLS by the proxy in front (the hub itself speaks plain HTTP on loopback).
    static func isTLS(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    static func words(_ request: Request) -> DashboardWords {
        let asked = request.uri.queryParameters["lang"].flatMap { DashboardWords.Language(rawValue: String($0)) }
        let remembered = request.cookies["kopru_lang"].flatMap { DashboardWords.Language(rawValue: $0.value) }
        return .of(asked ?? remembered ?? .tr)
    }

    /// Where to go after signing in: a path on this hub only, never another site.
    static func safeNext(_ next: String?) -> String {
        // Only characters a path and query of ours hold: no tab, backslash or anything a browser
        // would strip or bend into `//elsewhere`.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-?=&%,")
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), next.count <= 200, next.allSatisfy(allowed.contains) else { return "/" }
        return next
    }

    /// A browser names the page a form came from in `Origin`; one from another site is refused.
    /// No `Origin` (an older browser, a script) leaves the anti-forgery token to decide.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        // Behind a proxy that rewrites Host, the host the browser saw is the forwarded one.
        let hosts = [request.headers[HTTPField.Name("X-Forwarded-Host")!], request.head.authority].compactMap { $0 }
        return hosts.contains { origin == "http://\($0)" || origin == "https://\($0)" }
    }
}

/// Who is looking at a page, and in which language.
struct Viewer: Sendable {
    var tokenName: String
    var role: APIToken.Role
    var csrf: String
    var words: DashboardWords
    var session: DashboardSession
    var path: String

    var canChange: Bool { role == .admin }
}
