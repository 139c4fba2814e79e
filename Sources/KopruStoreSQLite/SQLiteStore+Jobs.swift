import Foundation
import GRDB
import KopruCore
import KopruStore

extension SQLiteStore: JobQueueStore {
    public func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueResult] {
        let results = try await pool.write { db in try jobs.map { try Self.enqueue($0, now: now, db) } }
        notifications.wakeAll()
        return results
    }

    public func waitForWork(upTo timeout: Duration) async {
        await notifications.wait(upTo: timeout)
    }

    static func enqueue(_ job: NewJob, now: Date, _ db: Database) throws -> EnqueueResult {
        if let existing = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM jobs WHERE kind = ? AND idempotency_key = ?"),
            arguments: [job.kind, job.idempotencyKey])
        {
            return EnqueueResult(id: existing, inserted: false)
        }
        var superseded: [JobID] = []
        // The same work asked for again runs as urgently as the most urgent of the requests.
        var priority = job.priority
        if let key = job.coalescingKey {
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE jobs SET status = 'superseded', finished_at = ?, updated_at = ?,
                            last_error = 'superseded by a newer job with the same coalescing key'
                        WHERE kind = ? AND coalescing_key = ? AND status = 'pending' RETURNING id, priority
                        """),
                arguments: [now.ms, now.ms, job.kind, key])
            superseded = rows.map { $0[0] as Int64 }.sorted()
            priority = rows.map { $0[1] as Int }.reduce(priority, max)
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO jobs (kind, idempotency_key, payload, priority, run_at, ordering_key, coalescing_key,
                                  connection_id, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                """
        ).execute(arguments: [
            job.kind, job.idempotencyKey, job.payload, priority, (job.runAt ?? now).ms, job.orderingKey,
            job.coalescingKey, job.connection?.rawValue, now.ms, now.ms,
        ])
        return EnqueueResult(id: db.lastInsertedRowID, inserted: true, superseded: superseded)
    }

    /// Where a newer job with the same coalescing key is pending, an older one going back to
    /// pending would be a second pending job for that key: it is superseded instead.
    private static let supersedeIfNewerPending = """
        UPDATE jobs SET status = 'superseded', finished_at = :now, updated_at = :now, lease_owner = NULL,
            lease_token = NULL, lease_expires_at = NULL,
            last_error = 'superseded by a newer job with the same coalescing key'
        WHERE id = :id AND coalescing_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM jobs AS newer WHERE newer.kind = jobs.kind AND newer.coalescing_key = jobs.coalescing_key
              AND newer.status = 'pending' AND newer.id <> jobs.id)
        """

    /// Crashed workers' jobs: superseded where a newer one with their coalescing key waits, back to
    /// pending (the attempt counts, the outcome uncertain) otherwise.
    private static func reclaim(_ ids: [Int64], now: Int64, _ db: Database) throws {
        for id in ids {
            try db.cachedStatement(sql: Self.supersedeIfNewerPending).execute(arguments: ["now": now, "id": id])
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET status = 'pending', attempts = attempts + 1, outcome_uncertain = 1,
                        last_error = 'lease expired: worker ' || coalesce(lease_owner, '?') || ' stopped before finishing',
                        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = ?
                    WHERE id = ? AND status = 'running'
                    """
            ).execute(arguments: [now, id])
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(
                db, sql: "SELECT DISTINCT lease_owner FROM jobs INDEXED BY jobs_leases WHERE status = 'running' AND lease_owner IS NOT NULL"))
        }
    }

    public func reclaimLeases(heldBy owners: Set<String>, now: Date) async throws -> Int {
        guard !owners.isEmpty else { return 0 }
        defer { notifications.wakeAll() }
        return try await pool.write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM jobs INDEXED BY jobs_leases WHERE status = 'running' AND lease_owner IN (\(placeholders(owners.count)))",
                arguments: StatementArguments(owners.sorted()))
            try Self.reclaim(ids, now: now.ms, db)
            return ids.count
        }
    }

    public func claim(_ request: ClaimRequest) async throws -> [ClaimedJob] {
        let token = UUID().uuidString
        let now = request.now.ms
        let expires = request.now.addingTimeInterval(request.leaseDuration).ms
        return try await pool.write { db in
            let expired = try Int64.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id FROM jobs INDEXED BY jobs_leases WHERE status = 'running' AND lease_expires_at <= ?"),
                arguments: [now])
            try Self.reclaim(expired, now: now, db)

            // INDEXED BY: left to itself the planner takes jobs_status and sorts every pending
            // row on each claim; the partial index is already in claim order.
            var sql = """
                SELECT id, connection_id, priority FROM jobs AS j INDEXED BY jobs_ready
                WHERE status = 'pending' AND run_at <= ?
                  AND (ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM jobs AS o WHERE o.ordering_key = j.ordering_key
                          AND o.status IN ('pending', 'running') AND o.id < j.id))
                """
            var arguments: [(any DatabaseValueConvertible)?] = [now]
            if let kinds = request.kinds {
                sql += " AND kind IN (\(placeholders(kinds.count)))"
                arguments += kinds.sorted() as [(any DatabaseValueConvertible)?]
            }
            for (bulk, full) in [(false, request.slots.full(bulk: false)), (true, request.slots.full(bulk: true))] where !full.isEmpty {
                sql += " AND (priority \(bulk ? ">=" : "<") 0 OR connection_id IS NULL OR connection_id NOT IN (\(placeholders(full.count))))"
                arguments += full.map(\.rawValue) as [(any DatabaseValueConvertible)?]
            }
            sql += " ORDER BY priority DESC, run_at, id LIMIT ?"
            arguments.append(request.scanLimit)
            let candidates = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map {
                (id: $0[0] as Int64, connection: ($0[1] as String?).map { ConnectionID($0) }, bulk: ($0[2] as Int) < 0)
            }
            let ids = request.slots.pick(candidates, limit: request.limit, connection: \.connection, bulk: \.bulk).map(\.id)
            guard !ids.isEmpty else { return [] }

            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET status = 'running', lease_owner = ?, lease_token = ?, lease_expires_at = ?, updated_at = ?
                    WHERE id IN (\(placeholders(ids.count))) RETURNING \(Self.jobColumns)
                    """,
                arguments: StatementArguments([request.owner, token, expires, now] as [(any DatabaseValueConvertible)?] + ids))
            let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            return rows.map { row in
                let job = Self.claimedJob(row)
                return ClaimedJob(job: job, lease: Lease(job: job.id, token: token))
            }
                .sorted { position[$0.job.id]! < position[$1.job.id]! }
        }
    }

    public func extendLeases(_ leases: [Lease], until: Date, now: Date) async throws -> Set<Lease> {
        try await pool.write { db in
            var lost = Set<Lease>()
            for lease in leases {
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET lease_expires_at = ?
                        WHERE id = ? AND status = 'running' AND lease_token = ? AND lease_expires_at > ?
                        """
                ).execute(arguments: [until.ms, lease.job, lease.token, now.ms])
                if db.changesCount == 0 { lost.insert(lease) }
            }
            return lost
        }
    }

    public func complete(_ completions: [JobCompletion]) async throws -> [CompletionResult] {
        defer { notifications.wakeAll() }
        return try await pool.write { db in
            try completions.map { completion in
                var result = CompletionResult.applied
                do {
                    try db.inSavepoint {
                        guard try Self.finish(completion, completion.outcome, db) else {
                            result = .leaseLost
                            return .rollback
                        }
                        for effect in completion.effects { try Self.apply(effect, now: completion.now, db) }
                        return .commit
                    }
                } catch {
                    let reason = "store effect failed: \(Self.describe(error))"
                    _ = try Self.finish(completion.afterFailedEffect, .dead(reason: reason), db)
                    result = .effectFailed(reason)
                }
                return result
            }
        }
    }

    /// Applies an outcome if the lease is still held; false if it is not.
    private static func finish(_ completion: JobCompletion, _ outcome: JobOutcome, _ db: Database) throws -> Bool {
        let (lease, now) = (completion.lease, completion.now)
        let held = "id = :id AND status = 'running' AND lease_token = :token"
        let release =
            "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = :now, outcome_uncertain = outcome_uncertain OR :uncertain"
        var arguments: StatementArguments = [
            "id": lease.job, "token": lease.token, "now": now.ms, "uncertain": completion.outcomeUncertain,
        ]
        let sql: String
        switch outcome {
        case .succeeded:
            sql = "UPDATE jobs SET status = 'succeeded', attempts = attempts + 1, finished_at = :now, \(release) WHERE \(held)"
        case .dead(let reason):
            sql = "UPDATE jobs SET status = 'dead', attempts = attempts + 1, finished_at = :now, last_error = :error, \(release) WHERE \(held)"
            arguments += ["error": reason]
        case .retry(let at, let error):
            sql = "UPDATE jobs SET status = 'pending', attempts = attempts + 1, run_at = :at, last_error = :error, \(release) WHERE \(held)"
            arguments += ["at": at.ms, "error": error]
        case .reschedule(let at, let reason):
            sql = "UPDATE jobs SET status = 'pending', run_at = :at, last_error = :error, \(release) WHERE \(held)"
            arguments += ["at": at.ms, "error": reason]
        }
        switch outcome {
        case .retry, .reschedule:
            guard try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM jobs WHERE \(held)"), arguments: ["id": lease.job, "token": lease.token])
                != nil
            else { return false }
            try db.cachedStatement(sql: supersedeIfNewerPending).execute(arguments: ["now": now.ms, "id": lease.job])
            if db.changesCount > 0 { return true }
        case .succeeded, .dead: break
        }
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
        return db.changesCount == 1
    }

    private static func apply(_ effect: StoreEffect, now: Date, _ db: Database) throws {
        switch effect {
        case .bind(let binding): try bind(binding, db)
        case .enqueue(let job): _ = try enqueue(job, now: now, db)
        case .setCursor(let cursor): try setCursor(cursor, db)
        case .putSnapshots(let entries): try putSnapshots(entries, db)
        case .log(let event): try append(event, db)
        case .webhookProcessed(let connection, let deliveryKey):
            try db.cachedStatement(
                sql: """
                    UPDATE webhook_events SET processed_at = ?
                    WHERE connection_id = ? AND delivery_key = ? AND processed_at IS NULL
                    """
            ).execute(arguments: [now.ms, connection.rawValue, deliveryKey])
        case .reserveStock(let reservations): try reserve(reservations, db)
        case .releaseStock(let order, let at): try release(order: order, at: at, db)
        case .updateSyncRun(let update): try updateSyncRun(update, db)
        case .pauseConnection(let id):
            try db.cachedStatement(sql: "UPDATE connections SET paused = 1, updated_at = ? WHERE id = ?")
                .execute(arguments: [now.ms, id.rawValue])
        case .recordOrder(let order): try recordOrder(order, db)
        case .recordOrderExport(let order, let target, let reference, let at):
            try recordOrderExport(order, target: target, reference: reference, at: at, db)
        }
    }

    /// The error without bound values (GRDB hides them; this keeps the message short).
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }

    public func release(_ leases: [Lease], now: Date, midCall: Bool) async throws {
        defer { notifications.wakeAll() }
        try await pool.write { db in
            for lease in leases {
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                            outcome_uncertain = outcome_uncertain OR ?, updated_at = ?
                        WHERE id = ? AND status = 'running' AND lease_token = ?
                          AND NOT (coalescing_key IS NOT NULL AND EXISTS (
                            SELECT 1 FROM jobs AS newer WHERE newer.kind = jobs.kind
                              AND newer.coalescing_key = jobs.coalescing_key AND newer.status = 'pending'))
                        """
                ).execute(arguments: [midCall, now.ms, lease.job, lease.token])
                if db.changesCount == 0 {
                    try db.cachedStatement(sql: Self.supersedeIfNewerPending).execute(arguments: ["now": now.ms, "id": lease.job])
                }
            }
        }
    }

    public func job(_ id: JobID) async throws -> Job? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job) }
    }

    public func job(kind: String, idempotencyKey: String) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM jobs WHERE kind = ? AND idempotency_key = ?", arguments: [kind, idempotencyKey]
            ).map(Self.job)
        }
    }

    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let statuses = filter.statuses {
            conditions.append("status IN (\(placeholders(statuses.count)))")
            arguments += statuses.map(\.rawValue).sorted() as [(any DatabaseValueConvertible)?]
        }
        if let kind = filter.kind {
            conditions.append("kind = ?")
            arguments.append(kind)
        }
        if let connection = filter.connection {
            conditions.append("connection_id = ?")
            arguments.append(connection.rawValue)
        }
        if let before = filter.beforeID {
            conditions.append("id < ?")
            arguments.append(before)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(filter.limit)
        let sql = "SELECT * FROM jobs \(whereClause) ORDER BY id DESC LIMIT ?"
        let bound = StatementArguments(arguments)
        return try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.job) }
    }

    public func jobCounts() async throws -> [JobStatus: Int] {
        try await pool.read { db in
            var counts: [JobStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM jobs GROUP BY status") {
                if let status = JobStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    public func retryNow(_ id: JobID, now: Date) async throws -> Job {
        defer { notifications.wakeAll() }
        return try await pool.write { db in try Self.retryNow(id, onlyDead: false, now: now, db) }
    }

    public func replayDeadLetter(_ id: JobID, now: Date, checkedAbsent: Bool) async throws -> Job {
        defer { notifications.wakeAll() }
        return try await pool.write { db in
            let job = try Self.retryNow(id, onlyDead: true, now: now, db)
            guard checkedAbsent else { return job }
            try db.execute(sql: "UPDATE jobs SET outcome_uncertain = 0 WHERE id = ?", arguments: [id])
            var cleared = job
            cleared.outcomeUncertain = false
            return cleared
        }
    }

    private static func retryNow(_ id: JobID, onlyDead: Bool, now: Date, _ db: Database) throws -> Job {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else {
            throw StoreError.notFound("job \(id)")
        }
        let job = Self.job(row)
        switch (job.status, onlyDead) {
        case (.dead, _), (.pending, false): break
        case (_, true): throw StoreError.invalidState("job \(id) is \(job.status.rawValue), not a dead letter")
        case (_, false):
            throw StoreError.invalidState("job \(id) is \(job.status.rawValue); only pending or dead jobs can be retried")
        }
        do {
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', run_at = :now, updated_at = :now, finished_at = NULL,
                        attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END
                    WHERE id = :id
                    """,
                arguments: ["now": now.ms, "id": id])
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.conflict("job \(id) cannot be replayed: a newer job with its coalescing key is pending")
        }
        return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job)!
    }

    /// A job's columns in the order `claimedJob` reads them: the claim, on the hot path, reads
    /// by position (by name, GRDB lower-cases and compares every column's name for every value).
    static let jobColumns = """
        id, kind, idempotency_key, payload, priority, run_at, ordering_key, coalescing_key, connection_id, status, attempts,
        last_error, lease_owner, lease_expires_at, created_at, updated_at, finished_at, outcome_uncertain
        """

    static func claimedJob(_ row: Row) -> Job {
        let leaseExpiresAt: Int64? = row[13]
        let finishedAt: Int64? = row[16]
        return Job(
            id: row[0], kind: row[1], idempotencyKey: row[2], payload: row[3], priority: row[4],
            runAt: Date(millisecondsSince1970: row[5]), orderingKey: row[6], coalescingKey: row[7],
            connection: (row[8] as String?).map { ConnectionID($0) }, status: JobStatus(rawValue: row[9]) ?? .dead,
            attempts: row[10], lastError: row[11], leaseOwner: row[12],
            leaseExpiresAt: leaseExpiresAt.map(Date.init(millisecondsSince1970:)), createdAt: Date(millisecondsSince1970: row[14]),
            updatedAt: Date(millisecondsSince1970: row[15]), finishedAt: finishedAt.map(Date.init(millisecondsSince1970:)),
            outcomeUncertain: row[17])
    }

    static func job(_ row: Row) -> Job {
        Job(
            id: row["id"], kind: row["kind"], idempotencyKey: row["idempotency_key"], payload: row["payload"],
            priority: row["priority"], runAt: row.date("run_at"), orderingKey: row["ordering_key"],
            coalescingKey: row["coalescing_key"], connection: (row["connection_id"] as String?).map { ConnectionID($0) },
            status: JobStatus(rawValue: row["status"]) ?? .dead, attempts: row["attempts"], lastError: row["last_error"],
            leaseOwner: row["lease_owner"], leaseExpiresAt: row.optionalDate("lease_expires_at"),
            createdAt: row.date("created_at"), updatedAt: row.date("updated_at"), finishedAt: row.optionalDate("finished_at"),
            outcomeUncertain: row["outcome_uncertain"])
    }
}
