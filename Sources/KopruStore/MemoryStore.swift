import Foundation
import KopruCore
import Synchronization

/// The store in memory: for tests and for trying things out. Same behaviour as the durable
/// stores (the contract suite proves it), none of the durability. Secrets are sealed here too,
/// so a test of redaction exercises the real path.
public final class MemoryStore: Store {
    private struct State {
        var jobs: [JobID: Job] = [:]
        var idempotencyKeys: [String: JobID] = [:]
        var nextJobID: JobID = 1
        var leaseTokens: [JobID: String] = [:]
        var bindings: [Binding] = []
        var cursors: [String: SyncCursor] = [:]
        var snapshots: [String: SnapshotEntry] = [:]
        var events: [EventRecord] = []
        var nextEventID: Int64 = 1
        var connections: [ConnectionID: (type: String, name: String, settings: [String: String], sealed: Data, paused: Bool)] = [:]
        var schedules: [String: Date] = [:]
        var leaders: [String: (holder: String, until: Date)] = [:]
        var webhooks: [WebhookEventID: WebhookEvent] = [:]
        var deliveryKeys: [String: WebhookEventID] = [:]
        var nextWebhookID: WebhookEventID = 1
        var tokens: [String: APIToken] = [:]
        var keyFingerprint: String?
        var secretBox: SecretBox
        var budgets: [String: Date] = [:]
        var circuits: [String: CircuitState] = [:]
        /// By order, then SKU: quantity and release time.
        var reservations: [String: [String: (quantity: Int, releasedAt: Date?)]] = [:]
        var syncRuns: [String: SyncRun] = [:]
        var orders: [String: OrderRecord] = [:]
    }

    private let state: Mutex<State>
    private var secretBox: SecretBox { state.withLock { $0.secretBox } }

    public init(secretBox: SecretBox = .ephemeral()) {
        self.state = Mutex(State(secretBox: secretBox))
    }

    public var summary: String { "memory" }

    public func migrate() async throws {}

    // MARK: jobs

    public func enqueue(_ jobs: [NewJob], now: Date) async throws -> [EnqueueResult] {
        state.withLock { state in jobs.map { Self.enqueue($0, now: now.storePrecision, into: &state) } }
    }

    private static func enqueue(_ new: NewJob, now: Date, into state: inout State) -> EnqueueResult {
        let uniqueKey = "\(new.kind)\u{0}\(new.idempotencyKey)"
        if let existing = state.idempotencyKeys[uniqueKey] { return EnqueueResult(id: existing, inserted: false) }
        var superseded: [JobID] = []
        // The same work asked for again runs as urgently as the most urgent of the requests.
        var priority = new.priority
        if let key = new.coalescingKey {
            for (id, job) in state.jobs where job.kind == new.kind && job.coalescingKey == key && job.status == .pending {
                priority = max(priority, job.priority)
                state.jobs[id]!.status = .superseded
                state.jobs[id]!.finishedAt = now
                state.jobs[id]!.updatedAt = now
                state.jobs[id]!.lastError = "superseded by a newer job with the same coalescing key"
                superseded.append(id)
            }
        }
        let id = state.nextJobID
        state.nextJobID += 1
        state.idempotencyKeys[uniqueKey] = id
        state.jobs[id] = Job(
            id: id, kind: new.kind, idempotencyKey: new.idempotencyKey, payload: new.payload, priority: priority,
            runAt: (new.runAt ?? now).storePrecision, orderingKey: new.orderingKey, coalescingKey: new.coalescingKey,
            connection: new.connection, status: .pending, attempts: 0, lastError: nil, leaseOwner: nil,
            leaseExpiresAt: nil, createdAt: now, updatedAt: now, finishedAt: nil)
        return EnqueueResult(id: id, inserted: true, superseded: superseded.sorted())
    }

    private static func reclaimExpiredLeases(now: Date, in state: inout State) {
        for (id, job) in state.jobs where job.status == .running && job.leaseExpiresAt! <= now {
            if Self.supersedeIfNewerPending(id, now: now, in: &state) { continue }
            state.jobs[id]!.status = .pending
            state.jobs[id]!.attempts += 1
            state.jobs[id]!.outcomeUncertain = true
            state.jobs[id]!.lastError = "lease expired: worker \(job.leaseOwner ?? "?") stopped before finishing"
            state.jobs[id]!.leaseOwner = nil
            state.jobs[id]!.leaseExpiresAt = nil
            state.jobs[id]!.updatedAt = now
            state.leaseTokens[id] = nil
        }
    }

