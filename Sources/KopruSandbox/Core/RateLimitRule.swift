import Foundation

/// A platform's request limit as the sandbox enforces it: at most `requests` in any window of
/// `window` seconds, over a group of routes. A sliding window is the strictest reading of
/// "80 requests per minute": it refuses the bursts a token bucket would let through.
public struct RateLimitRule: Sendable, Hashable {
    public var requests: Int
    public var window: TimeInterval

    public init(requests: Int, window: TimeInterval) {
        self.requests = max(1, requests)
        self.window = window
    }
}

/// The arrival times each limited group has accepted within its window.
struct RateLimitBook: Sendable {
    var rules: [String: RateLimitRule] = [:]
    var groupOfRoute: [String: String] = [:]
    var accepted: [String: [Date]] = [:]

    /// Nil if the request may pass (and it is counted), else seconds until it could.
    mutating func admit(route: String, at now: Date) -> TimeInterval? {
        guard let group = groupOfRoute[route], let rule = rules[group] else { return nil }
        var times = accepted[group, default: []]
        let cutoff = now.addingTimeInterval(-rule.window)
        if let firstKept = times.firstIndex(where: { $0 > cutoff }) {
            times.removeFirst(firstKept)
        } else {
            times.removeAll()
        }
        guard times.count < rule.requests else {
            accepted[group] = times
            return times[0].addingTimeInterval(rule.window).timeIntervalSince(now)
        }
        times.append(now)
        accepted[group] = times
        return nil
    }
}
