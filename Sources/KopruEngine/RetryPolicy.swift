import Foundation
import KopruCore

/// When to try a failed job again. Exponential backoff with full jitter: the delay after attempt
/// n is uniform in [0, min(cap, base × 2^(n−1))], so many jobs failing together (an ERP restart)
/// do not come back together.
public struct RetryPolicy: Hashable, Sendable {
    public var base: Duration
    public var cap: Duration
    /// Attempts in all, the first included; after the last, the job goes to the dead letters.
    public var maxAttempts: Int

    public init(base: Duration, cap: Duration, maxAttempts: Int) {
        self.base = base
        self.cap = cap
        self.maxAttempts = max(1, maxAttempts)
    }

    public static func exponentialJitter(
        base: Duration = .seconds(2), cap: Duration = .seconds(300), maxAttempts: Int = 8
    ) -> RetryPolicy {
        RetryPolicy(base: base, cap: cap, maxAttempts: maxAttempts)
    }

    public static let dontRetry = RetryPolicy(base: .zero, cap: .zero, maxAttempts: 1)

    /// The upper bound of the delay after attempt `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 62)
        let grown = base.seconds * Double(1 << UInt64(min(exponent, 40)))
        return .milliseconds(Int64(min(grown, cap.seconds) * 1000))
    }

    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt)
        let milliseconds = Int64(ceiling.seconds * 1000)
        guard milliseconds > 0 else { return .zero }
        return .milliseconds(Int64.random(in: 0...milliseconds, using: &generator))
    }

    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }
}

extension RetryPolicy {
    /// The connection settings that set its jobs' retry policy; any not given keeps `fallback`'s
    /// value (the job kind's own policy).
    public static let settingKeys = ["retry.maxAttempts", "retry.baseMilliseconds", "retry.capMilliseconds"]

    /// The policy a connection's settings ask for, or nil when they name none. Throws naming the
    /// key, so a bad value is refused when the connection is saved rather than when a job fails.
    public static func from(settings: [String: String], fallback: RetryPolicy = .exponentialJitter()) throws(ValidationError)
        -> RetryPolicy?
    {
        guard settingKeys.contains(where: { settings[$0] != nil }) else { return nil }
        func number(_ key: String, _ range: ClosedRange<Int>) throws(ValidationError) -> Int? {
            guard let text = settings[key] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw ValidationError(field: key, rule: .format, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        let attempts = try number("retry.maxAttempts", 1...1_000) ?? fallback.maxAttempts
        let base = try number("retry.baseMilliseconds", 0...3_600_000).map { Duration.milliseconds($0) } ?? fallback.base
        let cap = try number("retry.capMilliseconds", 0...86_400_000).map { Duration.milliseconds($0) } ?? fallback.cap
        guard cap >= base else {
            throw ValidationError(field: "retry.capMilliseconds", rule: .format, message: "must not be below retry.baseMilliseconds")
        }
        return RetryPolicy(base: base, cap: cap, maxAttempts: attempts)
    }
}