    public func leaseOwners() async throws -> Set<String> {
        state.withLock { state in Set(state.jobs.values.filter { $0.status == .running }.compactMap(\.leaseOwner)) }
    }

    public func reclaimLeases(heldBy owners: Set<String>, now: Date) async throws -> Int {
        let now = now.storePrecision
        return state.withLock { state in
            let held = state.jobs.values.filter { $0.status == .running && $0.leaseOwner.map(owners.contains) == true }
            for job in held { state.jobs[job.id]!.leaseExpiresAt = now }
            Self.reclaimExpiredLeases(now: now, in: &state)
            return held.count
        }
    }

    public func claim(_ request: ClaimRequest) async throws -> [ClaimedJob] {
        let now = request.now.storePrecision
        return state.withLock { state in
            Self.reclaimExpiredLeases(now: now, in: &state)
            let blockedOrderingKeys = Self.orderingHeads(state)
            let ready = state.jobs.values
                .filter { job in
                    job.status == .pending && job.runAt <= now
                        && (request.kinds?.contains(job.kind) ?? true)
                        && (job.orderingKey.map { blockedOrderingKeys[$0] == job.id } ?? true)
                }
                .sorted { ($0.priority, $1.runAt, $1.id) > ($1.priority, $0.runAt, $0.id) }
            let picked = request.slots.pick(ready, limit: request.limit, connection: \.connection, bulk: { $0.priority < 0 })
            let token = UUID().uuidString
            let expires = now.addingTimeInterval(request.leaseDuration).storePrecision
            return picked.map { job in
                state.jobs[job.id]!.status = .running
                state.jobs[job.id]!.leaseOwner = request.owner
                state.jobs[job.id]!.leaseExpiresAt = expires
                state.jobs[job.id]!.updatedAt = now
                state.leaseTokens[job.id] = token
                return ClaimedJob(job: state.jobs[job.id]!, lease: Lease(job: job.id, token: token))
            }
        }
    }

    /// For each ordering key, the id of the oldest unfinished job: only it may run.
    private static func orderingHeads(_ state: State) -> [String: JobID] {
        var heads: [String: JobID] = [:]
        for job in state.jobs.values where !job.status.isFinished {
            guard let key = job.orderingKey else { continue }
            heads[key] = min(heads[key] ?? job.id, job.id)
        }
        return heads
    }

    /// A job going back to pending while a newer one with its coalescing key is pending would
    /// make two pending jobs for one key: it is superseded instead.
    private static func supersedeIfNewerPending(_ id: JobID, now: Date, in state: inout State) -> Bool {
        let job = state.jobs[id]!
        guard let key = job.coalescingKey,
            state.jobs.values.contains(where: {
                $0.id != id && $0.kind == job.kind && $0.coalescingKey == key && $0.status == .pending
            })
        else { return false }
        state.jobs[id]!.status = .superseded
        state.jobs[id]!.finishedAt = now
        state.jobs[id]!.updatedAt = now
        state.jobs[id]!.leaseOwner = nil
        state.jobs[id]!.leaseExpiresAt = nil
        state.jobs[id]!.lastError = "superseded by a newer job with the same coalescing key"
        state.leaseTokens[id] = nil
        return true
    }

    private static func holds(_ lease: Lease, _ state: State) -> Bool {
        state.jobs[lease.job]?.status == .running && state.leaseTokens[lease.job] == lease.token
    }

    public func extendLeases(_ leases: [Lease], until: Date, now: Date) async throws -> Set<Lease> {
        state.withLock { state in
            var lost = Set<Lease>()
            for lease in leases {
                if Self.holds(lease, state), state.jobs[lease.job]!.leaseExpiresAt! > now.storePrecision {
                    state.jobs[lease.job]!.leaseExpiresAt = until.storePrecision
                } else {
                    lost.insert(lease)
                }
            }
            return lost
        }
    }

