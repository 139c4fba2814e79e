import Foundation
import KopruCore
import Synchronization

/// A token bucket per connection: `rate` requests a second on average, `burst` at once.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[ConnectionID: Bucket]>([:])

    /// nil if admitted; else how many whole seconds until a request would be.
    func admit(_ connection: ConnectionID, rate: Double, burst: Double, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[connection] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated).seconds * rate)
            bucket.updated = now
            defer { buckets[connection] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}
