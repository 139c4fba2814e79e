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
public final class Scheduler: Service, Sendable {
    private let store: any Store
    private let schedules: [Schedule]
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let maximumSleep: Duration
    private let stopping = Mutex(false)

    public init(
        store: any Store, schedules: [Schedule], logger: Logger = Logger(label: "kopru.scheduler"),
        maximumSleep: Duration = .seconds(5), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.schedules = schedules
        self.logger = logger
        self.maximumSleep = maximumSleep
        self.now = now
    }

    public func stop() { stopping.withLock { $0 = true } }

    public func run() async throws {
        guard !schedules.isEmpty else { return }
        await withGracefulShutdownHandler {
            while !self.stopping.withLock({ $0 }) {
                do {
                    _ = try await self.tick()
                } catch {
                    self.logger.error("scheduler tick failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.maximumSleep)
            }
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