    public func complete(_ completions: [JobCompletion]) async throws -> [CompletionResult] {
        state.withLock { state in
            completions.map { completion in
                guard Self.holds(completion.lease, state) else { return .leaseLost }
                var draft = state
                do {
                    for effect in completion.effects { try Self.apply(effect, now: completion.now.storePrecision, to: &draft) }
                    Self.finish(completion, completion.outcome, in: &draft)
                    state = draft
                    return .applied
                } catch {
                    let reason = "store effect failed: \(error)"
                    Self.finish(completion.afterFailedEffect, .dead(reason: reason), in: &state)
                    return .effectFailed(reason)
                }
            }
        }
    }

    private static func finish(_ completion: JobCompletion, _ outcome: JobOutcome, in state: inout State) {
        let id = completion.lease.job
        let now = completion.now.storePrecision
        switch outcome {
        case .retry, .reschedule: if supersedeIfNewerPending(id, now: now, in: &state) { return }
        case .succeeded, .dead: break
        }
        var job = state.jobs[id]!
        job.leaseOwner = nil
        job.leaseExpiresAt = nil
        job.updatedAt = now
        if completion.outcomeUncertain { job.outcomeUncertain = true }
        switch outcome {
        case .succeeded:
            job.status = .succeeded
            job.attempts += 1
            job.finishedAt = now
        case .retry(let at, let error):
            job.status = .pending
            job.attempts += 1
            job.runAt = at.storePrecision
            job.lastError = error
        case .reschedule(let at, let reason):
            job.status = .pending
            job.runAt = at.storePrecision
            job.lastError = reason
        case .dead(let reason):
            job.status = .dead
            job.attempts += 1
            job.lastError = reason
            job.finishedAt = now
        }
        state.jobs[id] = job
        state.leaseTokens[id] = nil
    }

    private static func apply(_ effect: StoreEffect, now: Date, to state: inout State) throws {
        switch effect {
        case .bind(let binding): try bind(binding, in: &state)
        case .enqueue(let job): _ = enqueue(job, now: now, into: &state)
        case .setCursor(let cursor): state.cursors[cursorKey(cursor.connection, cursor.name)] = cursor.storePrecision
        case .putSnapshots(let entries): for entry in entries { state.snapshots[snapshotKey(entry)] = entry.storePrecision }
        case .log(let event): append(event, to: &state)
        case .webhookProcessed(let connection, let deliveryKey):
            if let id = state.deliveryKeys["\(connection)\u{0}\(deliveryKey)"], state.webhooks[id]?.processedAt == nil {
                state.webhooks[id]?.processedAt = now
            }
        case .reserveStock(let reservations): reserve(reservations, in: &state)
        case .releaseStock(let order, let at):
            for sku in state.reservations[order, default: [:]].keys where state.reservations[order]![sku]!.releasedAt == nil {
                state.reservations[order]![sku]!.releasedAt = at.storePrecision
            }
        case .updateSyncRun(let update): state.syncRuns[update.run] = update.applied(to: state.syncRuns[update.run]).storePrecision
        case .pauseConnection(let id): state.connections[id]?.paused = true
        case .recordOrder(let order):
            let order = order.storePrecision
            state.orders[order.id] = state.orders[order.id].map { $0.updated(by: order) } ?? order
        case .recordOrderExport(let id, let target, let reference, let at):
            // One export per order in the index: the first flow's target (a second order flow from the channel is not shown).
            guard var order = state.orders[id], order.exportedAt == nil, order.exportTarget == nil || order.exportTarget == target else { break }
            (order.exportTarget, order.exportReference, order.exportedAt) = (target, reference, at.storePrecision)
            state.orders[id] = order
        }
    }

    private static func reserve(_ reservations: [StockReservation], in state: inout State) {
        for reservation in reservations {
            if let existing = state.reservations[reservation.order]?[reservation.sku], existing.releasedAt != nil { continue }
            state.reservations[reservation.order, default: [:]][reservation.sku] = (reservation.quantity, nil)
        }
    }

    // MARK: budgets, reservations, sync runs

    public func updateBudget<T: Sendable>(
        _ key: String, _ decide: @Sendable (Date?) -> (arrival: Date?, result: T)
    ) async throws -> T {
        state.withLock { state in
            let (arrival, result) = decide(state.budgets[key])
            if let arrival { state.budgets[key] = arrival.storePrecision }
            return result
        }
    }

