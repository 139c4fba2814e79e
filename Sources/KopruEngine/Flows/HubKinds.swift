import KopruConnectors
import KopruStore

/// The connector kinds and flow kinds a hub runs with, and the questions asked of them: which
/// kind a connection is, and whether a flow can run between two connections.
public struct HubKinds: Sendable, Equatable {
    public let connectors: [ConnectorKind]
    public let flows: [FlowKind]

    public init(connectors: [ConnectorKind], flows: [FlowKind]) {
        self.connectors = connectors
        self.flows = flows
    }

    /// Two lists of the same kinds are equal (the descriptors hold closures).
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.connectors.map(\.id) == rhs.connectors.map(\.id) && lhs.flows == rhs.flows
    }

    /// Every job kind the flow kinds run: their handlers' kinds.
    public var jobKinds: Set<String> {
        let store = MemoryStore()
        let nothing = ConnectorResolver(store: store) { _ in throw ConnectorError.permanent("no connectors here") }
        let environment = FlowEnvironment(catalog: FlowCatalog([]), connectors: nothing, store: store)
        return Set(flows.flatMap { $0.handlers(environment, .exponentialJitter()).map(\.kind) })
    }

    public func connector(_ id: String) -> ConnectorKind? { connectors.first { $0.id == id } }
    public func flow(_ id: String) -> FlowKind? { flows.first { $0.id == id } }

    /// The flow kinds a connection of `kind` can be the source of, so can sync.
    public func flows(from kind: ConnectorKind) -> [FlowKind] { flows.filter { $0.missing(on: kind, as: .source) == nil } }

    /// Why `flow` cannot run from `source` to `target`, and on which side; nil when it can.
    public func problem(running flow: FlowKind, from source: Connection?, to target: Connection?) -> (side: FlowKind.Side, message: String)? {
        for (connection, side) in [(source, FlowKind.Side.source), (target, .target)] {
            guard let connection else { continue }
            guard let kind = connector(connection.type) else {
                return (side, "connection \(connection.id) is of type \(connection.type), which this build has no connector for")
            }
            if let missing = flow.missing(on: kind, as: side) { return (side, missing) }
        }
        return nil
    }
}
