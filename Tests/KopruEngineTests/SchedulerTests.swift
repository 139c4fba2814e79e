import Foundation
import KopruCore
import KopruStore
import Synchronization
import Testing

@testable import KopruEngine

@Suite("Scheduler")
struct SchedulerTests {
    final class FakeClock: Sendable {
        let current: Mutex<Date>
        init(_ date: Date) { current = Mutex(date) }
        var now: Date { current.withLock { $0 } }
        func set(_ date: Date) { current.withLock { $0 = date } }
    }

    func date(_ iso: String) -> Date { ISO8601DateFormatter().date(from: iso)! }

    func scheduler(_ store: some Store, _ clock: FakeClock, cron: String = "0 * * * *") throws -> Scheduler {
        Scheduler(
            store: store,
            schedules: [.job(name: "erp-stock", cron: try CronExpression(cron), kind: "flow.stock", connection: "erp")],
            now: { clock.now })
    }

    @Test("the first tick records the next fire without firing; a due slot fires once")
    func firesOnce() async throws {
        let store = MemoryStore()
        let clock = FakeClock(date("2026-11-23T10:20:00Z"))
        let scheduler = try scheduler(store, clock)
        #expect(try await scheduler.tick() == [])
        #expect(try await store.nextFire(schedule: "erp-stock") == date("2026-11-23T11:00:00Z"))
        clock.set(date("2026-11-23T10:59:59Z"))
        #expect(try await scheduler.tick() == [])
        clock.set(date("2026-11-23T11:00:01Z"))
        #expect(try await scheduler.tick() == ["erp-stock"])
        #expect(try await scheduler.tick() == [])
        let jobs = try await store.jobs(JobFilter(kind: "flow.stock"))
        #expect(jobs.count == 1)
        #expect(jobs.first?.idempotencyKey == "schedule:erp-stock@\(date("2026-11-23T11:00:00Z").millisecondsSince1970)")
        #expect(jobs.first?.connection == "erp")
    }

    @Test("after downtime, many missed slots fire once and the next fire is in the future")
    func missedFiresCollapse() async throws {
        let store = MemoryStore()
        let clock = FakeClock(date("2026-11-23T10:20:00Z"))
        let scheduler = try scheduler(store, clock, cron: "*/15 * * * *")
        try await scheduler.tick()
        clock.set(date("2026-11-23T16:07:00Z"))  // down for almost six hours: 23 slots missed
        #expect(try await scheduler.tick() == ["erp-stock"])
        #expect(try await scheduler.tick() == [])
        #expect(try await store.jobs(JobFilter(kind: "flow.stock")).count == 1)
        #expect(try await store.nextFire(schedule: "erp-stock") == date("2026-11-23T16:15:00Z"))
    }

    @Test("the clock jumping back an hour: the schedule follows the new time, no slot is enqueued twice, none is skipped")
    func clockJumpsBack() async throws {
        let store = MemoryStore()
        let clock = FakeClock(date("2026-11-23T10:00:30Z"))
        let scheduler = try scheduler(store, clock, cron: "* * * * *")
        try await scheduler.tick()
        // Minute by minute to 10:30:30, back to 09:30:30 (an NTP step), then on to 11:10:30.
        var times = (1...30).map { date("2026-11-23T10:00:30Z").addingTimeInterval(Double($0) * 60) }
        times += (0...100).map { date("2026-11-23T09:30:30Z").addingTimeInterval(Double($0) * 60) }
        for time in times {
            clock.set(time)
            try await scheduler.tick()
        }
        let slots = try await store.jobs(JobFilter(kind: "flow.stock", limit: 1000)).map(\.idempotencyKey)
        #expect(Set(slots).count == slots.count, "a slot enqueued twice")
        // Each minute the clock showed has its slot, once: 09:31 to 11:10. The slots from 10:01
        // to 10:30 that the clock showed twice were enqueued the first time only (the slot is
        // the job's key), and polling went on through the hour the clock went back.
        let expected = (1...100).map { "schedule:erp-stock@\(date("2026-11-23T09:30:00Z").addingTimeInterval(Double($0) * 60).millisecondsSince1970)" }
        #expect(Set(slots) == Set(expected))
    }

