import KopruStore
import Synchronization

/// Group commit: items that arrive while a commit is in progress are written together in the
/// next one. With `synchronous = FULL` each commit costs an fsync, so this is what lets a durable
/// queue run thousands of jobs a second, and webhook intake store thousands of events.
public actor GroupCommit<Item: Sendable, Result: Sendable> {
    public typealias Commit = @Sendable ([Item]) async throws -> [Result]

    private let commit: Commit
    private let maximumBatch: Int
    private let deadline: Duration?
    private var queue: [(Item, CheckedContinuation<Result, any Error>)] = []
    private var flushing = false

    /// `commit` writes one batch in one transaction and returns one result per item, in order.
    /// `deadline`: a commit that has not returned by then fails its batch as the store being
    /// unavailable, and the next batch goes ahead. A database that went away mid-transaction
    /// can leave the call hanging (PostgreSQL's client did, across a server restart), and every
    /// later item would wait behind it. The late commit may still land: callers must take that
    /// (intake's re-delivery is answered as a duplicate, a job's completion checks its lease).
    public init(maximumBatch: Int = 512, deadline: Duration? = nil, commit: @escaping Commit) {
        self.commit = commit
        self.maximumBatch = maximumBatch
        self.deadline = deadline
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
            let items = batch.map(\.0)
            let commit = self.commit
            let outcome: Swift.Result<[Result], any Error> =
                if let deadline {
                    await StoreDeadline.within(deadline, "commit") { try await commit(items) }
                } else {
                    await Self.catching { try await commit(items) }
                }
            switch outcome {
            case .success(let results): for (entry, result) in zip(batch, results) { entry.1.resume(returning: result) }
            case .failure(let error): for entry in batch { entry.1.resume(throwing: error) }
            }
        }
        flushing = false
    }

    private static func catching<T: Sendable>(_ work: @Sendable () async throws -> T) async -> Swift.Result<T, any Error> {
        do { return .success(try await work()) } catch { return .failure(error) }
    }
}
