import Foundation
import KopruApp
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Issue 15: each installed connector kind says what it can do, and says it truly. Built from a
/// connection to its sandbox, the connector implements exactly the capabilities its kind
/// declares, so a flow refused or accepted by the declaration is refused or run by the code.
@Suite("Connector kinds")
struct ConnectorKindTests {
    /// Each installed sandbox as `kopru sandbox` starts it, saved as a connection of its type.
    static func connectEverySandbox(to world: LoopbackWorld) async throws {
        var shop = SampleShop(skus: 5)
        for sandbox in Installed.sandboxes { try await sandbox.connect(world, ConnectionID(sandbox.connectorType), &shop) }
    }

    @Test("the built connector implements exactly the capabilities its kind declares")
    func declaredCapabilitiesAreImplemented() async throws {
        let world = try await LoopbackWorld(name: "kinds")
        defer { Task { await world.shutdown() } }
        try await Self.connectEverySandbox(to: world)
        let connectors = HubConnectors(transport: AsyncHTTPClientTransport())
        for kind in Installed.connectors {
            let connection = try #require(try await world.store.connection(ConnectionID(kind.id)), "no sandbox for \(kind.id)")
            let built = try connectors.connector(for: connection)
            let implemented = Set(Capability.allCases.filter { $0.isImplemented(by: built) })
            #expect(implemented == kind.capabilities, "\(kind.id): declared \(kind.capabilities.sorted()), implemented \(implemented.sorted())")
        }
    }

    @Test("ids are unique and every flow kind's jobs have handlers in the registry built from the installed kinds")
    func everyJobKindHasAHandler() async throws {
        #expect(Set(Installed.connectors.map(\.id)).count == Installed.connectors.count)
        #expect(Set(Installed.flows.map(\.id)).count == Installed.flows.count)
        let store = MemoryStore()
        let registry = JobRegistry(
            JobRegistry.flows(FlowCatalog([]), kinds: Installed.flows, connectors: HubConnectors().resolver(store: store), store: store))
        let environment = FlowEnvironment(catalog: FlowCatalog([]), connectors: HubConnectors().resolver(store: store), store: store)
        for flow in Installed.flows {
            #expect(registry.kinds.contains(flow.syncKind), "\(flow.id): no handler for \(flow.syncKind)")
            for handler in flow.handlers(environment, .exponentialJitter()) {
                #expect(registry.kinds.contains(handler.kind), "\(flow.id): \(handler.kind)")
            }
        }
    }

    @Test("connector kind × flow kind: a pairing the kinds allow has a connector that is what the flow asks for")
    func everyAllowedPairingResolves() async throws {
        let world = try await LoopbackWorld(name: "pairs")
        defer { Task { await world.shutdown() } }
        try await Self.connectEverySandbox(to: world)
        let connectors = HubConnectors(transport: AsyncHTTPClientTransport())
        for kind in Installed.connectors {
            let built = try connectors.connector(for: try #require(try await world.store.connection(ConnectionID(kind.id))))
            for flow in Installed.flows {
                for (needs, side) in [(flow.sourceNeeds, FlowKind.Side.source), (flow.targetNeeds, .target)] {
                    let allowed = flow.missing(on: kind, as: side) == nil
                    let works = needs.allSatisfy { group in group.contains { $0.isImplemented(by: built) } }
                    #expect(allowed == works, "\(kind.id) as the \(side) of \(flow.id)")
                }
            }
        }
    }
}
