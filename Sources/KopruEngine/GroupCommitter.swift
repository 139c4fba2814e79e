import KopruStore

/// Group commit for job completions: completions that arrive while a commit is in progress are
/// written together in the next one. With `synchronous = FULL` each commit costs an fsync, so
/// this is what lets a durable queue run thousands of jobs a second.
actor GroupCommitter {
    private let store: any Store
    private let maximumBatch: Int
    private var queue: [(JobCompletion, CheckedContinuation<CompletionResult, any Error>)] = []
    private var flushing = false

    init(store: any Store, maximumBatch: Int = 512) {
        self.store = store
        self.maximumBatch = maximumBatch
    }

    /// Returns once the completion is committed (or refused because the lease was lost).
    func submit(_ completion: JobCompletion) async throws -> CompletionResult {
        try await withCheckedThrowingContinuation { continuation in
            queue.append((completion, continuation))
            if !flushing {
                flushing = true
                // Unstructured on purpose: a commit in progress must finish even when the worker
                // that asked for it is being cancelled at shutdown.
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !queue.isEmpty {
            let batch = Array(queue.prefix(maximumBatch))
            queue.removeFirst(batch.count)
            do {
                let results = try await store.complete(batch.map(\.0))
                for (entry, result) in zip(batch, results) { entry.1.resume(returning: result) }
            } catch {
                for entry in batch { entry.1.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
