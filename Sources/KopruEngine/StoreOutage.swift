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
    }

    private let state = Mutex(State())
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var isOngoing: Bool { state.withLock { $0.since != nil } }

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
            defer { state = State() }
            return state.since
        }
        if let since { logger.notice("store answers again: workers resumed after \(ContinuousClock.now - since)") }
    }
}
