import Foundation
import KopruCore
import Testing

@Suite("Cron expressions")
struct CronExpressionTests {
    let istanbul = TimeZone(identifier: "Europe/Istanbul")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!
    let utc = TimeZone(identifier: "UTC")!

    func date(_ iso: String) -> Date { ISO8601DateFormatter().date(from: iso)! }

    func next(_ expression: String, after iso: String, in zone: TimeZone) throws -> Date? {
        try CronExpression(expression).nextFire(after: date(iso), in: zone)
    }

    @Test("every 15 minutes")
    func quarterHours() throws {
        #expect(try next("*/15 * * * *", after: "2026-11-23T10:07:00Z", in: utc) == date("2026-11-23T10:15:00Z"))
        #expect(try next("*/15 * * * *", after: "2026-11-23T10:15:00Z", in: utc) == date("2026-11-23T10:30:00Z"))
        #expect(try next("*/15 * * * *", after: "2026-11-23T23:59:30Z", in: utc) == date("2026-11-24T00:00:00Z"))
    }

    @Test("hourly at minute 5, in Istanbul time (UTC+3 all year)")
    func hourlyIstanbul() throws {
        #expect(try next("5 * * * *", after: "2026-11-23T10:07:00Z", in: istanbul) == date("2026-11-23T11:05:00Z"))
        #expect(try next("0 2 * * *", after: "2026-11-23T10:00:00Z", in: istanbul) == date("2026-11-23T23:00:00Z"))
    }

    @Test("weekdays at 09:30, with names and ranges")
    func weekdays() throws {
        // 2026-11-27 is a Friday; the next weekday 09:30 after Friday 10:00 is Monday the 30th.
        #expect(try next("30 9 * * MON-FRI", after: "2026-11-27T07:00:00Z", in: istanbul) == date("2026-11-30T06:30:00Z"))
        #expect(try next("30 9 * * 1-5", after: "2026-11-27T06:00:00Z", in: istanbul) == date("2026-11-27T06:30:00Z"))
        #expect(try next("0 0 * * 7", after: "2026-11-23T00:00:00Z", in: utc) == date("2026-11-29T00:00:00Z"))
    }

    @Test("day-of-month and day-of-week restricted together match either")
    func domOrDow() throws {
        // The 1st of the month or any Monday: after Tue 2026-11-24 comes Mon 2026-11-30, then Tue 1 Dec.
        #expect(try next("0 12 1 * MON", after: "2026-11-24T00:00:00Z", in: utc) == date("2026-11-30T12:00:00Z"))
        #expect(try next("0 12 1 * MON", after: "2026-11-30T12:00:00Z", in: utc) == date("2026-12-01T12:00:00Z"))
    }

    @Test("macros, month names and a leap day")
    func macros() throws {
        #expect(try next("@daily", after: "2026-11-23T10:00:00Z", in: utc) == date("2026-11-24T00:00:00Z"))
        #expect(try next("@monthly", after: "2026-11-23T10:00:00Z", in: utc) == date("2026-12-01T00:00:00Z"))
        #expect(try next("0 0 1 JAN *", after: "2026-11-23T10:00:00Z", in: utc) == date("2027-01-01T00:00:00Z"))
        #expect(try next("0 0 29 2 *", after: "2026-11-23T10:00:00Z", in: utc) == date("2028-02-29T00:00:00Z"))
        #expect(try next("0 0 30 2 *", after: "2026-11-23T10:00:00Z", in: utc) == nil)
    }

    @Test("spring forward: a skipped local time fires once, when the clocks jump")
    func springForward() throws {
        // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        #expect(try next("30 2 * * *", after: "2026-03-28T12:00:00Z", in: berlin) == date("2026-03-29T01:00:00Z"))
        #expect(try next("30 2 * * *", after: "2026-03-29T01:00:00Z", in: berlin) == date("2026-03-30T00:30:00Z"))
        // Every quarter hour: 01:45 CET, then 03:00 CEST once (not once per skipped slot), then 03:15.
        #expect(try next("*/15 * * * *", after: "2026-03-29T00:45:00Z", in: berlin) == date("2026-03-29T01:00:00Z"))
        #expect(try next("*/15 * * * *", after: "2026-03-29T01:00:00Z", in: berlin) == date("2026-03-29T01:15:00Z"))
    }

    @Test("fall back: a repeated local time fires at its first occurrence only")
    func fallBack() throws {
        // Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens at 00:30 and 01:30 UTC.
        #expect(try next("30 2 * * *", after: "2026-10-24T12:00:00Z", in: berlin) == date("2026-10-25T00:30:00Z"))
        #expect(try next("30 2 * * *", after: "2026-10-25T00:30:00Z", in: berlin) == date("2026-10-26T01:30:00Z"))
    }

    @Test("bad expressions name the field", arguments: [
        ("* * * *", "schedule"), ("61 * * * *", "schedule.minute"), ("* 24 * * *", "schedule.hour"),
        ("* * 0 * *", "schedule.day-of-month"), ("* * * FOO *", "schedule.month"), ("*/0 * * * *", "schedule.minute"),
        ("5-1 * * * *", "schedule.minute"), ("* * * * 8", "schedule.day-of-week"),
    ])
    func invalid(_ expression: String, _ field: String) {
        let error = #expect(throws: ValidationError.self) { _ = try CronExpression(expression) }
        #expect(error?.field == field)
    }
}
