import Foundation

/// A platform's request budget: at most `requests` per `period`, and at most `burst` at once
/// after a quiet spell. Written in configuration as `80/min`, `10/s`, `2/s burst 4`.
public struct RateLimit: Hashable, Sendable, Codable, CustomStringConvertible {
    public var requests: Double
    public var period: TimeInterval
    public var burst: Int

    public init(requests: Double, per period: TimeInterval, burst: Int = 1) {
        self.requests = requests
        self.period = period
        self.burst = max(1, burst)
    }

    /// Seconds between two requests at the steady rate.
    public var interval: TimeInterval { period / requests }

    /// The same limit with time running `factor` times faster (benchmarks compress a minute).
    public func scaled(by factor: Double) -> RateLimit {
        RateLimit(requests: requests, per: period / factor, burst: burst)
    }

    /// The limit a client plans for, so that neither clock drift nor requests arriving a little
    /// late (and so closer together) tip a request over: the interval is stretched by `1 / share`,
    /// and far enough that a window of the period plus `jitter` still holds no more than the limit.
    public func planned(share: Double, jitter: TimeInterval = 0) -> RateLimit {
        let interval = max(self.interval / share, (period + jitter) / requests)
        return RateLimit(requests: period / interval, per: period, burst: burst)
    }

    public var description: String {
        let unit = [(1.0, "s"), (60.0, "min"), (3600.0, "h")].first { $0.0 == period }
        let amount = requests == requests.rounded() ? "\(Int(requests))" : "\(requests)"
        let base = unit.map { "\(amount)/\($0.1)" } ?? "\(amount)/\(period)s"
        return burst > 1 ? "\(base) burst \(burst)" : base
    }

    /// `N/s`, `N/min`, `N/h` or `N/<seconds>s`, optionally followed by `burst B`.
    public init?(parsing text: String) {
        let words = text.lowercased().split(separator: " ").map(String.init)
        guard let rate = words.first else { return nil }
        let parts = rate.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let requests = Double(parts[0]), requests > 0 else { return nil }
        let period: TimeInterval
        switch parts[1] {
        case "s", "sec", "second": period = 1
        case "m", "min", "minute": period = 60
        case "h", "hour": period = 3600
        default:
            guard parts[1].hasSuffix("s"), let seconds = Double(parts[1].dropLast()), seconds > 0 else { return nil }
            period = seconds
        }
        var burst = 1
        if words.count == 3, words[1] == "burst", let value = Int(words[2]), value >= 1 {
            burst = value
        } else if words.count != 1 {
            return nil
        }
        self.init(requests: requests, per: period, burst: burst)
    }
}

/// The generic cell rate algorithm over one stored instant, the budget's *theoretical arrival
/// time* (TAT): the moment the budget would be fully rested if nothing else were sent. One
/// instant per budget is all a shared store has to keep, and each reservation is one
/// read-modify-write of it.
public enum CellRate {
    public struct Reservation: Hashable, Sendable {
        /// When the request may be sent.
        public var start: Date
        /// The budget's arrival time once this request is counted.
        public var arrival: Date
    }

    /// Where a request of `cost` units would start, given the stored arrival time. `headroom`
    /// units of the burst are left unused, for traffic that must not wait behind this request.
    public static func reserve(_ limit: RateLimit, cost: Int = 1, arrival: Date?, now: Date, headroom: Int = 0) -> Reservation {
        let interval = limit.interval
        let base = max(arrival ?? now, now)
        let next = base.addingTimeInterval(Double(cost) * interval)
        let usable = max(1, limit.burst - headroom)
        let start = max(now, next.addingTimeInterval(-Double(usable) * interval))
        return Reservation(start: start, arrival: next)
    }

    /// An arrival time as a store keeps it: whole milliseconds, rounded up (rounding down would
    /// let every request gain a little). Round once per booking, not per slot of a block, or
    /// the rounding adds up.
    public static func roundedUp(_ date: Date) -> Date {
        // Less a hair, so that float noise in an exact millisecond does not round it up.
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000 - 0.001).rounded(.up) / 1000)
    }

    /// The arrival time after the platform said "nothing before `until`" (Retry-After): the next
    /// reservation cannot start earlier, and then the budget refills from there.
    public static func pause(_ limit: RateLimit, arrival: Date?, until: Date) -> Date {
        let rested = until.addingTimeInterval(Double(limit.burst - 1) * limit.interval)
        return roundedUp(max(arrival ?? until, rested))
    }
}
