import CoreMetrics
import Foundation
import KopruConnectors
import KopruCore
import KopruStore
import Logging
import ServiceLifecycle
import Synchronization

public struct JobProcessorConfiguration: Sendable {
    /// Names this worker in leases and logs.
    public var workerID: String
    /// Jobs running at once in this process.
    public var concurrency: Int
    /// Most jobs taken in one claim transaction.
    public var claimBatch: Int
    /// How long a claimed job stays ours without a heartbeat; a crashed worker's jobs return
    /// to the queue after it.
    public var leaseDuration: Duration
    /// How long to wait before asking again when nothing was ready.
    public var pollInterval: Duration
    /// Jobs of one connection running at once, unless `connectionConcurrency` says otherwise;
    /// bulk jobs (priority below zero) and the rest count separately.
    public var defaultConnectionConcurrency: Int
    public var connectionConcurrency: [ConnectionID: Int]
    /// On shutdown, how long running jobs may take to finish before they are cancelled and released.
    public var shutdownGrace: Duration
    /// How long a worker on this machine must have been seen dead (see `WorkerIdentity`) before
    /// its jobs are taken back: the time a request it had already written has to land at the
    /// target, before the next attempt asks whether it did. Nil never looks: the jobs wait for
    /// their leases to expire.
    public var deadWorkerGrace: Duration?

    public init(
        workerID: String = JobProcessorConfiguration.defaultWorkerID, concurrency: Int = 32, claimBatch: Int = 64,
        leaseDuration: Duration = .seconds(60), pollInterval: Duration = .milliseconds(250),
        defaultConnectionConcurrency: Int = 4, connectionConcurrency: [ConnectionID: Int] = [:],
        shutdownGrace: Duration = .seconds(15), deadWorkerGrace: Duration? = .seconds(5)
    ) {
        self.workerID = workerID
        self.concurrency = max(1, concurrency)
        self.claimBatch = max(1, claimBatch)
        self.leaseDuration = leaseDuration
        self.pollInterval = pollInterval
        self.defaultConnectionConcurrency = max(1, defaultConnectionConcurrency)
        self.connectionConcurrency = connectionConcurrency
        self.shutdownGrace = shutdownGrace
        self.deadWorkerGrace = deadWorkerGrace
    }

    public static var defaultWorkerID: String { WorkerIdentity.current.description }

    func limit(for connection: ConnectionID) -> Int { connectionConcurrency[connection] ?? defaultConnectionConcurrency }
}

/// A connection's slots for one kind of traffic.
struct Lane: Hashable {
    var connection: ConnectionID
    var bulk: Bool
}

/// Counts since start, for logs and benchmarks.
public struct JobProcessorStatistics: Sendable, Equatable {
    public var succeeded = 0
    public var retried = 0
    public var rescheduled = 0
    public var dead = 0
    public var released = 0
    public var leasesLost = 0
    /// Claim transactions, and those the poll alone prompted (nothing finished or arrived since
    /// the last look): a burst whose claims mostly follow a poll is paced by the poll.
    public var claims = 0
    public var claimsAfterPoll = 0
    /// Claimed jobs given straight back because their connection had no free slot.
    public var overLimit = 0
}

/// Claims jobs in batches, runs them with bounded concurrency (overall and per connection),
/// heartbeats their leases, and records each outcome with its effects in one transaction.
/// A `ServiceLifecycle.Service`: on graceful shutdown it stops claiming, lets running jobs finish
/// within the grace period, and gives back what is left.
public final class JobProcessor: Service, Sendable {
    private struct State {
        var stopping = false
        var running: [JobID: (lease: Lease, connection: ConnectionID?)] = [:]
        /// Running jobs per connection and lane: bulk jobs (priority below zero) have their own
        /// slots, so a 100 k stock sync never takes the slots an order needs.
        var perConnection: [Lane: Int] = [:]
        var statistics = JobProcessorStatistics()
    }

    private let store: any Store
    private let registry: JobRegistry
    private let configuration: JobProcessorConfiguration
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let classification: FailureClassification
    private let retryPolicies: ConnectionRetryPolicies
    private let committer: GroupCommit<JobCompletion, CompletionResult>
    private let state = Mutex(State())
    private let counters = Mutex<[String: Counter]>([:])
    /// Wakes the claim loop when a job finishes, when work may have arrived (the store's
    /// notification or the poll), or when asked to stop.
    private let wakeup = Wakeup()
    /// Whether the store answers; while it does not, claims pause and completions wait.
    private let outage: StoreOutage

