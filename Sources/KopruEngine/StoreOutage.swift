import Foundation
import Logging
import Synchronization

/// One worker's view of whether its store answers: logged once when it stops and once when it
/// is back, with a pause that grows while it stays away (0.25 s to 2 s), so a restarting
/// database is neither hammered nor waited for long after it returns.
final class StoreOutage: Sendable {
    private struct State {
        var since: ContinuousClock.Instant?
        var failures = 0
        /// Finished jobs whose outcomes wait for the store.
        var completionsWaiting = 0
    }

    private let state = Mutex(State())
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var isOngoing: Bool { state.withLock { $0.since != nil } }

    /// While any finished job's outcome waits to be written, nothing is claimed: the first claim
    /// after a long outage would take this worker's own expired leases back and run those jobs
    /// again, though their outcomes are known.
    var completionsWaiting: Int { state.withLock { $0.completionsWaiting } }
    func completionWaits() { state.withLock { $0.completionsWaiting += 1 } }
    func completionWritten() { state.withLock { $0.completionsWaiting -= 1 } }

    /// How long to wait before trying the store again.
    var pause: Duration {
        let failures = state.withLock { $0.failures }
        return .milliseconds(min(2000, 250 << min(failures - 1, 3)))
    }

    func began(_ reason: String) {
        let first = state.withLock { state in
            state.failures += 1
            guard state.since == nil else { return false }
            state.since = .now
            return true
        }
        if first { logger.error("store unavailable: workers paused until it answers", metadata: ["reason": "\(reason)"]) }
    }

    func ended() {
        let since = state.withLock { state -> ContinuousClock.Instant? in
            defer { (state.since, state.failures) = (nil, 0) }
            return state.since
        }
        if let since { logger.notice("store answers again: workers resumed after \(ContinuousClock.now - since)") }
    }
}
