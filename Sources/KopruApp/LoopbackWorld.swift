import Foundation
import KopruCore
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Synchronization

/// Sandboxes served on loopback with a hub store beside them, each sandbox saved as a
/// connection of its connector's type: the one builder the demo, `kopru bench stock` and the
/// flow tests share.
package final class LoopbackWorld: Sendable {
    package let directory: URL
    package let store: SQLiteStore
    private let servers = Mutex<[SandboxServer]>([])

    /// A fresh SQLite store in a temporary folder named after `name`.
    package init(name: String) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("hub.db").path, secretBox: .ephemeral())
        try await store.migrate()
    }

    /// Serves `system` on a free loopback port and saves the connection `id` to it; `settings`
    /// are laid over what the sandbox says a connection needs.
    @discardableResult
    package func connect<System: SandboxedSystem>(
        _ system: System, as id: ConnectionID, name: String, settings: [String: String] = [:]
    ) async throws -> SandboxServer {
        let server = try await SandboxServer(system.sandbox)
        servers.withLock { $0.append(server) }
        try await save(system.connection(at: server.baseURL), type: System.connectorType, as: id, name: name, settings: settings)
        return server
    }

    /// Saves the connection `id` of connector `type` to a sandbox served elsewhere (another
    /// process); `settings` are laid over what the sandbox says a connection needs.
    package func save(
        _ connection: SandboxConnection, type: String, as id: ConnectionID, name: String, settings: [String: String] = [:]
    ) async throws {
        try await store.saveConnection(
            Connection(
                id: id, type: type, name: name, settings: connection.settings.merging(settings) { $1 },
                secrets: connection.secrets.mapValues(Secret.init)),
            now: Date())
    }

    package func shutdown() async {
        for server in servers.withLock({ $0 }) { await server.shutdown() }
        try? FileManager.default.removeItem(at: directory)
    }
}