    public func updateCircuit<T: Sendable>(
        _ key: String, _ decide: @Sendable (CircuitState?) -> (state: CircuitState?, result: T)
    ) async throws -> T {
        state.withLock { state in
            let (circuit, result) = decide(state.circuits[key])
            if var circuit {
                circuit.since = circuit.since.storePrecision
                circuit.probeAt = circuit.probeAt?.storePrecision
                state.circuits[key] = circuit
            }
            return result
        }
    }

    public func circuits(prefix: String) async throws -> [String: CircuitState] {
        state.withLock { $0.circuits.filter { $0.key.hasPrefix(prefix) } }
    }

    public func reservedQuantities(asOf: Date) async throws -> [String: Int] {
        reserved(skus: nil, asOf: asOf)
    }

    public func reservedQuantities(skus: [String], asOf: Date) async throws -> [String: Int] {
        reserved(skus: skus, asOf: asOf)
    }

    private func reserved(skus: [String]?, asOf: Date) -> [String: Int] {
        let wanted = skus.map(Set.init)
        let asOf = asOf.storePrecision
        return state.withLock { state in
            var found: [String: Int] = [:]
            for lines in state.reservations.values {
                for (sku, line) in lines where (wanted?.contains(sku) ?? true) && (line.releasedAt.map { $0 >= asOf } ?? true) {
                    found[sku, default: 0] += line.quantity
                }
            }
            return found
        }
    }

    public func purgeReservations(releasedBefore cutoff: Date) async throws -> Int {
        state.withLock { state in
            var purged = 0
            for (order, lines) in state.reservations {
                for (sku, line) in lines where line.releasedAt.map({ $0 < cutoff }) ?? false {
                    state.reservations[order]![sku] = nil
                    purged += 1
                }
                if state.reservations[order]!.isEmpty { state.reservations[order] = nil }
            }
            return purged
        }
    }

    public func updateSyncRun(_ update: SyncRunUpdate) async throws {
        state.withLock { $0.syncRuns[update.run] = update.applied(to: $0.syncRuns[update.run]).storePrecision }
    }

    public func syncRun(_ id: String) async throws -> SyncRun? { state.withLock { $0.syncRuns[id] } }

