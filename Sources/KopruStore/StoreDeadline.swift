import Synchronization

/// A store call that must not wait forever. PostgreSQL calls in flight when the server went
/// away have been seen never to return (a transaction cut by a restart), and a caller waiting on
/// one waits with them: intake behind a group commit, a worker behind its claim.
public enum StoreDeadline {
    /// `work`'s outcome, or `StoreError.unavailable` once `deadline` has passed. The work is
    /// then cancelled; if it still succeeds (it had committed), `late` gets its result, so a
    /// caller can undo what nobody will use (a claim's leases).
    public static func within<T: Sendable>(
        _ deadline: Duration, _ what: String, late: (@Sendable (T) async -> Void)? = nil,
        _ work: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            let pending = Mutex<CheckedContinuation<Result<T, any Error>, Never>?>(continuation)
            let resume = { @Sendable (outcome: Result<T, any Error>) -> Bool in
                guard let waiting = pending.withLock({ $0.take() }) else { return false }
                waiting.resume(returning: outcome)
                return true
            }
            // The timer ends as soon as the work does. Left to sleep out its deadline, every
            // call's timer outlived its call by up to 30 s, and `kopru bench soak` under heaptrack
            // found these timers' allocations never given back: the worker's slow RSS creep.
            // Detached: it needs none of the caller's task-local values, and copies none.
            let running = Mutex<Task<Void, Never>?>(nil)
            let timer = Task.detached {
                try await Task.sleep(for: deadline)
                if resume(.failure(StoreError.unavailable("the store did not \(what) within \(deadline)"))) {
                    running.withLock { $0 }?.cancel()
                }
            }
            let task = Task {
                let outcome: Result<T, any Error>
                do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
                timer.cancel()
                if !resume(outcome), case .success(let value) = outcome { await late?(value) }
            }
            running.withLock { $0 = task }
        }
    }
}