    public init(
        store: any Store, registry: JobRegistry, configuration: JobProcessorConfiguration = .init(),
        logger: Logger = Logger(label: "kopru.jobs"), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.now = now
        // A completion the store has not confirmed in 30 s is written again (it checks its lease,
        // so a late first write cannot apply twice).
        self.committer = GroupCommit(deadline: .seconds(30)) { completions in try await store.complete(completions) }
        self.retryPolicies = ConnectionRetryPolicies(store: store)
        self.outage = StoreOutage(logger: logger)
        self.classification = FailureClassification(storeUnavailability: { store.unavailability(of: $0) })
    }

    public var statistics: JobProcessorStatistics { state.withLock { $0.statistics } }

    /// Stops claiming; `run()` returns once running jobs are finished or released.
    public func stop() {
        state.withLock { $0.stopping = true }
        wakeup.signal()
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.processUntilStopped()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    private func processUntilStopped() async {
        logger.info(
            "job worker started",
            metadata: [
                "worker": "\(configuration.workerID)", "kinds": "\(registry.kinds.sorted().joined(separator: ","))",
                "concurrency": "\(configuration.concurrency)", "store": "\(store.summary)",
            ])
        // Discarding: a task group keeps every finished child until its result is asked for, and
        // this loop never asks; over a day of jobs that was the worker's memory growing without end
        // (`kopru bench soak`: 30 MB a minute at 10 orders a second).
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeat() }
            group.addTask { await self.listenForWork() }
            group.addTask { await self.reclaimFromDeadWorkers() }
            var polled = false
            while !isStopping, !Task.isCancelled {
                let (free, busy, slots) = state.withLock { state in
                    (configuration.concurrency - state.running.count, !state.running.isEmpty, freeSlots(state))
                }
                // While jobs run, wait until a worthwhile batch is free: claiming one job per freed
                // slot would spend a transaction (an fsync) on each.
                if free <= 0 || (busy && free < refillThreshold) {
                    polled = await wakeup.wait() == [.poll]
                    continue
                }
                if outage.completionsWaiting > 0 {
                    try? await Task.sleep(for: outage.pause)
                    continue
                }
                let limit = min(free, configuration.claimBatch)
                let claimed: [ClaimedJob]
                state.withLock { [polled] in
                    $0.statistics.claims += 1
                    if polled { $0.statistics.claimsAfterPoll += 1 }
                }
                polled = false
                do {
                    claimed = try await store.claim(
                        ClaimRequest(
                            owner: configuration.workerID, limit: limit, leaseDuration: configuration.leaseDuration.seconds,
                            now: now(), kinds: registry.kinds, slots: slots))
                } catch {
                    if let reason = store.unavailability(of: error) {
                        outage.began(reason)
                        try? await Task.sleep(for: outage.pause)
                    } else {
                        logger.error("claiming jobs failed; trying again", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: configuration.pollInterval)
                    }
                    continue
                }
                outage.ended()
                var overLimit: [Lease] = []
                for job in claimed {
                    guard admit(job) else {
                        overLimit.append(job.lease)
                        continue
                    }
                    group.addTask {
                        await self.execute(job)
                        self.wakeup.signal()
                    }
                }
                if !overLimit.isEmpty {
                    state.withLock { $0.statistics.overLimit += overLimit.count }
                    try? await store.release(overLimit, now: now())
                }
                // A short claim means nothing more is ready that a free slot may take: the next
                // chance is a job finishing (its slot, and often the job it enqueued), new work,
                // or the poll. A full one means more may be waiting: claim again at once. So does
                // one that filled a connection's lane: its backlog may have filled the rows the
                // store read, hiding other connections' work that the next claim (which leaves
                // the full lane out) will see.
                let filledALane = state.withLock { state in
                    let after = freeSlots(state)
                    return [false, true].contains { bulk in Set(after.full(bulk: bulk)) != Set(slots.full(bulk: bulk)) }
                }
                if claimed.count < limit, !filledALane { polled = await wakeup.wait() == [.poll] }
            }
            await drain()
            group.cancelAll()
        }
        logger.info("job worker stopped", metadata: ["worker": "\(configuration.workerID)"])
    }

    /// Turns the store's "work may have arrived" (PostgreSQL's NOTIFY, SQLite's writes in this
    /// process) and, failing that, the poll interval into wake-ups of the claim loop.
    private func listenForWork() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            await store.waitForWork(upTo: configuration.pollInterval)
            wakeup.signal(ContinuousClock.now - started >= configuration.pollInterval ? .poll : .news)
        }
    }

    /// Each connection's free slots per lane, for the store to claim no more than fit.
    private func freeSlots(_ state: State) -> ConnectionSlots {
        var slots = ConnectionSlots(unnamed: configuration.defaultConnectionConcurrency)
        for (connection, limit) in configuration.connectionConcurrency {
            (slots.realTime[connection], slots.bulk[connection]) = (limit, limit)
        }
        for (lane, running) in state.perConnection {
            let free = configuration.limit(for: lane.connection) - running
            if lane.bulk { slots.bulk[lane.connection] = free } else { slots.realTime[lane.connection] = free }
        }
        return slots
    }

    /// Waits for running jobs up to the grace period; whatever is still running is then cancelled
    /// (and releases its job).
    private func drain() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while state.withLock({ !$0.running.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private var refillThreshold: Int { max(1, min(configuration.claimBatch, configuration.concurrency) / 4) }

    private func admit(_ claimed: ClaimedJob) -> Bool {
        state.withLock { state in
            if let connection = claimed.job.connection {
                let lane = Lane(connection: connection, bulk: claimed.job.priority < 0)
                let running = state.perConnection[lane, default: 0]
                guard running < configuration.limit(for: connection) else { return false }
                state.perConnection[lane] = running + 1
            }
            state.running[claimed.job.id] = (claimed.lease, claimed.job.connection)
            return true
        }
    }

    private func finished(_ claimed: ClaimedJob) {
        state.withLock { state in
            state.running[claimed.job.id] = nil
            if let connection = claimed.job.connection {
                let lane = Lane(connection: connection, bulk: claimed.job.priority < 0)
                state.perConnection[lane, default: 1] -= 1
                if state.perConnection[lane] == 0 { state.perConnection[lane] = nil }
            }
        }
    }

    private func execute(_ claimed: ClaimedJob) async {
        defer { finished(claimed) }
        let job = claimed.job
        let attempt = job.attempts + 1
        guard let handler = registry.handlers[job.kind] else {
            await record(claimed, .dead(reason: "no handler for job kind \(job.kind)"), effects: [], level: .error)
            return
        }
        // Out of attempts. Where an earlier attempt may have landed and the handler can ask, it
        // asks once more (sending nothing) before the job is given up: a lost answer must not
        // become a dead letter that an operator's replay would send a second time.
        let policy = await retryPolicies.policy(for: job, handler: handler)
        let finalCheck = job.attempts >= policy.maxAttempts
        let givenUp = "gave up after \(job.attempts) attempts: \(job.lastError ?? "no error recorded")"
        if finalCheck, !(job.outcomeUncertain && handler.checksBeforeGivingUp) {
            await record(claimed, .dead(reason: givenUp), effects: handler.deadLetterEffects(job, reason: givenUp, now: now()), level: .error)
            return
        }
        var jobLogger = logger
        jobLogger[metadataKey: "job"] = "\(job.id)"
        jobLogger[metadataKey: "kind"] = "\(job.kind)"
        do {
            try Task.checkCancellation()
            let context = JobContext(job: job, attempt: attempt, logger: jobLogger, now: now(), finalCheck: finalCheck)
            let result = try await TrafficLane.$current.withValue(.of(priority: job.priority)) {
                try await RunningJob.$id.withValue(job.id) { try await handler.run(context) }
            }
            await record(claimed, .succeeded, effects: result.effects, level: .debug)
        } catch is CancellationError {
            // This task is cancelled, and the store's async calls honour that (GRDB's do): give the
            // job back from a task that is not, or it would stay leased until the lease expires.
            let store = self.store
            let lease = claimed.lease
            let releasedAt = now()
            try? await Task { try await store.release([lease], now: releasedAt, midCall: true) }.value
            state.withLock { $0.statistics.released += 1 }
            jobLogger.notice("job released at shutdown")
        } catch {
            let uncertain = classification.outcomeUnknown(error)
            var (outcome, level) = classification.outcome(
                for: error, attempt: attempt, policy: policy, now: now(),
                checkBeforeGivingUp: handler.checksBeforeGivingUp && (uncertain || job.outcomeUncertain))
            if finalCheck, case .retry(_, let message) = outcome {
                (outcome, level) = (.dead(reason: "\(givenUp); could not ask the target whether it landed: \(message)"), .error)
            } else if finalCheck, case .dead(let reason) = outcome {
                outcome = .dead(reason: "\(givenUp); \(reason)")
            }
            var effects: [StoreEffect] = []
            if case .dead(let reason) = outcome {
                var seen = job
                seen.outcomeUncertain = job.outcomeUncertain || uncertain
                effects = handler.deadLetterEffects(seen, reason: reason, now: now())
            }
            if let connection = job.connection, let refused = error as? ConnectorError, refused.disposition == .authentication {
                effects += authenticationAlert(connection: connection, error: refused)
            }
            await record(claimed, outcome, effects: effects, level: level, outcomeUncertain: uncertain)
        }
    }

    /// Credentials refused: retrying cannot help until someone acts, and every job of the
    /// connection would meet the same answer. The connection is paused with the job's completion
    /// and an alert (a critical event, `kopru_alerts_total`) says what to fix.
    private func authenticationAlert(connection: ConnectionID, error: ConnectorError) -> [StoreEffect] {
        Counter(label: "kopru_alerts_total", dimensions: [("kind", "authentication"), ("connection", connection.rawValue)]).increment()
        logger.critical("connection \(connection) paused: its credentials were refused", metadata: ["error": "\(error.message)"])
        return [
            .pauseConnection(connection),
            .log(
                EventRecord(
                    at: now(), level: .critical, kind: "alert", connection: connection, subject: "connection:\(connection)",
                    message:
                        "connection \(connection) paused: credentials refused (\(error.message)). Fix them, then resume it with POST /api/integrations/\(connection)/config {\"active\": true}")),
        ]
    }

    /// Records the outcome, with a line in the event log for anything but a plain success.
    private func record(
        _ claimed: ClaimedJob, _ outcome: JobOutcome, effects: [StoreEffect], level: EventLevel, outcomeUncertain: Bool = false
    ) async {
        let job = claimed.job
        var effects = effects
        let summary: String? =
            switch outcome {
            case .succeeded: nil
            case .retry(let at, let error): "attempt \(job.attempts + 1) failed, retrying at \(at): \(error)"
            case .reschedule(let at, let reason): "deferred to \(at): \(reason)"
            case .dead(let reason): "moved to the dead letters: \(reason)"
            }
        if let summary {
            effects.append(
                .log(
                    EventRecord(
                        at: now(), level: level, kind: "job", connection: job.connection, subject: "job:\(job.id)",
                        message: "\(job.kind) #\(job.id) \(summary)")))
            logger.log(level: level.loggerLevel, "\(job.kind) #\(job.id) \(summary)")
        }
        do {
            let completion = JobCompletion(lease: claimed.lease, outcome: outcome, effects: effects, now: now(), outcomeUncertain: outcomeUncertain)
            let result = try await completeWaitingOutOutages(completion)
            jobsTotal(kind: job.kind, outcome: Self.metricLabel(result, outcome)).increment()
            state.withLock { state in
                switch (result, outcome) {
                case (.leaseLost, _): state.statistics.leasesLost += 1
                case (.effectFailed, _), (.applied, .dead): state.statistics.dead += 1
                case (.applied, .succeeded): state.statistics.succeeded += 1
                case (.applied, .retry): state.statistics.retried += 1
                case (.applied, .reschedule): state.statistics.rescheduled += 1
                }
            }
            switch result {
            case .applied: break
            case .leaseLost:
                logger.warning("job \(job.id): lease lost before completion; another worker owns it now")
            case .effectFailed(let reason):
                logger.error("job \(job.id): \(reason)")
            }
        } catch {
            logger.error(
                "job \(job.id): could not record its outcome; it will run again when its lease expires",
                metadata: ["error": "\(error)"])
        }
    }

    /// Records a completion, waiting while the store is unavailable instead of giving up: the
    /// work is done and its outcome is only waiting to be written. The job stays in this worker's
    /// slot meanwhile (so nothing new is started), and its lease is renewed once the store is
    /// back. Gives up only when the worker is stopping, as a crash would: the job then runs again.
    private func completeWaitingOutOutages(_ completion: JobCompletion) async throws -> CompletionResult {
        var waiting = false
        defer { if waiting { outage.completionWritten() } }
        while true {
            do {
                let result = try await committer.submit(completion)
                outage.ended()
                return result
            } catch {
                guard let reason = store.unavailability(of: error), !Task.isCancelled, !isStopping else { throw error }
                outage.began(reason)
                if !waiting {
                    waiting = true
                    outage.completionWaits()
                }
                try await Task.sleep(for: outage.pause)
            }
        }
    }

    /// `kopru_jobs_total` per kind and outcome, made once: making a counter asks the metrics
    /// factory under its lock, a cost paid per job otherwise.
    private func jobsTotal(kind: String, outcome: String) -> Counter {
        counters.withLock { counters in
            if let counter = counters["\(kind)\u{0}\(outcome)"] { return counter }
            let counter = Counter(label: "kopru_jobs_total", dimensions: [("kind", kind), ("outcome", outcome)])
            counters["\(kind)\u{0}\(outcome)"] = counter
            return counter
        }
    }

    private static func metricLabel(_ result: CompletionResult, _ outcome: JobOutcome) -> String {
        switch (result, outcome) {
        case (.leaseLost, _): "lease_lost"
        case (.effectFailed, _), (.applied, .dead): "dead"
        case (.applied, .succeeded): "succeeded"
        case (.applied, .retry): "retried"
        case (.applied, .reschedule): "rescheduled"
        }
    }

    /// Takes back the jobs of workers on this machine that died holding leases (killed, crashed,
    /// out of memory), so that a restart resumes their orders within seconds rather than a lease
    /// later. Their attempts count and their outcomes are uncertain, exactly as on expiry.
    private func reclaimFromDeadWorkers() async {
        guard let grace = configuration.deadWorkerGrace, let me = WorkerIdentity(parsing: configuration.workerID),
            me.instance != nil
        else { return }
        let interval = min(grace, .seconds(1))
        var seenDead: [String: ContinuousClock.Instant] = [:]
        var warned = false
        while !Task.isCancelled, !isStopping {
            do {
                // Under deadlines: a call cut by a database restart may never return, and this
                // loop would stop looking for good.
                let store = store
                let owners = try await StoreDeadline.within(.seconds(10), "list lease owners") { try await store.leaseOwners() }.get()
                let dead = owners.filter { owner in
                    WorkerIdentity(parsing: owner).map { $0 != me && $0.isGone(seenFrom: me) } ?? false
                }
                let clock = ContinuousClock.now
                seenDead = seenDead.filter { dead.contains($0.key) }
                for owner in dead where seenDead[owner] == nil { seenDead[owner] = clock }
                let due = Set(seenDead.filter { clock - $0.value >= grace }.keys)
                if !due.isEmpty {
                    let at = now()
                    let taken = try await StoreDeadline.within(.seconds(10), "take back dead workers' jobs") {
                        try await store.reclaimLeases(heldBy: due, now: at)
                    }.get()
                    for owner in due { seenDead[owner] = nil }
                    if taken > 0 {
                        logger.notice(
                            "took back the jobs of workers that are no longer running",
                            metadata: ["jobs": "\(taken)", "workers": "\(due.sorted().joined(separator: ","))"])
                        wakeup.signal()
                    }
                }
                warned = false
            } catch {
                if !warned {
                    logger.warning("could not look for dead workers' leases", metadata: ["error": "\(error)"])
                    warned = true
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Extends the leases of running jobs every third of the lease, so a long job is not
    /// mistaken for a crashed one.
    private func heartbeat() async {
        let interval = configuration.leaseDuration / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let leases = state.withLock { $0.running.values.map(\.lease) }
            guard !leases.isEmpty, !Task.isCancelled else { continue }
            let current = now()
            do {
                let lost = try await store.extendLeases(
                    leases, until: current.addingTimeInterval(configuration.leaseDuration.seconds), now: current)
                for lease in lost { logger.warning("job \(lease.job): lease lost; another worker may run it") }
            } catch {
                logger.error("lease heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension EventLevel {
    var loggerLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
