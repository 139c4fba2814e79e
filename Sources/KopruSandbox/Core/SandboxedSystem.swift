import Foundation
import KopruCore

/// How a hub connects to a sandbox: the connector type it plays and the settings and secrets a
/// connection to it needs, in the connector's own setting names. The sandbox states them from its
/// spec, never from the connector's code, so one world builder serves the demo, the benchmarks
/// and the tests.
public protocol SandboxedSystem: Sendable {
    /// DESIGN.md's type id of the connector that talks to this system.
    static var connectorType: String { get }
    var sandbox: Sandbox { get }
    func connection(at baseURL: URL) -> SandboxConnection
    /// For `kopru sandbox SYSTEM`: this system with a sample catalogue from `shop` (and `orders`
    /// placed, where it takes orders), accepting the operator's `credentials` over its defaults;
    /// and what it accepts, shown to the operator as JSON.
    static func standalone(credentials: JSON?, shop: inout SampleShop, orders: Int) throws(SandboxSetupProblem) -> (system: Self, accepted: JSON)
    /// The credential keys `--credentials` takes, for the command's help.
    static var credentialKeys: [String] { get }
}

/// Why a standalone sandbox cannot start with what it was given.
public struct SandboxSetupProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct SandboxConnection: Sendable {
    public var settings: [String: String]
    public var secrets: [String: String]

    public init(settings: [String: String], secrets: [String: String]) {
        self.settings = settings
        self.secrets = secrets
    }
}
