/// Jobs running at once and jobs per claim when the configuration names neither, by store. A
/// claim and a batch of completions cost one transaction whatever their size (an fsync on
/// SQLite, round trips on PostgreSQL), and job handlers mostly wait on HTTP, so large numbers
/// cost little and small ones cap the queue: at 32 and 64 the queue ran a third as fast on
/// SQLite and a quarter as fast on PostgreSQL (docs/benchmarks.md). Per-connection limits, not
/// these, protect the targets.
package struct WorkerDefaults: Sendable, Equatable {
    package var concurrency: Int
    package var claimBatch: Int

    /// `store` as in `KOPRU_STORE`: `sqlite:PATH` or `postgres://…`.
    package init(store: String) {
        if store.hasPrefix("postgres") {
            (concurrency, claimBatch) = (256, 128)
        } else {
            (concurrency, claimBatch) = (256, 256)
        }
    }
}
