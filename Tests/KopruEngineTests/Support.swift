import Foundation
import KopruStore
import Synchronization

/// Deterministic random numbers for jitter tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Waits for a condition without fixed sleeps: checks often, fails after the timeout.
func eventually(
    _ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TimedOut(what: what)
}

/// A counter shared with handlers.
final class Counter: Sendable {
    private let values = Mutex<[String: Int]>([:])
    func add(_ key: String, _ amount: Int = 1) -> Int { values.withLock { $0[key, default: 0] += amount; return $0[key]! } }
    subscript(key: String) -> Int { values.withLock { $0[key, default: 0] } }
}
