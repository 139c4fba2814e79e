import Foundation
import KopruCore
import KopruStore
import Logging
import ServiceLifecycle
import Synchronization

/// A flow that runs on a cron schedule, evaluated in a named time zone.
public struct Schedule: Sendable {
    public let name: String
    public let cron: CronExpression
    public let timeZone: TimeZone
    /// The job for one fire; `slot` is the scheduled time (not the time it actually ran).
    public let makeJob: @Sendable (_ slot: Date) -> NewJob

    public init(
        name: String, cron: CronExpression, timeZone: TimeZone = TimeZone(identifier: "Europe/Istanbul")!,
        makeJob: @escaping @Sendable (_ slot: Date) -> NewJob
    ) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.makeJob = makeJob
    }

    /// A schedule that enqueues `kind` with `payload`, keyed by schedule and slot, so a slot
    /// fires at most once however many schedulers run.
    public static func job(
        name: String, cron: CronExpression, timeZone: TimeZone = TimeZone(identifier: "Europe/Istanbul")!, kind: String,
        payload: Data = Data("{}".utf8), connection: ConnectionID? = nil, priority: Int = 0
    ) -> Schedule {
        Schedule(name: name, cron: cron, timeZone: timeZone) { slot in
            NewJob(
                kind: kind, idempotencyKey: "schedule:\(name)@\(slot.millisecondsSince1970)", payload: payload,
                priority: priority, orderingKey: "schedule:\(name)", connection: connection)
        }
    }
}

/// Fires due schedules. After downtime, a schedule that missed several slots fires once, not
/// once per missed slot: the next fire is computed from now, not from the missed slot.
///
/// Several hub processes may run a scheduler; only the one holding the store's "scheduler"
/// leadership term ticks. It renews the term every third of it, so when the leader dies another
/// takes over within about one term. (A slot could not fire twice even with two leaders: each
/// fire is a compare-and-set on the schedule's next-fire time.)
public final class Scheduler: Service, Sendable {
    public static let role = "scheduler"

    private let store: any Store
    private let schedules: [Schedule]
    private let holder: String
    private let term: Duration
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let interval: Duration
    private let stopping = Mutex(false)

    public init(
        store: any Store, schedules: [Schedule], holder: String = JobProcessorConfiguration.defaultWorkerID,
        term: Duration = .seconds(10), logger: Logger = Logger(label: "kopru.scheduler"),
        maximumSleep: Duration = .seconds(2), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.schedules = schedules
        self.holder = holder
        self.term = term
        self.logger = logger
        self.interval = min(maximumSleep, term / 3)
        self.now = now
    }

    public func stop() { stopping.withLock { $0 = true } }

    public func run() async throws {
        guard !schedules.isEmpty else { return }
        await withGracefulShutdownHandler {
            var leading = false
            while !self.stopping.withLock({ $0 }) {
                do {
                    let current = self.now()
                    let leads = try await self.store.acquireLeadership(
                        Self.role, holder: self.holder, until: current.addingTimeInterval(self.term.seconds), now: current)
                    if leads != leading {
                        self.logger.notice(leads ? "leading the scheduler" : "no longer leading the scheduler", metadata: ["holder": "\(self.holder)"])
                        leading = leads
                    }
                    if leads { _ = try await self.tick() }
                } catch {
                    self.logger.error("scheduler tick failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.interval)
            }
            if leading { try? await self.store.resignLeadership(Self.role, holder: self.holder) }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Fires every schedule that is due; returns the names of those it fired.
    @discardableResult
    public func tick() async throws -> [String] {
        var fired: [String] = []
        for schedule in schedules {
            let current = now()
            let upcoming = schedule.cron.nextFire(after: current, in: schedule.timeZone) ?? .distantFuture
            guard let recorded = try await store.nextFire(schedule: schedule.name) else {
                _ = try await store.advanceSchedule(schedule.name, expected: nil, next: upcoming, enqueue: nil, now: current)
                continue
            }
            if recorded <= current {
                let job = schedule.makeJob(recorded)
                if try await store.advanceSchedule(schedule.name, expected: recorded, next: upcoming, enqueue: job, now: current) {
                    fired.append(schedule.name)
                    logger.info(
                        "schedule fired",
                        metadata: ["schedule": "\(schedule.name)", "slot": "\(recorded)", "next": "\(upcoming)"])
                }
            } else if recorded != upcoming.storePrecision {
                // The expression changed since the next fire was recorded: follow the new one.
                _ = try await store.advanceSchedule(schedule.name, expected: recorded, next: upcoming, enqueue: nil, now: current)
            }
        }
        return fired
    }
}
