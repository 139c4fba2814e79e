import Foundation
import KopruConnectors
import KopruStore
import Testing

@testable import KopruEngine

@Suite("Retry policy and failure classification")
struct RetryPolicyTests {
    @Test("the ceiling doubles from the base and stops at the cap")
    func ceiling() {
        let policy = RetryPolicy.exponentialJitter(base: .seconds(2), cap: .seconds(60), maxAttempts: 10)
        #expect(policy.ceiling(afterAttempt: 1) == .seconds(2))
        #expect(policy.ceiling(afterAttempt: 2) == .seconds(4))
        #expect(policy.ceiling(afterAttempt: 5) == .seconds(32))
        #expect(policy.ceiling(afterAttempt: 6) == .seconds(60))
        #expect(policy.ceiling(afterAttempt: 60) == .seconds(60))
    }

    @Test("full jitter: every delay lies in [0, ceiling] and the spread covers the range")
    func jitterBounds() {
        let policy = RetryPolicy.exponentialJitter(base: .milliseconds(500), cap: .seconds(300), maxAttempts: 12)
        var generator = SeededGenerator(state: 42)
        for attempt in 1...12 {
            let ceiling = policy.ceiling(afterAttempt: attempt)
            var samples: [Duration] = []
            for _ in 0..<400 { samples.append(policy.delay(afterAttempt: attempt, using: &generator)) }
            #expect(samples.allSatisfy { $0 >= .zero && $0 <= ceiling }, "attempt \(attempt)")
            #expect(Set(samples).count > 100, "attempt \(attempt) delays are spread, not fixed")
            #expect(samples.min()! < ceiling / 8)
            #expect(samples.max()! > ceiling * 7 / 8)
        }
    }

    @Test("don't retry means one attempt and no delay")
    func dontRetry() {
        var generator = SeededGenerator(state: 1)
        #expect(RetryPolicy.dontRetry.maxAttempts == 1)
        #expect(RetryPolicy.dontRetry.delay(afterAttempt: 1, using: &generator) == .zero)
    }

    @Test("each classified failure becomes the outcome DESIGN.md names")
    func classification() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let policy = RetryPolicy.exponentialJitter(base: .seconds(1), cap: .seconds(10), maxAttempts: 3)
        let classify = FailureClassification()
        func outcome(_ error: any Error, attempt: Int = 1) -> JobOutcome {
            classify.outcome(for: error, attempt: attempt, policy: policy, now: now).outcome
        }
        #expect(outcome(ConnectorError.retryable("502", after: .seconds(7))) == .retry(at: now.addingTimeInterval(7), error: "502"))
        if case .retry(let at, _) = outcome(ConnectorError.retryable("timeout")) {
            #expect(at >= now && at <= now.addingTimeInterval(1))
        } else {
            Issue.record("a retryable failure should retry")
        }
        #expect(outcome(ConnectorError.retryable("timeout"), attempt: 3) == .dead(reason: "gave up after 3 attempts: timeout"))
        #expect(
            outcome(ConnectorError.rateLimited("429", retryAfter: .seconds(30)), attempt: 3)
                == .reschedule(at: now.addingTimeInterval(30), reason: "rate limited: 429"))
        #expect(
            outcome(ConnectorError.permanent("city not found", field: "recipientCity"))
                == .dead(reason: "city not found (field: recipientCity)"))
        #expect(outcome(ConnectorError.alreadyDone("ERR-20003", reference: "R-1")) == .succeeded)
        if case .reschedule(let at, let reason) = outcome(ConnectorError.authentication("ERR-20001")) {
            #expect(at == now.addingTimeInterval(300))
            #expect(reason.contains("authentication failed"))
        } else {
            Issue.record("an authentication failure should defer without spending attempts")
        }
        struct Unknown: Error {}
        if case .retry = outcome(Unknown()) {} else { Issue.record("an unclassified error should retry") }
        if case .dead = outcome(DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad"))) {} else {
            Issue.record("an undecodable payload is permanent")
        }
    }
}
