import Synchronization

/// Wakes one waiting loop. A signal sent while nobody waits is kept, so a job that finishes
/// between the loop's last look and its wait is never missed.
final class Wakeup: Sendable {
    enum Reason: Sendable {
        /// The poll interval ran out with nothing heard.
        case poll
        /// Anything else: a job finished, work was announced, a stop.
        case news
    }

    private struct State {
        var pending: Set<Reason> = []
        var waiter: CheckedContinuation<Set<Reason>, Never>?
    }

    private let state = Mutex(State())

    func signal(_ reason: Reason = .news) {
        let waiter = state.withLock { state -> CheckedContinuation<Set<Reason>, Never>? in
            guard let waiter = state.waiter else {
                state.pending.insert(reason)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: [reason])
    }

    /// Returns at the next signal, or at once if any came since the last wait, or when the task
    /// is cancelled: why it woke.
    @discardableResult
    func wait() async -> Set<Reason> {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let pending = state.withLock { state -> Set<Reason>? in
                    guard state.pending.isEmpty, !Task.isCancelled else {
                        defer { state.pending = [] }
                        return state.pending
                    }
                    state.waiter = continuation
                    return nil
                }
                if let pending { continuation.resume(returning: pending) }
            }
        } onCancel: {
            signal()
        }
    }
}
