import ConnectorERPRest
import ConnectorHoroz
import ConnectorMagento2
import KopruConnectors
import KopruCore
import KopruEngine
import KopruSandbox

/// The connector kinds and flow kinds this build has: the only place a connector or a flow
/// kind is named. Adding a connector is its own folders plus a line in `connectors` and one in
/// `sandboxes`; a flow kind, its file plus a line in `flows`.
package enum Installed {
    package static let connectors: [ConnectorKind] = [
        Magento2Connector.kind,
        RESTERPConnector.kind,
        HorozConnector.kind,
    ]

    /// The simulated systems `kopru sandbox`, the demo and the kind tests serve, one per connector.
    package static let sandboxes: [InstalledSandbox] = [
        InstalledSandbox(MagentoSandbox.self),
        InstalledSandbox(ERPSandbox.self),
        InstalledSandbox(HorozSandbox.self),
    ]

    package static func sandbox(for type: String) -> InstalledSandbox? { sandboxes.first { $0.connectorType == type } }

    package static let flows: [FlowKind] = [.orders, .stock, .prices, .customers, .shipments, .shipping]

    package static let kinds = HubKinds(connectors: connectors, flows: flows)
}

/// One installed sandbox, its type erased where the command and the tests need only this.
package struct InstalledSandbox: Sendable {
    package let connectorType: String
    package let credentialKeys: [String]
    /// As `kopru sandbox` starts it: the sandbox and what it accepts.
    package let standalone: @Sendable (_ credentials: JSON?, _ shop: inout SampleShop, _ orders: Int) throws -> (Sandbox, JSON)
    /// Starts it in `world`, saved as the connection `id`.
    package let connect: @Sendable (_ world: LoopbackWorld, _ id: ConnectionID, _ shop: inout SampleShop) async throws -> Void

    init<System: SandboxedSystem>(_ type: System.Type) {
        connectorType = System.connectorType
        credentialKeys = System.credentialKeys
        standalone = { credentials, shop, orders in
            let (system, accepted) = try System.standalone(credentials: credentials, shop: &shop, orders: orders)
            return (system.sandbox, accepted)
        }
        connect = { world, id, shop in
            let system = try System.standalone(credentials: nil, shop: &shop, orders: 0).system
            try await world.connect(system, as: id, name: System.connectorType)
        }
    }
}