    @Test("two schedulers on one store fire a slot once")
    func twoSchedulers() async throws {
        let store = MemoryStore()
        let clock = FakeClock(date("2026-11-23T10:20:00Z"))
        let a = try scheduler(store, clock)
        let b = try scheduler(store, clock)
        try await a.tick()
        try await b.tick()
        clock.set(date("2026-11-23T11:00:01Z"))
        async let firedA = a.tick()
        async let firedB = b.tick()
        let fired = try await firedA + firedB
        #expect(fired == ["erp-stock"])
        #expect(try await store.jobs(JobFilter(kind: "flow.stock")).count == 1)
    }

    @Test("a changed expression is followed without firing the old slot")
    func changedExpression() async throws {
        let store = MemoryStore()
        let clock = FakeClock(date("2026-11-23T10:20:00Z"))
        try await scheduler(store, clock, cron: "0 3 * * *").tick()
        #expect(try await store.nextFire(schedule: "erp-stock") == date("2026-11-24T00:00:00Z"))
        #expect(try await scheduler(store, clock, cron: "*/15 * * * *").tick() == [])
        #expect(try await store.nextFire(schedule: "erp-stock") == date("2026-11-23T10:30:00Z"))
    }

    @Test("old event-log lines are purged after the retention")
    func retention() async throws {
        let store = MemoryStore()
        let now = Date()
        try await store.append([
            EventRecord(at: now.addingTimeInterval(-31 * 86_400), level: .info, kind: "external_call", message: "old"),
            EventRecord(at: now.addingTimeInterval(-29 * 86_400), level: .info, kind: "external_call", message: "recent"),
        ])
        #expect(try await EventRetention(store: store).purgeOnce(now: now) == 1)
        #expect(try await store.events(EventFilter()).map(\.message) == ["recent"])
    }
}

@Suite("Scheduler leadership")
struct SchedulerLeadershipTests {
    @Test("of two running schedulers only the leader fires, and the other takes over when it stops")
    func leadership() async throws {
        let store = MemoryStore()
        // Once a year, so no real slot falls inside the test (an every-minute schedule fired a
        // second time whenever the test crossed a minute boundary).
        let cron = try CronExpression("0 0 1 1 *")
        // Pretend a slot is already due so the leader fires at once.
        _ = try await store.advanceSchedule("every-minute", expected: nil, next: Date().addingTimeInterval(-1), enqueue: nil, now: Date())
        let schedule = Schedule.job(name: "every-minute", cron: cron, kind: "flow.tick")
        // A 1 s term: under the full suite's load a renewal can be a few hundred ms late.
        let first = Scheduler(store: store, schedules: [schedule], holder: "first", term: .seconds(1))
        let second = Scheduler(store: store, schedules: [schedule], holder: "second", term: .seconds(1))
        let firstTask = Task { try await first.run() }
        try await eventually("first leads") { try await store.leader(Scheduler.role, now: Date()) == "first" }
        let secondTask = Task { try await second.run() }
        try await eventually("the due slot fired") { try await store.jobs(JobFilter(kind: "flow.tick")).count == 1 }
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try await store.leader(Scheduler.role, now: Date()) == "first")
        first.stop()
        try await firstTask.value
        try await eventually("second takes over", timeout: .seconds(10)) {
            try await store.leader(Scheduler.role, now: Date()) == "second"
        }
        second.stop()
        try await secondTask.value
        #expect(try await store.leader(Scheduler.role, now: Date()) == nil)
        #expect(try await store.jobs(JobFilter(kind: "flow.tick")).count == 1)
    }
}
