import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in a
/// named time zone.
///
/// Supports `*`, lists, ranges, steps (`*/15`, `1-30/5`, `10/20`), month and weekday names,
/// 7 for Sunday, and `@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`, `@yearly`/`@annually`.
/// When both day fields are restricted, a day matches if either does (as in Vixie cron).
///
/// Daylight-saving rules: a local time that does not exist (the hour skipped in spring) fires at
/// the first instant after the gap, once; a local time that happens twice (the hour repeated in
/// autumn) fires at its first occurrence only.
public struct CronExpression: Hashable, Sendable, CustomStringConvertible {
    public let source: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>  // 0 = Sunday
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public init(_ text: String) throws(ValidationError) {
        let trimmed = TurkishText.normalizingWhitespace(text)
        let expanded: String =
            switch trimmed.lowercased() {
            case "@hourly": "0 * * * *"
            case "@daily", "@midnight": "0 0 * * *"
            case "@weekly": "0 0 * * 0"
            case "@monthly": "0 0 1 * *"
            case "@yearly", "@annually": "0 0 1 1 *"
            default: trimmed
            }
        let fields = expanded.split(separator: " ").map(String.init)
        guard fields.count == 5 else {
            throw ValidationError(
                field: "schedule", rule: .format,
                message: "a cron expression has five fields (minute hour day-of-month month day-of-week); got \(fields.count) in \"\(text)\"")
        }
        source = trimmed
        minutes = try Self.parse(fields[0], name: "minute", range: 0...59).sorted()
        hours = try Self.parse(fields[1], name: "hour", range: 0...23).sorted()
        daysOfMonth = try Self.parse(fields[2], name: "day-of-month", range: 1...31)
        months = try Self.parse(fields[3], name: "month", range: 1...12, names: Self.monthNames)
        daysOfWeek = Set(try Self.parse(fields[4], name: "day-of-week", range: 0...7, names: Self.weekdayNames).map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    public var description: String { source }

    private static let monthNames = [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
        "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
    ]
    private static let weekdayNames = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]

    private static func parse(
        _ field: String, name: String, range: ClosedRange<Int>, names: [String: Int] = [:]
    ) throws(ValidationError) -> Set<Int> {
        func fail(_ why: String) -> ValidationError {
            ValidationError(field: "schedule.\(name)", rule: .format, message: "\"\(field)\": \(why)")
        }
        func value(_ token: Substring) throws(ValidationError) -> Int {
            if let named = names[token.uppercased()] { return named }
            guard let number = Int(token) else { throw fail("\"\(token)\" is not a number") }
            guard range.contains(number) else { throw fail("\(number) is outside \(range.lowerBound)-\(range.upperBound)") }
            return number
        }
        var result = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let base = pieces.first, !base.isEmpty else { throw fail("malformed part \"\(part)\"") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw fail("step must be a positive number") }
                step = parsed
            }
            let lower: Int
            var upper: Int
            if base == "*" {
                (lower, upper) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                lower = try value(base[..<dash])
                upper = try value(base[base.index(after: dash)...])
                guard lower <= upper else { throw fail("range \(base) runs backwards") }
            } else {
                lower = try value(base)
                upper = pieces.count == 2 ? range.upperBound : lower
            }
            if name == "day-of-week", upper == 7, base == "*" { upper = 6 }
            result.formUnion(stride(from: lower, through: upper, by: step))
        }
        return result
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let domMatch = daysOfMonth.contains(day)
        let dowMatch = daysOfWeek.contains(weekday)
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return domMatch || dowMatch
        case (true, false): return domMatch
        case (false, true): return dowMatch
        case (false, false): return true
        }
    }

    /// The first fire strictly after `date`, or nil if none within eight years (e.g. "0 0 30 2 *").
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard var noon = calendar.date(from: DateComponents(year: start.year, month: start.month, day: start.day, hour: 12))
        else { return nil }
        for dayOffset in 0..<(366 * 8 + 2) {
            let day = calendar.dateComponents([.year, .month, .day, .weekday], from: noon)
            if let year = day.year, let month = day.month, let dayOfMonth = day.day, let weekday = day.weekday,
                months.contains(month), dayMatches(day: dayOfMonth, weekday: weekday - 1)
            {
                for hour in hours {
                    // The local clock can run a little behind `date` near a DST switch, so only skip
                    // hours more than one before the start on the first day.
                    if dayOffset == 0, let startHour = start.hour, hour < startHour - 1 { continue }
                    for minute in minutes {
                        let fire = Self.instant(year: year, month: month, day: dayOfMonth, hour: hour, minute: minute, in: timeZone)
                        if fire > date { return fire }
                    }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: noon) else { return nil }
            noon = next
        }
        return nil
    }

    /// The instant a local wall-clock time names: the first of two in a repeated hour, the end of
    /// the gap for a skipped one.
    static func instant(year: Int, month: Int, day: Int, hour: Int, minute: Int, in timeZone: TimeZone) -> Date {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let wall = utc.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
            .timeIntervalSince1970
        let offsetBefore = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 86_400)))
        let offsetAfter = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 86_400)))
        let candidates = [wall - offsetBefore, wall - offsetAfter].filter {
            Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: $0))) == wall - $0
        }
        if let first = candidates.min() { return Date(timeIntervalSince1970: first) }
        // Skipped by a spring-forward: fire when the clocks jump.
        let earliest = Date(timeIntervalSince1970: min(wall - offsetBefore, wall - offsetAfter))
        return timeZone.nextDaylightSavingTimeTransition(after: earliest)
            ?? Date(timeIntervalSince1970: max(wall - offsetBefore, wall - offsetAfter))
    }
}
