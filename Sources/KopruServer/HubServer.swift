import Foundation
import HTTPTypes
import Hummingbird
import KopruCore
import KopruEngine
import KopruStore
import Logging
import NIOCore

/// What the HTTP side needs. Tests build the same router with a memory or SQLite store.
public struct HubServerDependencies: Sendable {
    public var store: any Store
    /// The installed connector and flow kinds: the only types and flows the API accepts.
    public var kinds: HubKinds
    public var webhooks: WebhookIntake.Configuration
    /// Makes the loggers by label (`kopru.http`, `kopru.access`, `kopru.webhooks`); tests capture them.
    public var makeLogger: @Sendable (String) -> Logger
    public var now: @Sendable () -> Date
    /// The configured flows (the tracking route finds an order's shipping flow in them).
    public var flows: FlowCatalog
    /// What the connection's connector says of it: with `probe` (a save) it may ask the target
    /// and throws a `ConnectorError` naming the setting that cannot work; it returns the warnings
    /// its health shows.
    public var checkConnection: @Sendable (_ connection: Connection, _ probe: Bool) async throws -> [String]
    /// Signs dashboard sessions. `kopru serve` derives it from the master key
    /// (`.derived(fromMasterKey:)`), so every web process accepts the same sessions; by
    /// default a key of this process alone.
    public var sessionKey: DashboardKey = .random()

    public init(
        store: any Store, kinds: HubKinds, webhooks: WebhookIntake.Configuration = .init(),
        makeLogger: @escaping @Sendable (String) -> Logger = { Logger(label: $0) }, now: @escaping @Sendable () -> Date = { Date() },
        flows: FlowCatalog = FlowCatalog([]),
        checkConnection: @escaping @Sendable (_ connection: Connection, _ probe: Bool) async throws -> [String] = { _, _ in [] }
    ) {
        self.checkConnection = checkConnection
        self.flows = flows
        self.store = store
        self.kinds = kinds
        self.webhooks = webhooks
        self.makeLogger = makeLogger
        self.now = now
    }

    var logger: Logger { makeLogger("kopru.http") }
}

/// The hub's routes: health, metrics, the OpenAPI document, webhook intake, the admin API and
/// the dashboard.
public func buildRouter(_ dependencies: HubServerDependencies) -> Router<HubRequestContext> {
    let store = dependencies.store
    let router = Router(context: HubRequestContext.self)
    router.add(middleware: AccessLogMiddleware(logger: dependencies.makeLogger("kopru.access")))
    router.add(middleware: ErrorMiddleware(logger: dependencies.logger, storeUnavailability: { store.unavailability(of: $0) }))

    router.get("healthz") { _, _ in Response.json(["status": "ok"]) }
    router.get("readyz") { _, _ in
        do {
            _ = try await store.jobCounts()
            return Response.json(["status": "ready", "store": store.summary])
        } catch {
            throw APIError.unavailable
        }
    }
    router.get("metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try await HubMetrics.scrape(store: store))))
    }
    router.get("openapi.json") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
    }

    let directory = ConnectionDirectory(store: store, kinds: dependencies.kinds)
    let intake = WebhookIntake(
        store: store, directory: directory, configuration: dependencies.webhooks, logger: dependencies.makeLogger("kopru.webhooks"),
        now: dependencies.now)
    router.post("webhooks/:connection") { request, context in
        let id = context.parameters.get("connection") ?? ""
        guard RequestParsing.isIdentifier(id) else {
            throw APIError.notFound("no connection \(id.prefix(64))", code: "connection_unknown")
        }
        return try await intake.receive(.connection(ConnectionID(id)), request: request, context: context)
    }
    router.post("api/integrations/webhook/:provider") { request, context in
        try await intake.receive(.provider(context.parameters.get("provider") ?? ""), request: request, context: context)
    }

    let api = router.group("api").add(middleware: BearerAuthMiddleware(store: store))
    let integrations = IntegrationRoutes(
        store: store, directory: directory, now: dependencies.now, flows: dependencies.flows, kinds: dependencies.kinds,
        checkConnection: dependencies.checkConnection)
    integrations.add(to: api)
    JobRoutes(store: store, now: dependencies.now).add(to: api)
    ReconciliationRoutes(store: store, flows: dependencies.flows, now: dependencies.now).add(to: api)
    DashboardRoutes(
        store: store, directory: directory, integrations: integrations, sessionKey: dependencies.sessionKey, now: dependencies.now,
        logger: dependencies.makeLogger("kopru.dashboard"), intake: intake
    ).add(to: router)
    return router
}

/// The HTTP server as a service, for a `ServiceGroup` beside the workers and the scheduler.
public func buildApplication(
    _ dependencies: HubServerDependencies, host: String, port: Int, onServerRunning: (@Sendable (Int) async -> Void)? = nil
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies),
        configuration: .init(address: .hostname(host, port: port), serverName: "kopru"),
        onServerRunning: { channel in await onServerRunning?(channel.localAddress?.port ?? port) },
        logger: dependencies.logger)
}
