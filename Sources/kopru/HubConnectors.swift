import ConnectorERPRest
import ConnectorHoroz
import ConnectorMagento2
import Foundation
import KopruConnectors
import KopruEngine
import KopruHTTPClient
import KopruStore
import Logging
import Synchronization

/// Which connector serves which connection type: the one place that knows every connector.
/// Connectors are kept per stored connection value, so an admin token or similar session
/// survives between jobs, and any change to the connection builds a fresh one.
final class HubConnectors: Sendable {
    private let transport: any HTTPTransport
    private let cache = Mutex<[Connection: any Sendable]>([:])
    /// The shared rate budgets, once a resolver has been made for a store.
    private let budget = Mutex<RateBudget?>(nil)
    /// Horoz's county list, shared by every Horoz connection of the process (refreshed daily).
    let horozCounties = HorozCountyCache()

    /// Where every call is recorded in its connection's event log; its owner runs and stops it.
    private let callLog: CallLog?

    init(transport: any HTTPTransport = MiddlewareTransport(
        AsyncHTTPClientTransport(), middleware: [LoggingMiddleware(logger: Logger(label: "kopru.http"))]), callLog: CallLog? = nil)
    {
        self.transport = transport
        self.callLog = callLog
    }

    func resolver(store: any Store) -> ConnectorResolver {
        budget.withLock { $0 = RateBudget(store: store) }
        return ConnectorResolver(store: store) { connection in try self.connector(for: connection) }
    }

    /// Every request of a connection draws from its endpoint class's shared budget.
    private func transport(for connection: Connection, limits: EndpointLimits) -> any HTTPTransport {
        let transport = callLog?.recording(self.transport, for: connection.id) ?? self.transport
        guard let budget = budget.withLock({ $0 }) else { return transport }
        return MiddlewareTransport(transport, middleware: [RateBudgetMiddleware(budget: budget, connection: connection.id, limits: limits)])
    }

    /// The connector's word on a connection (`ConnectionChecks`), for the admin API: on a save,
    /// settings it cannot build from are refused (naming the key) and the target is probed; it
    /// gives the warnings its health shows. Types without a connector in this build pass.
    func check(_ connection: Connection, probe: Bool) async throws -> [String] {
        let built: any Sendable
        do { built = try connector(for: connection) } catch {
            guard probe, Self.types.contains(connection.type) else { return [] }
            throw error
        }
        guard let checks = built as? any ConnectionChecks else { return [] }
        if probe { try await checks.checkBeforeSaving() }
        return checks.warnings
    }

    /// The connection types this build has a connector for.
    static let types: Set<String> = ["magento2", "erp-rest", "horoz"]

    func connector(for connection: Connection) throws -> any Sendable {
        if let cached = cache.withLock({ $0[connection] }) { return cached }
        let made: any Sendable
        switch connection.type {
        case "magento2":
            let limits = try Magento2Connector.endpointLimits(settings: connection.settings)
            made = try Magento2Connector(
                connection: connection.id, settings: connection.settings, secrets: connection.secrets,
                transport: transport(for: connection, limits: limits))
        case "erp-rest":
            let limits = try RESTERPConnector.endpointLimits(settings: connection.settings)
            made = try RESTERPConnector(
                settings: connection.settings, secrets: connection.secrets, transport: transport(for: connection, limits: limits))
        case "horoz":
            let limits = try HorozConnector.endpointLimits(settings: connection.settings)
            made = try HorozConnector(
                settings: connection.settings, secrets: connection.secrets, transport: transport(for: connection, limits: limits),
                counties: horozCounties)
        default:
            throw ConnectorError.permanent("no connector for type \(connection.type) in this build yet")
        }
        cache.withLock { cache in
            cache = cache.filter { $0.key.id != connection.id }
            cache[connection] = made
        }
        return made
    }
}