    public func syncRuns(target: ConnectionID?, limit: Int) async throws -> [SyncRun] {
        state.withLock { state in
            Array(
                state.syncRuns.values.filter { target == nil || $0.target == target }
                    .sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }.prefix(limit))
        }
    }

    public func release(_ leases: [Lease], now: Date, midCall: Bool) async throws {
        state.withLock { state in
            for lease in leases where Self.holds(lease, state) {
                if Self.supersedeIfNewerPending(lease.job, now: now.storePrecision, in: &state) { continue }
                if midCall { state.jobs[lease.job]!.outcomeUncertain = true }
                state.jobs[lease.job]!.status = .pending
                state.jobs[lease.job]!.leaseOwner = nil
                state.jobs[lease.job]!.leaseExpiresAt = nil
                state.jobs[lease.job]!.updatedAt = now.storePrecision
                state.leaseTokens[lease.job] = nil
            }
        }
    }

    public func job(_ id: JobID) async throws -> Job? { state.withLock { $0.jobs[id] } }

    public func job(kind: String, idempotencyKey: String) async throws -> Job? {
        state.withLock { state in state.idempotencyKeys["\(kind)\u{0}\(idempotencyKey)"].flatMap { state.jobs[$0] } }
    }

    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        state.withLock { state in
            Array(
                state.jobs.values
                    .filter { job in
                        (filter.statuses?.contains(job.status) ?? true) && (filter.kind.map { $0 == job.kind } ?? true)
                            && (filter.connection.map { $0 == job.connection } ?? true)
                            && (filter.beforeID.map { job.id < $0 } ?? true)
                    }
                    .sorted { $0.id > $1.id }
                    .prefix(filter.limit))
        }
    }

    public func jobCounts() async throws -> [JobStatus: Int] {
        state.withLock { state in state.jobs.values.reduce(into: [:]) { $0[$1.status, default: 0] += 1 } }
    }

    public func retryNow(_ id: JobID, now: Date) async throws -> Job {
        try state.withLock { state in
            guard var job = state.jobs[id] else { throw StoreError.notFound("job \(id)") }
            switch job.status {
            case .pending: break
            case .dead:
                job.attempts = 0
                if let key = job.coalescingKey,
                    state.jobs.values.contains(where: { $0.kind == job.kind && $0.coalescingKey == key && $0.status == .pending })
                {
                    throw StoreError.conflict("job \(id) cannot be replayed: a newer job with its coalescing key is pending")
                }
            default: throw StoreError.invalidState("job \(id) is \(job.status.rawValue); only pending or dead jobs can be retried")
            }
            job.status = .pending
            job.runAt = now.storePrecision
            job.finishedAt = nil
            job.updatedAt = now.storePrecision
            state.jobs[id] = job
            return job
        }
    }

    public func replayDeadLetter(_ id: JobID, now: Date, checkedAbsent: Bool) async throws -> Job {
        let job = try await self.job(id)
        guard let job else { throw StoreError.notFound("job \(id)") }
        guard job.status == .dead else {
            throw StoreError.invalidState("job \(id) is \(job.status.rawValue), not a dead letter")
        }
        var replayed = try await retryNow(id, now: now)
        if checkedAbsent {
            replayed.outcomeUncertain = false
            state.withLock { $0.jobs[id]?.outcomeUncertain = false }
        }
        return replayed
    }

    // MARK: bindings

    public func bind(_ binding: Binding) async throws {
        try state.withLock { try Self.bind(binding, in: &$0) }
    }

    private static func bind(_ binding: Binding, in state: inout State) throws {
        let same = state.bindings.filter {
            $0.connection == binding.connection && $0.entity == binding.entity
                && ($0.externalID == binding.externalID || $0.internalID == binding.internalID)
        }
        if same.isEmpty { state.bindings.append(binding) } else if same != [binding] { throw StoreError.bindingConflict(binding) }
    }

    public func binding(connection: ConnectionID, entity: String, externalID: String) async throws -> Binding? {
        state.withLock { $0.bindings.first { $0.connection == connection && $0.entity == entity && $0.externalID == externalID } }
    }

    public func binding(connection: ConnectionID, entity: String, internalID: String) async throws -> Binding? {
        state.withLock { $0.bindings.first { $0.connection == connection && $0.entity == entity && $0.internalID == internalID } }
    }

    // MARK: cursors and snapshots

    private static func cursorKey(_ connection: ConnectionID, _ name: String) -> String { "\(connection)\u{0}\(name)" }
    private static func snapshotKey(_ entry: SnapshotEntry) -> String { "\(entry.connection)\u{0}\(entry.entity)\u{0}\(entry.key)" }

    public func cursor(connection: ConnectionID, name: String) async throws -> SyncCursor? {
        state.withLock { $0.cursors[Self.cursorKey(connection, name)] }
    }

    public func setCursor(_ cursor: SyncCursor) async throws {
        state.withLock { $0.cursors[Self.cursorKey(cursor.connection, cursor.name)] = cursor.storePrecision }
    }

    public func snapshots(connection: ConnectionID, entity: String, keys: [String]) async throws -> [String: String] {
        state.withLock { state in
            var found: [String: String] = [:]
            for key in keys {
                let probe = SnapshotEntry(connection: connection, entity: entity, key: key, value: "", confirmedAt: Date())
                if let entry = state.snapshots[Self.snapshotKey(probe)] { found[key] = entry.value }
            }
            return found
        }
    }

    public func snapshots(connection: ConnectionID, entity: String, atMost limit: Int) async throws -> [String: String]? {
        state.withLock { state in
            let found = state.snapshots.values.filter { $0.connection == connection && $0.entity == entity }
            guard found.count <= limit else { return nil }
            return Dictionary(found.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        }
    }

    public func putSnapshots(_ entries: [SnapshotEntry]) async throws {
        state.withLock { state in for entry in entries { state.snapshots[Self.snapshotKey(entry)] = entry.storePrecision } }
    }

    // MARK: events

    private static func append(_ event: EventRecord, to state: inout State) {
        var stored = event
        stored.id = state.nextEventID
        stored.at = event.at.storePrecision
        state.nextEventID += 1
        state.events.append(stored)
    }

    public func append(_ events: [EventRecord]) async throws {
        state.withLock { state in for event in events { Self.append(event, to: &state) } }
    }

    public func events(_ filter: EventFilter) async throws -> [EventRecord] {
        state.withLock { state in
            Array(
                state.events.reversed()
                    .filter { event in
                        (filter.connection.map { $0 == event.connection } ?? true)
                            && (filter.minimumLevel.map { event.level >= $0 } ?? true)
                            && (filter.kind.map { $0 == event.kind } ?? true)
                            && (filter.subject.map { $0 == event.subject } ?? true)
                            && (filter.from.map { event.at >= $0.storePrecision } ?? true)
                            && (filter.to.map { event.at < $0.storePrecision } ?? true)
                            && (filter.beforeID.map { event.id! < $0 } ?? true)
                    }
                    .prefix(filter.limit))
        }
    }

    public func purgeEvents(before cutoff: Date) async throws -> Int {
        state.withLock { state in
            let before = state.events.count
            state.events.removeAll { $0.at < cutoff.storePrecision }
            return before - state.events.count
        }
    }

    // MARK: connections

    public func saveConnection(_ connection: Connection, now: Date) async throws {
        let sealed = try secretBox.seal(connection.secrets, for: connection.id)
        state.withLock {
            $0.connections[connection.id] = (connection.type, connection.name, connection.settings, sealed, connection.paused)
        }
    }

    public func connection(_ id: ConnectionID) async throws -> Connection? {
        guard let row = state.withLock({ $0.connections[id] }) else { return nil }
        return Connection(
            id: id, type: row.type, name: row.name, settings: row.settings, secrets: try secretBox.open(row.sealed, for: id),
            paused: row.paused)
    }

    public func connections() async throws -> [Connection] {
        var result: [Connection] = []
        for id in state.withLock({ $0.connections.keys.sorted() }) {
            if let connection = try await connection(id) { result.append(connection) }
        }
        return result
    }

    public func deleteConnection(_ id: ConnectionID) async throws {
        try state.withLock { state in
            guard state.connections.removeValue(forKey: id) != nil else { throw StoreError.notFound("connection \(id)") }
        }
    }

    // MARK: webhooks

    public func receiveWebhooks(_ webhooks: [IncomingWebhook]) async throws -> [WebhookReceipt] {
        state.withLock { state in
            webhooks.map { webhook in
                let key = "\(webhook.connection)\u{0}\(webhook.deliveryKey)"
                if let existing = state.deliveryKeys[key] { return .duplicate(existing) }
                let id = state.nextWebhookID
                state.nextWebhookID += 1
                state.deliveryKeys[key] = id
                state.webhooks[id] = WebhookEvent(
                    id: id, connection: webhook.connection, provider: webhook.provider, deliveryKey: webhook.deliveryKey,
                    topic: webhook.topic, receivedAt: webhook.receivedAt.storePrecision, processedAt: nil, body: webhook.body)
                for job in webhook.jobs { _ = Self.enqueue(job, now: webhook.receivedAt.storePrecision, into: &state) }
                return .stored(id)
            }
        }
    }

    public func webhookEvent(connection: ConnectionID, deliveryKey: String) async throws -> WebhookEvent? {
        state.withLock { state in state.deliveryKeys["\(connection)\u{0}\(deliveryKey)"].flatMap { state.webhooks[$0] } }
    }

    public func lastWebhookReceived(connection: ConnectionID) async throws -> Date? {
        state.withLock { state in state.webhooks.values.filter { $0.connection == connection }.map(\.receivedAt).max() }
    }

    public func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int {
        state.withLock { state in
            let purged = state.webhooks.values.filter { ($0.processedAt.map { $0 < cutoff.storePrecision }) ?? false }
            for event in purged {
                state.webhooks[event.id] = nil
                state.deliveryKeys["\(event.connection)\u{0}\(event.deliveryKey)"] = nil
            }
            return purged.count
        }
    }

    // MARK: tokens

    public func createToken(_ token: APIToken) async throws {
        try state.withLock { state in
            guard state.tokens[token.name] == nil else { throw StoreError.conflict("a token named \(token.name) exists") }
            state.tokens[token.name] = token.storePrecision
        }
    }

    public func token(hash: String) async throws -> APIToken? {
        state.withLock { $0.tokens.values.first { $0.hash == hash } }
    }

    public func tokens() async throws -> [APIToken] { state.withLock { $0.tokens.values.sorted { $0.name < $1.name } } }

    public func endSessions(tokenHash: String, at: Date) async throws {
        state.withLock { state in
            for (name, token) in state.tokens where token.hash == tokenHash { state.tokens[name]!.sessionsEndedAt = at.storePrecision }
        }
    }

    public func revokeToken(name: String, now: Date) async throws {
        try state.withLock { state in
            guard state.tokens[name] != nil, state.tokens[name]!.revokedAt == nil else {
                throw StoreError.notFound("active token \(name)")
            }
            state.tokens[name]!.revokedAt = now.storePrecision
        }
    }

    // MARK: master key

    public func masterKeyFingerprint() async throws -> String? { state.withLock { $0.keyFingerprint } }

    public func checkMasterKey() async throws {
        try state.withLock { state in
            let current = state.secretBox.fingerprint
            if let recorded = state.keyFingerprint, recorded != current { throw StoreError.wrongMasterKey }
            state.keyFingerprint = current
        }
    }

    public func rotateMasterKey(to newBox: SecretBox) async throws -> Int {
        try state.withLock { state in
            var resealed = state.connections
            for (id, row) in state.connections {
                resealed[id]!.sealed = try newBox.seal(try state.secretBox.open(row.sealed, for: id), for: id)
            }
            state.connections = resealed
            state.secretBox = newBox
            state.keyFingerprint = newBox.fingerprint
            return resealed.count
        }
    }

    // MARK: schedules

    public func nextFire(schedule: String) async throws -> Date? { state.withLock { $0.schedules[schedule] } }

    public func advanceSchedule(_ schedule: String, expected: Date?, next: Date, enqueue job: NewJob?, now: Date) async throws -> Bool {
        state.withLock { state in
            guard state.schedules[schedule] == expected?.storePrecision else { return false }
            state.schedules[schedule] = next.storePrecision
            if let job { _ = Self.enqueue(job, now: now.storePrecision, into: &state) }
            return true
        }
    }
}

