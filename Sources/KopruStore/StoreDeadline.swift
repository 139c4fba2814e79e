import Synchronization

/// A store call that must not wait forever. PostgreSQL calls in flight when the server went
/// away have been seen never to return (a transaction cut by a restart), and a caller waiting on
/// one waits with them: intake behind a group commit, a worker behind its claim.
public enum StoreDeadline {
    /// `work`'s outcome, or `StoreError.unavailable` once `deadline` has passed; `work` is left
    /// to finish on its own (what it commits late is what a lost answer would have committed).
    public static func within<T: Sendable>(
        _ deadline: Duration, _ what: String, _ work: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            let pending = Mutex<CheckedContinuation<Result<T, any Error>, Never>?>(continuation)
            let resume = { @Sendable (outcome: Result<T, any Error>) in
                pending.withLock { $0.take() }?.resume(returning: outcome)
            }
            let timer = Task {
                try await Task.sleep(for: deadline)
                resume(.failure(StoreError.unavailable("the store did not \(what) within \(deadline)")))
            }
            Task {
                let outcome: Result<T, any Error>
                do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
                timer.cancel()
                resume(outcome)
            }
        }
    }
}
