import Foundation
import KopruCore

public typealias JobID = Int64

public enum JobStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for `runAt`, or for the job ahead of it with the same ordering key.
    case pending
    /// Claimed by a worker that holds a lease on it.
    case running
    case succeeded
    /// Failed permanently or ran out of attempts; waits in the dead-letter list for a replay.
    case dead
    /// Replaced by a newer job with the same coalescing key before it ran.
    case superseded

    public var isFinished: Bool { self == .succeeded || self == .dead || self == .superseded }
}

/// What a caller asks the queue to do.
public struct NewJob: Hashable, Sendable {
    public var kind: String
    /// Unique per kind: enqueuing a second job with the same key returns the first.
    public var idempotencyKey: String
    /// JSON.
    public var payload: Data
    /// Higher runs first.
    public var priority: Int
    /// Nil means as soon as possible.
    public var runAt: Date?
    /// Jobs that share it run one at a time, in the order they were enqueued.
    public var orderingKey: String?
    /// A newer pending job with the same kind and key replaces an older pending one.
    public var coalescingKey: String?
    public var connection: ConnectionID?

    public init(
        kind: String, idempotencyKey: String, payload: Data = Data("{}".utf8), priority: Int = 0, runAt: Date? = nil,
        orderingKey: String? = nil, coalescingKey: String? = nil, connection: ConnectionID? = nil
    ) {
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.payload = payload
        self.priority = priority
        self.runAt = runAt
        self.orderingKey = orderingKey
        self.coalescingKey = coalescingKey
        self.connection = connection
    }

    public init(
        kind: String, idempotencyKey: String, json payload: some Encodable, priority: Int = 0, runAt: Date? = nil,
        orderingKey: String? = nil, coalescingKey: String? = nil, connection: ConnectionID? = nil
    ) throws {
        self.init(
            kind: kind, idempotencyKey: idempotencyKey, payload: try JSONEncoder.kopru.encode(payload), priority: priority,
            runAt: runAt, orderingKey: orderingKey, coalescingKey: coalescingKey, connection: connection)
    }
}

/// A job as the store holds it.
public struct Job: Hashable, Sendable {
    public var id: JobID
    public var kind: String
    public var idempotencyKey: String
    public var payload: Data
    public var priority: Int
    public var runAt: Date
    public var orderingKey: String?
    public var coalescingKey: String?
    public var connection: ConnectionID?
    public var status: JobStatus
    /// Attempts that have ended (a crashed worker's attempt counts once its lease expires).
    public var attempts: Int
    public var lastError: String?
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// An attempt of this job once ended without knowing whether its effect reached the target
    /// (a timeout, a lost connection, a 5xx after sending, a worker that stopped or was released
    /// mid-call). Set once, never cleared, not even by a replay: every later attempt asks the
    /// target before sending again.
    public var outcomeUncertain: Bool

    public init(
        id: JobID, kind: String, idempotencyKey: String, payload: Data, priority: Int, runAt: Date, orderingKey: String?,
        coalescingKey: String?, connection: ConnectionID?, status: JobStatus, attempts: Int, lastError: String?,
        leaseOwner: String?, leaseExpiresAt: Date?, createdAt: Date, updatedAt: Date, finishedAt: Date?,
        outcomeUncertain: Bool = false
    ) {
        self.outcomeUncertain = outcomeUncertain
        self.id = id
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.payload = payload
        self.priority = priority
        self.runAt = runAt
        self.orderingKey = orderingKey
        self.coalescingKey = coalescingKey
        self.connection = connection
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    public func decodePayload<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder.kopru.decode(type, from: payload)
    }
}

public struct EnqueueResult: Hashable, Sendable {
    public var id: JobID
    /// False when a job with the same kind and idempotency key already existed; `id` is that job.
    public var inserted: Bool
    /// Pending jobs this one replaced through its coalescing key.
    public var superseded: [JobID]

    public init(id: JobID, inserted: Bool, superseded: [JobID] = []) {
        self.id = id
        self.inserted = inserted
        self.superseded = superseded
    }
}

/// Proof that a worker holds a job. A completion with a lease that has since expired (and been
/// claimed again) is refused, so a stalled worker can never complete a job twice.
public struct Lease: Hashable, Sendable {
    public var job: JobID
    public var token: String

    public init(job: JobID, token: String) {
        self.job = job
        self.token = token
    }
}

public struct ClaimedJob: Hashable, Sendable {
    public var job: Job
    public var lease: Lease

    public init(job: Job, lease: Lease) {
        self.job = job
        self.lease = lease
    }
}

public struct ClaimRequest: Hashable, Sendable {
    public var owner: String
    public var limit: Int
    public var leaseDuration: TimeInterval
    public var now: Date
    /// Only these kinds (the ones this worker can run); nil for any.
    public var kinds: Set<String>?
    /// How many more jobs of each connection this claim may take.
    public var slots: ConnectionSlots

    public init(
        owner: String, limit: Int, leaseDuration: TimeInterval, now: Date, kinds: Set<String>? = nil,
        slots: ConnectionSlots = .unlimited
    ) {
        self.owner = owner
        self.limit = limit
        self.leaseDuration = leaseDuration
        self.now = now
        self.kinds = kinds
        self.slots = slots
    }

