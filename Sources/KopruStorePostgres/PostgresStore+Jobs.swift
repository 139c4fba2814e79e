import Foundation
import KopruCore
import KopruStore
import PostgresNIO
import Synchronization

extension PostgresStore: JobQueueStore {
    public func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueResult] {
        try await transaction { connection in
            var results: [EnqueueResult] = []
            if jobs.count > 1, jobs.allSatisfy({ $0.coalescingKey == nil }) {
                results = try await self.enqueueInBulk(jobs, now: now, connection)
            } else {
                for job in jobs { results.append(try await self.enqueue(job, now: now, connection)) }
            }
            if results.contains(where: \.inserted) {
                try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: self.logger)
            }
            return results
        }
    }

    /// One INSERT for the batch. Rows go in batch order, so ids (and with them ordering keys)
    /// follow the order of `jobs`; keys already taken, in the table or earlier in the batch,
    /// return the job that has them.
    private func enqueueInBulk(_ jobs: [NewJob], now: Date, _ connection: PostgresConnection) async throws -> [EnqueueResult] {
        let ms = now.millisecondsSince1970
        let inserted = try await connection.query(
            """
            INSERT INTO jobs (kind, idempotency_key, payload, priority, run_at, ordering_key, connection_id, status,
                              created_at, updated_at)
            SELECT kind, key, decode(payload, 'base64'), priority, run_at, CASE WHEN has_ordering THEN ordering_key END,
                   CASE WHEN has_connection THEN connection_id END, 'pending', \(ms), \(ms)
            FROM unnest(\(jobs.map(\.kind))::TEXT[], \(jobs.map(\.idempotencyKey))::TEXT[],
                        \(jobs.map { $0.payload.base64EncodedString() })::TEXT[], \(jobs.map(\.priority))::INTEGER[],
                        \(jobs.map { ($0.runAt ?? now).millisecondsSince1970 })::BIGINT[],
                        \(jobs.map { $0.orderingKey ?? "" })::TEXT[], \(jobs.map { $0.orderingKey != nil })::BOOLEAN[],
                        \(jobs.map { $0.connection?.rawValue ?? "" })::TEXT[], \(jobs.map { $0.connection != nil })::BOOLEAN[])
                WITH ORDINALITY AS input(kind, key, payload, priority, run_at, ordering_key, has_ordering, connection_id,
                                         has_connection, position)
            ORDER BY position
            ON CONFLICT DO NOTHING
            RETURNING id, kind, idempotency_key
            """, logger: logger)
        var fresh: [String: JobID] = [:]
        for try await (id, kind, key) in inserted.decode((Int64, String, String).self) { fresh["\(kind)\u{0}\(key)"] = id }
        var existing: [String: JobID] = [:]
        let missing = jobs.filter { fresh["\($0.kind)\u{0}\($0.idempotencyKey)"] == nil }
        if !missing.isEmpty {
            let rows = try await connection.query(
                """
                SELECT id, jobs.kind, idempotency_key FROM jobs
                JOIN unnest(\(missing.map(\.kind))::TEXT[], \(missing.map(\.idempotencyKey))::TEXT[]) AS wanted(kind, key)
                  ON jobs.kind = wanted.kind AND jobs.idempotency_key = wanted.key
                """, logger: logger)
            for try await (id, kind, key) in rows.decode((Int64, String, String).self) { existing["\(kind)\u{0}\(key)"] = id }
        }
        var seen = Set<String>()
        return try jobs.map { job in
            let key = "\(job.kind)\u{0}\(job.idempotencyKey)"
            if let id = fresh[key], seen.insert(key).inserted { return EnqueueResult(id: id, inserted: true) }
            guard let id = fresh[key] ?? existing[key] else {
                throw StoreError.conflict("job \(job.kind)/\(job.idempotencyKey) was neither inserted nor found")
            }
            return EnqueueResult(id: id, inserted: false)
        }
    }

    func enqueue(_ job: NewJob, now: Date, _ connection: PostgresConnection) async throws -> EnqueueResult {
        let now = now.millisecondsSince1970
        // A concurrent enqueue can take the idempotency key or the coalescing key between our
        // look and our insert; ON CONFLICT DO NOTHING waits for it and we look again.
        for _ in 0..<5 {
            if let existing = try await connection.query(
                "SELECT id FROM jobs WHERE kind = \(job.kind) AND idempotency_key = \(job.idempotencyKey)", logger: logger
            ).first(decoding: Int64.self) {
                return EnqueueResult(id: existing, inserted: false)
            }
            var superseded: [JobID] = []
            // The same work asked for again runs as urgently as the most urgent of the requests.
            var priority = job.priority
            if let key = job.coalescingKey {
                let rows = try await connection.query(
                    """
                    UPDATE jobs SET status = 'superseded', finished_at = \(now), updated_at = \(now),
                        last_error = 'superseded by a newer job with the same coalescing key'
                    WHERE kind = \(job.kind) AND coalescing_key = \(key) AND status = 'pending' RETURNING id, priority
                    """, logger: logger)
                for try await (id, replaced) in rows.decode((Int64, Int).self) {
                    superseded.append(id)
                    priority = max(priority, replaced)
                }
                superseded.sort()
            }
            let runAt = (job.runAt.map { $0.millisecondsSince1970 }) ?? now
            if let id = try await connection.query(
                """
                INSERT INTO jobs (kind, idempotency_key, payload, priority, run_at, ordering_key, coalescing_key,
                                  connection_id, status, created_at, updated_at)
                VALUES (\(job.kind), \(job.idempotencyKey), \(job.payload), \(priority), \(runAt), \(job.orderingKey),
                        \(job.coalescingKey), \(job.connection?.rawValue), 'pending', \(now), \(now))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger
            ).first(decoding: Int64.self) {
                return EnqueueResult(id: id, inserted: true, superseded: superseded)
            }
        }
        throw StoreError.conflict("job \(job.kind)/\(job.idempotencyKey) kept colliding with concurrent enqueues")
    }

    public func claim(_ request: ClaimRequest) async throws -> [ClaimedJob] {
        let token = UUID().uuidString
        let now = request.now.millisecondsSince1970
        let expires = request.now.addingTimeInterval(request.leaseDuration).millisecondsSince1970
        // Reclaiming is two statements; once a second of the caller's clock is often enough
        // (a lease lasts many seconds), and saves two round trips on every other claim.
        let reclaim = lastReclaim.withLock { last in
            guard last.map({ abs(request.now.timeIntervalSince($0)) >= 1 }) ?? true else { return false }
            last = request.now
            return true
        }
        // A claim cut by a server restart has been seen never to return, and the worker
        // claims nothing while it waits: past the deadline it counts as the store being away.
        // Leases a late commit took are given back untouched (no attempt, not uncertain).
        return try await StoreDeadline.within(
            Self.claimDeadline, "answer a claim", late: { claimed in try? await self.release(claimed.map(\.lease), now: request.now) }
        ) {
            try await self.claimInTransaction(request, token: token, now: now, expires: expires, reclaim: reclaim)
        }.get()
    }

    static let claimDeadline: Duration = .seconds(10)

    private func claimInTransaction(_ request: ClaimRequest, token: String, now: Int64, expires: Int64, reclaim: Bool) async throws -> [ClaimedJob] {
        try await transaction { connection in
            if reclaim { try await self.reclaimExpiredLeases(now: now, connection) }
            var builder = SQLBuilder("WITH candidates AS (SELECT id, connection_id, priority, run_at FROM jobs AS j WHERE status = 'pending' AND run_at <= ")
            try builder.bind(now)
            if let kinds = request.kinds { try builder.and("kind = ANY(", kinds.sorted(), ")") }
            for (bulk, full) in [(false, request.slots.full(bulk: false)), (true, request.slots.full(bulk: true))] where !full.isEmpty {
                try builder.and(
                    "(priority \(bulk ? ">=" : "<") 0 OR connection_id IS NULL OR NOT (connection_id = ANY(", full.map(\.rawValue), ")))")
            }
            builder.append(
                """
                  AND (ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM jobs AS o WHERE o.ordering_key = j.ordering_key
                          AND o.status IN ('pending', 'running') AND o.id < j.id))
                    ORDER BY priority DESC, run_at, id LIMIT
                """ + " ")
            try builder.bind(request.scanLimit)
            // Each connection's lane gets no more than its free slots; rows read but not taken stay
            // locked only until this transaction ends.
            builder.append(
                """
                 FOR UPDATE SKIP LOCKED),
                ranked AS (SELECT id, connection_id, priority, run_at,
                    row_number() OVER (PARTITION BY connection_id, priority < 0 ORDER BY priority DESC, run_at, id) AS n
                    FROM candidates),
                slots AS (SELECT * FROM unnest(
                """)
            let named = request.slots.realTime.map { ($0.key.rawValue, false, $0.value) }
                + request.slots.bulk.map { ($0.key.rawValue, true, $0.value) }
            try builder.bind(named.map(\.0))
            builder.append("::TEXT[], ")
            try builder.bind(named.map(\.1))
            builder.append("::BOOLEAN[], ")
            try builder.bind(named.map { Int64(max(0, $0.2)) })
            builder.append(
                """
                ::BIGINT[]) AS s(connection_id, bulk, free)),
                taken AS (SELECT ranked.id FROM ranked LEFT JOIN slots
                    ON slots.connection_id = ranked.connection_id AND slots.bulk = (ranked.priority < 0)
                    WHERE ranked.connection_id IS NULL OR ranked.n <= coalesce(slots.free,
                """ + " ")
            try builder.bind(Int64(min(request.slots.unnamed, Int(Int32.max))))
            builder.append(")\n    ORDER BY ranked.priority DESC, ranked.run_at, ranked.id LIMIT ")
            try builder.bind(request.limit)
            builder.append(")\nUPDATE jobs SET status = 'running', lease_owner = ")
            try builder.bind(request.owner)
            builder.append(", lease_token = ")
            try builder.bind(token)
            builder.append(", lease_expires_at = ")
            try builder.bind(expires)
            builder.append(", updated_at = ")
            try builder.bind(now)
            builder.append(" FROM taken WHERE jobs.id = taken.id RETURNING jobs.*")
            var claimed: [ClaimedJob] = []
            for try await row in try await connection.query(builder.query, logger: self.logger) {
                let job = try Self.job(row)
                claimed.append(ClaimedJob(job: job, lease: Lease(job: job.id, token: token)))
            }
            return claimed.sorted { ($0.job.priority, $1.job.runAt, $1.job.id) > ($1.job.priority, $0.job.runAt, $0.job.id) }
        }
    }

    /// Crashed workers' jobs: superseded where a newer one with their coalescing key waits, back to
    /// pending (the attempt counts) otherwise. SKIP LOCKED: another claimer may be doing the same.
    private func reclaimExpiredLeases(now: Int64, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE jobs SET status = 'superseded', finished_at = \(now), updated_at = \(now), lease_owner = NULL,
                lease_token = NULL, lease_expires_at = NULL,
                last_error = 'superseded by a newer job with the same coalescing key'
            WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= \(now) FOR UPDATE SKIP LOCKED)
              AND coalescing_key IS NOT NULL AND EXISTS (
                SELECT 1 FROM jobs AS newer WHERE newer.kind = jobs.kind AND newer.coalescing_key = jobs.coalescing_key
                  AND newer.status = 'pending')
            """, logger: logger)
        try await connection.query(
            """
            UPDATE jobs SET status = 'pending', attempts = attempts + 1, outcome_uncertain = TRUE,
                last_error = 'lease expired: worker ' || coalesce(lease_owner, '?') || ' stopped before finishing',
                lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = \(now)
            WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= \(now) FOR UPDATE SKIP LOCKED)
            """, logger: logger)
    }

    public func leaseOwners() async throws -> Set<String> {
        var owners: Set<String> = []
        let rows = try await client.query(
            "SELECT DISTINCT lease_owner FROM jobs WHERE status = 'running' AND lease_owner IS NOT NULL", logger: logger)
        for try await owner in rows.decode(String.self) { owners.insert(owner) }
        return owners
    }

    /// Ends the owners' leases now, then reclaims as expiry does, so the two cannot drift apart.
    public func reclaimLeases(heldBy owners: Set<String>, now: Date) async throws -> Int {
        guard !owners.isEmpty else { return 0 }
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            var count = 0
            let ended = try await connection.query(
                """
                UPDATE jobs SET lease_expires_at = \(ms)
                WHERE status = 'running' AND lease_owner = ANY(\(owners.sorted())::TEXT[]) RETURNING id
                """, logger: self.logger)
            for try await _ in ended.decode(Int64.self) { count += 1 }
            guard count > 0 else { return 0 }
            try await self.reclaimExpiredLeases(now: ms, connection)
            try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: self.logger)
            return count
        }
    }

    public func extendLeases(_ leases: [Lease], until: Date, now: Date) async throws -> Set<Lease> {
        guard !leases.isEmpty else { return [] }
        let ids = leases.map(\.job)
        let tokens = leases.map(\.token)
        let extended = try await client.query(
            """
            UPDATE jobs SET lease_expires_at = \(until.millisecondsSince1970)
            FROM unnest(\(ids)::BIGINT[], \(tokens)::TEXT[]) AS held(id, token)
            WHERE jobs.id = held.id AND jobs.status = 'running' AND jobs.lease_token = held.token
              AND jobs.lease_expires_at > \(now.millisecondsSince1970)
            RETURNING jobs.id, jobs.lease_token
            """, logger: logger)
        var kept = Set<Lease>()
        for try await (id, token) in extended.decode((Int64, String).self) { kept.insert(Lease(job: id, token: token)) }
        return Set(leases).subtracting(kept)
    }

    public func complete(_ completions: [JobCompletion]) async throws -> [CompletionResult] {
        // Most batches are plain successes and failures whose effects all apply: a few statements
        // for the whole batch, in a transaction of their own. Anything else, or any error (which
        // rolls that transaction back whole), takes the careful path: one savepoint per completion.
        do {
            if let results = try await transaction({ try await self.completeInBulk(completions, $0) }) { return results }
        } catch {
            logger.debug("bulk completion fell back to one by one", metadata: ["error": "\(describe(error))"])
        }
        return try await transaction { try await self.completeOneByOne(completions, $0) }
    }

    /// Nil when the batch needs the careful path (a retry or reschedule may be superseded).
    private func completeInBulk(_ completions: [JobCompletion], _ connection: PostgresConnection) async throws -> [CompletionResult]? {
        var finished: [(JobCompletion, status: String, reason: String?)] = []
        for completion in completions {
            switch completion.outcome {
            case .succeeded: finished.append((completion, "succeeded", nil))
            case .dead(let reason): finished.append((completion, "dead", reason))
            case .retry, .reschedule: return nil
            }
        }
        let ids = completions.map(\.lease.job)
        let tokens = completions.map(\.lease.token)
        var held = Set<Lease>()
        let locked = try await connection.query(
            """
            SELECT jobs.id, jobs.lease_token FROM jobs
            JOIN unnest(\(ids)::BIGINT[], \(tokens)::TEXT[]) AS held(id, token) ON jobs.id = held.id AND jobs.lease_token = held.token
            WHERE jobs.status = 'running' FOR UPDATE OF jobs
            """, logger: logger)
        for try await (id, token) in locked.decode((Int64, String).self) { held.insert(Lease(job: id, token: token)) }
        let applied = finished.filter { held.contains($0.0.lease) }
        if !applied.isEmpty {
            try await connection.query(
                """
                UPDATE jobs SET status = done.status, attempts = attempts + 1, finished_at = done.at, updated_at = done.at,
                    last_error = CASE WHEN done.has_reason THEN done.reason ELSE jobs.last_error END,
                    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                    outcome_uncertain = jobs.outcome_uncertain OR done.uncertain
                FROM unnest(\(applied.map(\.0.lease.job))::BIGINT[], \(applied.map(\.status))::TEXT[],
                            \(applied.map { $0.reason ?? "" })::TEXT[], \(applied.map { $0.reason != nil })::BOOLEAN[],
                            \(applied.map { $0.0.now.millisecondsSince1970 })::BIGINT[],
                            \(applied.map(\.0.outcomeUncertain))::BOOLEAN[])
                    AS done(id, status, reason, has_reason, at, uncertain)
                WHERE jobs.id = done.id
                """, logger: logger)
            var events: [EventRecord] = []
            for (completion, _, _) in applied {
                for effect in completion.effects {
                    if case .log(let event) = effect { events.append(event) } else { try await apply(effect, now: completion.now, connection) }
                }
            }
            try await append(events, connection)
        }
        return completions.map { held.contains($0.lease) ? .applied : .leaseLost }
    }

    private func completeOneByOne(_ completions: [JobCompletion], _ connection: PostgresConnection) async throws -> [CompletionResult] {
        do {
            var results: [CompletionResult] = []
            for completion in completions {
                try await connection.query("SAVEPOINT completion", logger: self.logger)
                do {
                    guard try await self.finish(completion, completion.outcome, connection) else {
                        try await connection.query("ROLLBACK TO SAVEPOINT completion", logger: self.logger)
                        results.append(.leaseLost)
                        continue
                    }
                    for effect in completion.effects { try await self.apply(effect, now: completion.now, connection) }
                    try await connection.query("RELEASE SAVEPOINT completion", logger: self.logger)
                    results.append(.applied)
                } catch {
                    try await connection.query("ROLLBACK TO SAVEPOINT completion", logger: self.logger)
                    let reason = "store effect failed: \(describe(error))"
                    _ = try await self.finish(completion.afterFailedEffect, .dead(reason: reason), connection)
                    results.append(.effectFailed(reason))
                }
            }
            return results
        }
    }

    /// Applies an outcome if the lease is still held; false if it is not.
    private func finish(_ completion: JobCompletion, _ outcome: JobOutcome, _ connection: PostgresConnection) async throws -> Bool {
        let (lease, now) = (completion.lease, completion.now.millisecondsSince1970)
        guard try await holds(lease, connection) else { return false }
        switch outcome {
        case .retry, .reschedule:
            if try await supersedeIfNewerPending(lease.job, now: now, connection) { return true }
        case .succeeded, .dead: break
        }
        let release =
            "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, outcome_uncertain = outcome_uncertain OR \(completion.outcomeUncertain ? "TRUE" : "FALSE")"
        switch outcome {
        case .succeeded:
            try await connection.query(
                """
                UPDATE jobs SET status = 'succeeded', attempts = attempts + 1, finished_at = \(now), updated_at = \(now),
                    \(unescaped: release) WHERE id = \(lease.job)
                """, logger: logger)
        case .dead(let reason):
            try await connection.query(
                """
                UPDATE jobs SET status = 'dead', attempts = attempts + 1, finished_at = \(now), updated_at = \(now),
                    last_error = \(reason), \(unescaped: release) WHERE id = \(lease.job)
                """, logger: logger)
        case .retry(let at, let error):
            try await connection.query(
                """
                UPDATE jobs SET status = 'pending', attempts = attempts + 1, run_at = \(at.millisecondsSince1970),
                    last_error = \(error), updated_at = \(now), \(unescaped: release) WHERE id = \(lease.job)
                """, logger: logger)
        case .reschedule(let at, let reason):
            try await connection.query(
                """
                UPDATE jobs SET status = 'pending', run_at = \(at.millisecondsSince1970), last_error = \(reason),
                    updated_at = \(now), \(unescaped: release) WHERE id = \(lease.job)
                """, logger: logger)
        }
        return true
    }

    /// Whether the lease is still held; locks the job's row until the transaction ends if so.
    private func holds(_ lease: Lease, _ connection: PostgresConnection) async throws -> Bool {
        try await connection.query(
            "SELECT 1 FROM jobs WHERE id = \(lease.job) AND status = 'running' AND lease_token = \(lease.token) FOR UPDATE",
            logger: logger
        ).first(decoding: Int.self) != nil
    }

    /// A job going back to pending while a newer one with its coalescing key is pending would make
    /// two pending jobs for one key: it is superseded instead. True if it was.
    private func supersedeIfNewerPending(_ id: JobID, now: Int64, _ connection: PostgresConnection) async throws -> Bool {
        try await connection.query(
            """
            UPDATE jobs SET status = 'superseded', finished_at = \(now), updated_at = \(now), lease_owner = NULL,
                lease_token = NULL, lease_expires_at = NULL,
                last_error = 'superseded by a newer job with the same coalescing key'
            WHERE id = \(id) AND coalescing_key IS NOT NULL AND EXISTS (
                SELECT 1 FROM jobs AS newer WHERE newer.kind = jobs.kind AND newer.coalescing_key = jobs.coalescing_key
                  AND newer.status = 'pending' AND newer.id <> jobs.id)
            RETURNING id
            """, logger: logger
        ).first(decoding: Int64.self) != nil
    }

    private func apply(_ effect: StoreEffect, now: Date, _ connection: PostgresConnection) async throws {
        switch effect {
        case .bind(let binding): try await bind(binding, connection)
        case .enqueue(let job):
            if try await enqueue(job, now: now, connection).inserted {
                try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: logger)
            }
        case .setCursor(let cursor): try await setCursor(cursor, connection)
        case .putSnapshots(let entries): try await putSnapshots(entries, connection)
        case .log(let event): try await append([event], connection)
        case .webhookProcessed(let webhookConnection, let deliveryKey):
            try await connection.query(
                """
                UPDATE webhook_events SET processed_at = \(now.millisecondsSince1970)
                WHERE connection_id = \(webhookConnection.rawValue) AND delivery_key = \(deliveryKey) AND processed_at IS NULL
                """, logger: logger)
        case .reserveStock(let reservations): try await reserve(reservations, connection)
        case .releaseStock(let order, let at): try await release(order: order, at: at, connection)
        case .updateSyncRun(let update): try await updateSyncRun(update, connection)
        case .pauseConnection(let id):
            try await connection.query(
                "UPDATE connections SET paused = TRUE, updated_at = \(now.millisecondsSince1970) WHERE id = \(id.rawValue)", logger: logger)
        case .recordOrder(let order): try await recordOrder(order, connection)
        case .recordOrderExport(let order, let target, let reference, let at):
            try await recordOrderExport(order, target: target, reference: reference, at: at, connection)
        }
    }

    public func release(_ leases: [Lease], now: Date, midCall: Bool) async throws {
        guard !leases.isEmpty else { return }
        let ms = now.millisecondsSince1970
        try await transaction { connection in
            for lease in leases {
                guard try await self.holds(lease, connection) else { continue }
                if try await !self.supersedeIfNewerPending(lease.job, now: ms, connection) {
                    try await connection.query(
                        """
                        UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                            outcome_uncertain = outcome_uncertain OR \(midCall), updated_at = \(ms)
                        WHERE id = \(lease.job)
                        """, logger: self.logger)
                }
            }
            try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: self.logger)
        }
    }

    public func job(_ id: JobID) async throws -> Job? {
        try await client.query("SELECT * FROM jobs WHERE id = \(id)", logger: logger).firstJob()
    }

    public func job(kind: String, idempotencyKey: String) async throws -> Job? {
        try await client.query(
            "SELECT * FROM jobs WHERE kind = \(kind) AND idempotency_key = \(idempotencyKey)", logger: logger
        ).firstJob()
    }

    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        var builder = SQLBuilder("SELECT * FROM jobs WHERE TRUE")
        if let statuses = filter.statuses { try builder.and("status = ANY(", statuses.map(\.rawValue).sorted(), ")") }
        if let kind = filter.kind { try builder.and("kind =", kind) }
        if let connection = filter.connection { try builder.and("connection_id =", connection.rawValue) }
        if let before = filter.beforeID { try builder.and("id <", before) }
        builder.append(" ORDER BY id DESC LIMIT ")
        try builder.bind(filter.limit)
        var jobs: [Job] = []
        for try await row in try await client.query(builder.query, logger: logger) { jobs.append(try Self.job(row)) }
        return jobs
    }

    public func jobCounts() async throws -> [JobStatus: Int] {
        var counts: [JobStatus: Int] = [:]
        let rows = try await client.query("SELECT status, count(*) FROM jobs GROUP BY status", logger: logger)
        for try await (status, count) in rows.decode((String, Int64).self) {
            if let status = JobStatus(rawValue: status) { counts[status] = Int(count) }
        }
        return counts
    }

    public func retryNow(_ id: JobID, now: Date) async throws -> Job {
        try await retryNow(id, onlyDead: false, now: now)
    }

    public func replayDeadLetter(_ id: JobID, now: Date, checkedAbsent: Bool) async throws -> Job {
        try await retryNow(id, onlyDead: true, now: now, checkedAbsent: checkedAbsent)
    }

    private func retryNow(_ id: JobID, onlyDead: Bool, now: Date, checkedAbsent: Bool = false) async throws -> Job {
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            guard let job = try await connection.query("SELECT * FROM jobs WHERE id = \(id) FOR UPDATE", logger: self.logger).firstJob()
            else { throw StoreError.notFound("job \(id)") }
            switch (job.status, onlyDead) {
            case (.dead, _), (.pending, false): break
            case (_, true): throw StoreError.invalidState("job \(id) is \(job.status.rawValue), not a dead letter")
            case (_, false):
                throw StoreError.invalidState("job \(id) is \(job.status.rawValue); only pending or dead jobs can be retried")
            }
            if job.status == .dead, let key = job.coalescingKey,
                try await connection.query(
                    "SELECT 1 FROM jobs WHERE kind = \(job.kind) AND coalescing_key = \(key) AND status = 'pending'",
                    logger: self.logger
                ).first(decoding: Int.self) != nil
            {
                throw StoreError.conflict("job \(id) cannot be replayed: a newer job with its coalescing key is pending")
            }
            let updated = try await connection.query(
                """
                UPDATE jobs SET status = 'pending', run_at = \(ms), updated_at = \(ms), finished_at = NULL,
                    attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END,
                    outcome_uncertain = outcome_uncertain AND NOT \(checkedAbsent)
                WHERE id = \(id) RETURNING *
                """, logger: self.logger
            ).firstJob()
            try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: self.logger)
            return updated!
        }
    }

    static func job(_ row: PostgresRow) throws -> Job {
        let row = row.makeRandomAccess()
        return Job(
            id: try row["id"].decode(Int64.self), kind: try row["kind"].decode(String.self),
            idempotencyKey: try row["idempotency_key"].decode(String.self), payload: try row["payload"].decode(Data.self),
            priority: try row["priority"].decode(Int.self), runAt: Date(millisecondsSince1970: try row["run_at"].decode(Int64.self)),
            orderingKey: try row["ordering_key"].decode(String?.self), coalescingKey: try row["coalescing_key"].decode(String?.self),
            connection: try row["connection_id"].decode(String?.self).map { ConnectionID($0) },
            status: JobStatus(rawValue: try row["status"].decode(String.self)) ?? .dead, attempts: try row["attempts"].decode(Int.self),
            lastError: try row["last_error"].decode(String?.self), leaseOwner: try row["lease_owner"].decode(String?.self),
            leaseExpiresAt: try row["lease_expires_at"].decode(Int64?.self).map(Date.init(millisecondsSince1970:)),
            createdAt: Date(millisecondsSince1970: try row["created_at"].decode(Int64.self)),
            updatedAt: Date(millisecondsSince1970: try row["updated_at"].decode(Int64.self)),
            finishedAt: try row["finished_at"].decode(Int64?.self).map(Date.init(millisecondsSince1970:)),
            outcomeUncertain: try row["outcome_uncertain"].decode(Bool.self))
    }
}

extension PostgresRowSequence {
    func first<T: PostgresDecodable>(decoding type: T.Type) async throws -> T? {
        for try await value in decode(T.self) { return value }
        return nil
    }

    func all<T: PostgresDecodable>(decoding type: T.Type) async throws -> [T] {
        var values: [T] = []
        for try await value in decode(T.self) { values.append(value) }
        return values
    }

    func firstJob() async throws -> Job? {
        for try await row in self { return try PostgresStore.job(row) }
        return nil
    }
}
