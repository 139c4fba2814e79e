import Foundation
import KopruCore

/// The durable job queue. Every outbound effect of the hub is a job here.
public protocol JobQueueStore: Sendable {
    /// Enqueues in one transaction; results are in the order of `jobs`.
    func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueResult]
    /// Returns jobs whose leases expired to the queue (the attempt counts), then claims up to
    /// `request.limit` ready jobs, the head of each ordering key only, highest priority first.
    func claim(_ request: ClaimRequest) async throws -> [ClaimedJob]
    /// Heartbeat: extends the leases still held; returns the ones that were lost.
    func extendLeases(_ leases: [Lease], until: Date, now: Date) async throws -> Set<Lease>
    /// Applies outcomes and their effects, one transaction for the batch, each completion
    /// all-or-nothing within it. Results are in the order of `completions`.
    func complete(_ completions: [JobCompletion]) async throws -> [CompletionResult]
    /// Gives jobs back without spending an attempt (shutdown, or a connection at its limit).
    /// `midCall`: their handlers had started, so their effects may have landed; the jobs are
    /// marked `outcomeUncertain`.
    func release(_ leases: [Lease], now: Date, midCall: Bool) async throws
    /// The owners of the leases held now.
    func leaseOwners() async throws -> Set<String>
    /// Returns these owners' jobs to the queue now, as the expiry of their leases would (the
    /// attempt counts, the outcome is uncertain, a newer job with the coalescing key supersedes).
    /// For workers known to be dead, whose jobs would otherwise wait out their leases.
    /// Returns how many jobs were taken back.
    func reclaimLeases(heldBy owners: Set<String>, now: Date) async throws -> Int
    func job(_ id: JobID) async throws -> Job?
    func job(kind: String, idempotencyKey: String) async throws -> Job?
    /// Newest first.
    func jobs(_ filter: JobFilter) async throws -> [Job]
    func jobCounts() async throws -> [JobStatus: Int]
    /// A pending job runs now; a dead one is replayed (same row, same idempotency key, attempts
    /// reset, `outcomeUncertain` kept).
    func retryNow(_ id: JobID, now: Date) async throws -> Job
    /// Only dead jobs: back to pending with attempts reset, keeping the idempotency key.
    /// `checkedAbsent`: an operator looked at the target and the effect is not there, so the
    /// job's `outcomeUncertain` is cleared and it sends without asking (for a target that cannot
    /// be asked, the only way such a job can ever run again).
    func replayDeadLetter(_ id: JobID, now: Date, checkedAbsent: Bool) async throws -> Job
    /// Returns when work may have arrived, or after `timeout`. Stores that can hear of new jobs
    /// (PostgreSQL's LISTEN/NOTIFY) return early; the rest just wait, and the worker polls.
    func waitForWork(upTo timeout: Duration) async
}

extension JobQueueStore {
    public func replayDeadLetter(_ id: JobID, now: Date) async throws -> Job {
        try await replayDeadLetter(id, now: now, checkedAbsent: false)
    }

    /// Gives back jobs whose handlers never started.
    public func release(_ leases: [Lease], now: Date) async throws {
        try await release(leases, now: now, midCall: false)
    }

    public func waitForWork(upTo timeout: Duration) async {
        try? await Task.sleep(for: timeout)
    }
}

public protocol BindingStore: Sendable {
    /// Idempotent for the same pair; throws a conflict if either side is bound elsewhere.
    func bind(_ binding: Binding) async throws
    func binding(connection: ConnectionID, entity: String, externalID: String) async throws -> Binding?
    func binding(connection: ConnectionID, entity: String, internalID: String) async throws -> Binding?
}

public protocol CursorStore: Sendable {
    func cursor(connection: ConnectionID, name: String) async throws -> SyncCursor?
    func setCursor(_ cursor: SyncCursor) async throws
}

public protocol SnapshotStore: Sendable {
    /// The confirmed values of the given keys that have one.
    func snapshots(connection: ConnectionID, entity: String, keys: [String]) async throws -> [String: String]
    /// Every confirmed value of the entity on the connection, in one scan, unless there are more
    /// than `limit` (then nil): a sync compares a whole catalogue faster this way than by
    /// looking keys up page by page.
    func snapshots(connection: ConnectionID, entity: String, atMost limit: Int) async throws -> [String: String]?
    func putSnapshots(_ entries: [SnapshotEntry]) async throws
}

public protocol EventLogStore: Sendable {
    func append(_ events: [EventRecord]) async throws
    /// Newest first.
    func events(_ filter: EventFilter) async throws -> [EventRecord]
    /// Deletes events older than the cutoff; returns how many.
    func purgeEvents(before cutoff: Date) async throws -> Int
}

public protocol ConnectionStore: Sendable {
    func saveConnection(_ connection: Connection, now: Date) async throws
    func connection(_ id: ConnectionID) async throws -> Connection?
    func connections() async throws -> [Connection]
    func deleteConnection(_ id: ConnectionID) async throws
}

public protocol ScheduleStore: Sendable {
    /// When the schedule fires next, as last recorded.
    func nextFire(schedule: String) async throws -> Date?
    /// Compare-and-set: if the recorded next fire is still `expected`, records `next` and
    /// enqueues `job` (if any) in one transaction and returns true; otherwise changes nothing
    /// and returns false (another scheduler got there first).
    func advanceSchedule(_ schedule: String, expected: Date?, next: Date, enqueue job: NewJob?, now: Date) async throws -> Bool
}

/// Which process leads a role (the scheduler): a term that the leader renews and that anyone may
/// take once it has run out, so a dead leader is replaced within one term plus one renewal period.
public protocol LeadershipStore: Sendable {
    /// Takes the role if it is free or its term has run out, or renews it for its holder. True if
    /// `holder` leads until `until`.
    func acquireLeadership(_ role: String, holder: String, until: Date, now: Date) async throws -> Bool
    /// Gives the role up at once, if `holder` has it.
    func resignLeadership(_ role: String, holder: String) async throws
    /// The holder whose term has not run out, if any.
    func leader(_ role: String, now: Date) async throws -> String?
}

/// Everything the hub keeps. SQLite, PostgreSQL and the in-memory store implement it; the one
/// contract suite in `KopruStoreContract` holds them all to the same behaviour.
public protocol Store: JobQueueStore, BindingStore, CursorStore, SnapshotStore, EventLogStore, ConnectionStore,
    ScheduleStore, LeadershipStore, WebhookStore, TokenStore, MasterKeyStore, RateBudgetStore, StockReservationStore,
    SyncRunStore, CircuitBreakerStore, OrderIndexStore
{
    /// Brings the schema up to date.
    func migrate() async throws
    /// For logs and benchmarks: the backend and its durability setting.
    var summary: String { get }
    /// Why `error` means the store itself cannot be used now (unreachable, restarting, busy, out
    /// of disk), or nil when it is about the request. Intake answers such errors 503 and workers
    /// wait for the store instead of failing jobs. Never carries bound values.
    func unavailability(of error: any Error) -> String?
}

extension Store {
    public func unavailability(of error: any Error) -> String? {
        guard let error = error as? StoreError, error.isUnavailable else { return nil }
        return error.message
    }
}

extension Date {
    /// Milliseconds since 1970 UTC: how every store keeps time.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
    public init(millisecondsSince1970 ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }
    /// Truncated to whole milliseconds, as a store round-trips it.
    public var storePrecision: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
