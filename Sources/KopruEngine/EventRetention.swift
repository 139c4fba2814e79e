import Foundation
import KopruCore
import KopruStore
import Logging
import ServiceLifecycle
import Synchronization

/// Deletes event-log lines, and webhook events processed, longer ago than the retention (30 days
/// by default), once an hour. Unprocessed webhooks, jobs and bindings are never purged here.
public final class EventRetention: Service, Sendable {
    private let store: any Store
    private let retention: Duration
    private let interval: Duration
    private let logger: Logger
    private let stopping = Mutex(false)

    public init(
        store: any Store, retention: Duration = .seconds(30 * 86_400), interval: Duration = .seconds(3600),
        logger: Logger = Logger(label: "kopru.retention")
    ) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.logger = logger
    }

    public func purgeOnce(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-retention.seconds)
        let purged = try await store.purgeEvents(before: cutoff)
        let webhooks = try await store.purgeWebhookEvents(processedBefore: cutoff)
        if purged + webhooks > 0 {
            logger.info("purged old event log lines and webhook bodies", metadata: ["events": "\(purged)", "webhooks": "\(webhooks)"])
        }
        return purged + webhooks
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !self.stopping.withLock({ $0 }) {
                do { _ = try await self.purgeOnce() } catch {
                    self.logger.error("event purge failed", metadata: ["error": "\(error)"])
                }
                let deadline = ContinuousClock.now + self.interval
                while ContinuousClock.now < deadline, !self.stopping.withLock({ $0 }) {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
    }
}
