import ConnectorERPRest
import ConnectorHoroz
import ConnectorMagento2
import KopruConnectors
import KopruEngine

/// The connector kinds and flow kinds this build has: the only place a connector or a flow
/// kind is named. Adding one is its own folders plus one line here.
package enum Installed {
    package static let connectors: [ConnectorKind] = [
        Magento2Connector.kind,
        RESTERPConnector.kind,
        HorozConnector.kind,
    ]

    package static let flows: [FlowKind] = [.orders, .stock, .prices, .customers, .shipments, .shipping]

    package static let kinds = HubKinds(connectors: connectors, flows: flows)
}
