import Foundation
import KopruConnectors
import KopruEngine
import KopruHTTPClient
import KopruStore
import Logging
import Synchronization

/// Builds connectors for stored connections through their kinds. Connectors are kept per
/// stored connection value, so an admin token or similar session survives between jobs, and
/// any change to the connection builds a fresh one.
package final class HubConnectors: Sendable {
    package let kinds: HubKinds
    private let transport: any HTTPTransport
    private let cache = Mutex<[Connection: any Sendable]>([:])
    /// The shared rate budgets and circuit breakers, once a resolver has been made for a store.
    private let budget = Mutex<RateBudget?>(nil)
    private let breakers = Mutex<CircuitBreakers?>(nil)
    /// Where every call is recorded in its connection's event log; its owner runs and stops it.
    private let callLog: CallLog?

    package init(
        kinds: HubKinds = Installed.kinds,
        transport: any HTTPTransport = HubConnectors.liveTransport(connectionsPerHost: 8),
        callLog: CallLog? = nil
    ) {
        self.kinds = kinds
        self.transport = transport
        self.callLog = callLog
    }

    /// HTTP with every call logged, keeping enough connections to a host for the jobs that may
    /// call it at once.
    package static func liveTransport(connectionsPerHost: Int) -> any HTTPTransport {
        MiddlewareTransport(
            AsyncHTTPClientTransport(connectionsPerHost: connectionsPerHost),
            middleware: [LoggingMiddleware(logger: Logger(label: "kopru.http"))])
    }

    /// The configured workers' HTTP: each connection runs up to its limit of real-time jobs and
    /// as many bulk ones at once.
    package convenience init(_ configuration: HubConfiguration, callLog: CallLog?) {
        let widest = ([configuration.connectionConcurrency] + configuration.connectionConcurrencyOverrides.values).max()!
        self.init(
            kinds: configuration.kinds, transport: Self.liveTransport(connectionsPerHost: 2 * widest), callLog: callLog)
    }

    package func resolver(store: any Store) -> ConnectorResolver {
        budget.withLock { $0 = RateBudget(store: store) }
        breakers.withLock { $0 = CircuitBreakers(store: store) }
        return ConnectorResolver(store: store) { connection in try self.connector(for: connection) }
    }

    /// Every request of a connection goes through its endpoint class's shared circuit, then
    /// draws from the class's shared budget (a request the circuit holds takes no slot).
    private func transport(for connection: Connection, limits: EndpointLimits) -> any HTTPTransport {
        let transport = callLog?.recording(self.transport, for: connection.id) ?? self.transport
        guard let budget = budget.withLock({ $0 }), let breakers = breakers.withLock({ $0 }) else { return transport }
        // Saving the connection refused a bad value; a hand-edited store keeps the defaults.
        let policy = (try? BreakerPolicy.from(settings: connection.settings)) ?? BreakerPolicy()
        return MiddlewareTransport(
            transport,
            middleware: [
                CircuitBreakerMiddleware(breakers: breakers, connection: connection.id, limits: limits, policy: policy),
                RateBudgetMiddleware(budget: budget, connection: connection.id, limits: limits),
            ])
    }

    /// The connector's word on a connection (`ConnectionChecks`), for the admin API: on a save,
    /// settings its kind or connector cannot use are refused (naming the key) and the target is
    /// probed; it gives the warnings its health shows.
    package func check(_ connection: Connection, probe: Bool) async throws -> [String] {
        let built: any Sendable
        do { built = try connector(for: connection) } catch {
            guard probe else { return [] }
            throw error
        }
        guard let checks = built as? any ConnectionChecks else { return [] }
        if probe { try await checks.checkBeforeSaving() }
        return checks.warnings
    }

    package func connector(for connection: Connection) throws -> any Sendable {
        if let cached = cache.withLock({ $0[connection] }) { return cached }
        guard let kind = kinds.connector(connection.type) else {
            throw ConnectorError.permanent("no connector for type \(connection.type) in this build", field: "type")
        }
        try kind.validate(settings: connection.settings)
        let limits = try kind.endpointLimits(connection.settings)
        let made = try kind.build(
            ConnectorInput(
                connection: connection.id, settings: connection.settings, secrets: connection.secrets,
                transport: transport(for: connection, limits: limits)))
        cache.withLock { cache in
            cache = cache.filter { $0.key.id != connection.id }
            cache[connection] = made
        }
        return made
    }
}
