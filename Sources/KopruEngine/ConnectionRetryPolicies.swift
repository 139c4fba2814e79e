import Foundation
import KopruCore
import KopruStore
import Synchronization

/// Each connection's `retry.*` settings (under a flow's own `retry`, where it sets one), read from the store at most every `refresh` so a
/// changed policy takes effect on the next failure without a restart, and without a store read
/// per job.
final class ConnectionRetryPolicies: Sendable {
    private struct Entry {
        var settings: [String: String]
        var readAt: ContinuousClock.Instant
    }

    private let store: any Store
    private let refresh: Duration
    private let entries = Mutex<[ConnectionID: Entry]>([:])

    init(store: any Store, refresh: Duration = .seconds(5)) {
        self.store = store
        self.refresh = refresh
    }

    /// The connection's policy where its settings set one (a value they leave out keeps the
    /// handler's), else the handler's own. An unreadable or invalid setting keeps the handler's:
    /// saving the connection refuses such values, so this only guards against a hand-edited store.
    func policy(for job: Job, handler: any JobHandler) async -> RetryPolicy {
        if let own = handler.retryPolicy(for: job) { return own }
        guard let connection = job.connection else { return handler.retryPolicy }
        let now = ContinuousClock.now
        var settings = entries.withLock { entries in
            entries[connection].flatMap { now - $0.readAt < refresh ? $0.settings : nil }
        }
        if settings == nil {
            let read = (try? await store.connection(connection))?.settings.filter { RetryPolicy.settingKeys.contains($0.key) } ?? [:]
            entries.withLock { $0[connection] = Entry(settings: read, readAt: now) }
            settings = read
        }
        return ((try? RetryPolicy.from(settings: settings ?? [:], fallback: handler.retryPolicy)) ?? nil) ?? handler.retryPolicy
    }
}
