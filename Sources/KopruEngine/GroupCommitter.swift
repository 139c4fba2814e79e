/// Group commit: items that arrive while a commit is in progress are written together in the
/// next one. With `synchronous = FULL` each commit costs an fsync, so this is what lets a durable
/// queue run thousands of jobs a second, and webhook intake store thousands of events.
public actor GroupCommit<Item: Sendable, Result: Sendable> {
    public typealias Commit = @Sendable ([Item]) async throws -> [Result]

    private let commit: Commit
    private let maximumBatch: Int
    private var queue: [(Item, CheckedContinuation<Result, any Error>)] = []
    private var flushing = false

    /// `commit` writes one batch in one transaction and returns one result per item, in order.
    public init(maximumBatch: Int = 512, commit: @escaping Commit) {
        self.commit = commit
        self.maximumBatch = maximumBatch
    }

    /// Returns once the item's batch has committed.
    public func submit(_ item: Item) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.append((item, continuation))
            if !flushing {
                flushing = true
                // Unstructured on purpose: a commit in progress must finish even when the task
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
                let results = try await commit(batch.map(\.0))
                for (entry, result) in zip(batch, results) { entry.1.resume(returning: result) }
            } catch {
                for entry in batch { entry.1.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