extension MemoryStore {
    public func acquireLeadership(_ role: String, holder: String, until: Date, now: Date) async throws -> Bool {
        state.withLock { state in
            if let current = state.leaders[role], current.holder != holder, current.until > now.storePrecision { return false }
            state.leaders[role] = (holder, until.storePrecision)
            return true
        }
    }

    public func resignLeadership(_ role: String, holder: String) async throws {
        state.withLock { state in if state.leaders[role]?.holder == holder { state.leaders[role] = nil } }
    }

    public func leader(_ role: String, now: Date) async throws -> String? {
        state.withLock { state in state.leaders[role].flatMap { $0.until > now.storePrecision ? $0.holder : nil } }
    }
}

extension SyncCursor {
    var storePrecision: SyncCursor {
        var copy = self
        copy.updatedAt = updatedAt.storePrecision
        return copy
    }
}

extension SnapshotEntry {
    var storePrecision: SnapshotEntry {
        var copy = self
        copy.confirmedAt = confirmedAt.storePrecision
        return copy
    }
}

extension APIToken {
    var storePrecision: APIToken {
        var copy = self
        copy.createdAt = createdAt.storePrecision
        copy.revokedAt = revokedAt?.storePrecision
        return copy
    }
}

extension MemoryStore: OrderIndexStore {
    public func orders(_ filter: OrderFilter) async throws -> [OrderRecord] {
        state.withLock { state in
            let matching = state.orders.values.filter { order in
                (filter.connection == nil || order.connection == filter.connection)
                    && (filter.number.map { order.number == $0 || order.number.hasSuffix($0) } ?? true)
                    && (!filter.pendingExportOnly || order.pendingExport)
                    && (filter.before.map { (order.firstSeenAt, order.id) < ($0.firstSeenAt.storePrecision, $0.id) } ?? true)
            }
            return Array(matching.sorted { ($0.firstSeenAt, $0.id) > ($1.firstSeenAt, $1.id) }.prefix(filter.limit))
        }
    }

    public func order(id: String) async throws -> OrderRecord? { state.withLock { $0.orders[id] } }

    public func orderTotals(since: Date) async throws -> OrderTotals {
        state.withLock { state in
            OrderTotals(
                all: state.orders.count, since: state.orders.values.filter { $0.firstSeenAt >= since.storePrecision }.count,
                pendingExport: state.orders.values.filter(\.pendingExport).count)
        }
    }
}
