import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore
import Synchronization

/// The connections webhook intake needs, read once and kept for a few seconds: opening every
/// connection's secrets on every webhook would cost more than storing the webhook. Changes made
/// through this process's admin API take effect at once; other processes' within `lifetime`.
final class ConnectionDirectory: Sendable {
    struct Entry: Sendable {
        let connection: Connection
        let webhook: WebhookSettings?
    }

    private let store: any Store
    let kinds: HubKinds
    private let lifetime: Duration
    private let cached = Mutex<(entries: [ConnectionID: Entry], loaded: ContinuousClock.Instant)?>(nil)

    init(store: any Store, kinds: HubKinds, lifetime: Duration = .seconds(5)) {
        self.store = store
        self.kinds = kinds
        self.lifetime = lifetime
    }

    func invalidate() { cached.withLock { $0 = nil } }

    func entry(_ id: ConnectionID) async throws -> Entry? { try await entries()[id] }

    func entries(ofType type: String) async throws -> [Entry] {
        try await entries().values.filter { $0.connection.type == type }.sorted { $0.connection.id < $1.connection.id }
    }

    private func entries() async throws -> [ConnectionID: Entry] {
        if let current = cached.withLock({ $0 }), ContinuousClock.now - current.loaded < lifetime { return current.entries }
        var entries: [ConnectionID: Entry] = [:]
        for connection in try await store.connections() {
            entries[connection.id] = Entry(
                connection: connection, webhook: try? WebhookSettings(connection: connection, kind: kinds.connector(connection.type)))
        }
        let loaded = (entries, ContinuousClock.now)
        cached.withLock { $0 = loaded }
        return entries
    }
}