    /// `excludingConnections`: none of their jobs; `excludingBulkConnections`: none of their bulk
    /// jobs (priority below zero), their real-time jobs still.
    public init(
        owner: String, limit: Int, leaseDuration: TimeInterval, now: Date, kinds: Set<String>? = nil,
        excludingConnections: Set<ConnectionID> = [], excludingBulkConnections: Set<ConnectionID> = []
    ) {
        var slots = ConnectionSlots.unlimited
        for connection in excludingConnections { (slots.realTime[connection], slots.bulk[connection]) = (0, 0) }
        for connection in excludingBulkConnections { slots.bulk[connection] = 0 }
        self.init(owner: owner, limit: limit, leaseDuration: leaseDuration, now: now, kinds: kinds, slots: slots)
    }

    /// Ready rows a store reads to fill the claim: where a connection's free slots may bind, more
    /// than it takes, so that a connection at its limit does not hide the others behind it.
    public var scanLimit: Int { slots.neverBinds(limit: limit) ? limit : limit * 4 + 64 }
}

/// A worker's free slots per connection and lane: its per-connection limit less the jobs of that
/// connection it already runs. Bulk jobs (priority below zero) have their own slots, so a
/// 100 k stock sync never takes the ones an order needs. The store takes no more of a
/// connection's jobs than its free slots, so a claim never takes work it must give back.
public struct ConnectionSlots: Hashable, Sendable {
    public var realTime: [ConnectionID: Int]
    public var bulk: [ConnectionID: Int]
    /// Free slots of a connection named in neither map.
    public var unnamed: Int

    public init(realTime: [ConnectionID: Int] = [:], bulk: [ConnectionID: Int] = [:], unnamed: Int) {
        self.realTime = realTime
        self.bulk = bulk
        self.unnamed = unnamed
    }

    public static let unlimited = ConnectionSlots(unnamed: .max)

    public func free(_ connection: ConnectionID, bulk isBulk: Bool) -> Int {
        max(0, (isBulk ? bulk : realTime)[connection] ?? unnamed)
    }

    /// Connections with no free slot in the lane: a store leaves their jobs out of the scan.
    public func full(bulk isBulk: Bool) -> [ConnectionID] {
        (isBulk ? bulk : realTime).filter { $0.value <= 0 }.keys.sorted()
    }

    /// True when `limit` jobs of any single connection fit, so no pick can exceed a quota.
    public func neverBinds(limit: Int) -> Bool {
        unnamed >= limit && realTime.values.allSatisfy { $0 >= limit } && bulk.values.allSatisfy { $0 >= limit }
    }

    /// Picks, in the order given, the candidates that fit: jobs without a connection always, the
    /// rest while their connection's lane has a free slot; at most `limit`.
    public func pick<Candidate>(
        _ candidates: some Sequence<Candidate>, limit: Int, connection: (Candidate) -> ConnectionID?, bulk: (Candidate) -> Bool
    ) -> [Candidate] {
        var taken: [Lane: Int] = [:]
        var picked: [Candidate] = []
        for candidate in candidates {
            if picked.count >= limit { break }
            if let id = connection(candidate) {
                let lane = Lane(connection: id, bulk: bulk(candidate))
                let used = taken[lane, default: 0]
                guard used < free(id, bulk: lane.bulk) else { continue }
                taken[lane] = used + 1
            }
            picked.append(candidate)
        }
        return picked
    }

    private struct Lane: Hashable {
        var connection: ConnectionID
        var bulk: Bool
    }
}

/// What becomes of a job after an attempt. The engine decides; the store applies.
public enum JobOutcome: Hashable, Sendable {
    case succeeded
    /// Failed; try again at the given time. Spends an attempt.
    case retry(at: Date, error: String)
    /// Rate-limited or deferred; run again at the given time without spending an attempt.
    case reschedule(at: Date, reason: String)
    /// To the dead-letter list with the reason.
    case dead(reason: String)
}

public struct JobCompletion: Hashable, Sendable {
    public var lease: Lease
    public var outcome: JobOutcome
    /// Applied in the same transaction as the outcome, only if the lease is still held.
    public var effects: [StoreEffect]
    public var now: Date
    /// This attempt ended without knowing whether its effect landed; the job remembers it.
    public var outcomeUncertain: Bool

    /// The completion a store records when an effect could not be applied: a success means the
    /// target acted although the hub recorded nothing of it (no binding), so a replay must ask.
    public var afterFailedEffect: JobCompletion {
        var failed = self
        if outcome == .succeeded { failed.outcomeUncertain = true }
        return failed
    }

    public init(lease: Lease, outcome: JobOutcome, effects: [StoreEffect] = [], now: Date, outcomeUncertain: Bool = false) {
        self.outcomeUncertain = outcomeUncertain
        self.lease = lease
        self.outcome = outcome
        self.effects = effects
        self.now = now
    }
}

public enum CompletionResult: Hashable, Sendable {
    case applied
    /// The lease expired and the job belongs to someone else now (or was finished); nothing applied.
    case leaseLost
    /// An effect could not be applied (e.g. a binding conflict); the job went to the dead letters.
    case effectFailed(String)
}

public struct JobFilter: Hashable, Sendable {
    public var statuses: Set<JobStatus>?
    public var kind: String?
    public var connection: ConnectionID?
    /// Newest first; pass the last id seen to page on.
    public var beforeID: JobID?
    public var limit: Int

    public init(
        statuses: Set<JobStatus>? = nil, kind: String? = nil, connection: ConnectionID? = nil, beforeID: JobID? = nil,
        limit: Int = 50
    ) {
        self.statuses = statuses
        self.kind = kind
        self.connection = connection
        self.beforeID = beforeID
        self.limit = limit
    }
}

extension JSONEncoder {
    /// Sorted keys and ISO 8601 dates, so identical values encode to identical bytes.
    public static var kopru: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    public static var kopru: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
