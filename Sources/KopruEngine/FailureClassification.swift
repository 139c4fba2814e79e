import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// Turns what a handler did into what the store records. The one place retry decisions live.
struct FailureClassification: Sendable {
    /// How long to leave a connection alone after its credentials were refused.
    var authenticationBackoff: Duration = .seconds(300)
    /// Whether an error means the hub's own store cannot be used now (`Store.unavailability(of:)`).
    var storeUnavailability: @Sendable (any Error) -> String? = { _ in nil }
    /// How soon a job that met the store unavailable runs again.
    var storeRetry: Duration = .seconds(2)

    /// `checkBeforeGivingUp`: the last attempt's failure does not dead-letter the job yet; it
    /// comes back once more to ask the target whether an uncertain attempt landed.
    func outcome(
        for error: any Error, attempt: Int, policy: RetryPolicy, now: Date, checkBeforeGivingUp: Bool = false
    ) -> (outcome: JobOutcome, level: EventLevel) {
        func retry(_ message: String, after: Duration?) -> (JobOutcome, EventLevel) {
            if attempt >= policy.maxAttempts, !checkBeforeGivingUp {
                return (.dead(reason: "gave up after \(attempt) attempts: \(message)"), .error)
            }
            let delay = after ?? policy.delay(afterAttempt: attempt)
            return (.retry(at: now.addingTimeInterval(delay.seconds), error: message), .warning)
        }
        if let reason = storeUnavailability(error) {
            // The hub's own store, not the target: no attempt is spent on it.
            return (.reschedule(at: now.addingTimeInterval(storeRetry.seconds), reason: "store unavailable: \(reason)"), .warning)
        }
        switch error {
        case let error as ConnectorError:
            switch error.disposition {
            case .retryable(let after): return retry(error.description, after: after)
            case .rateLimited(let retryAfter):
                return (.reschedule(at: now.addingTimeInterval(retryAfter.seconds), reason: "rate limited: \(error.message)"), .notice)
            case .permanent: return (.dead(reason: error.description), .error)
            case .authentication:
                return (
                    .reschedule(
                        at: now.addingTimeInterval(authenticationBackoff.seconds),
                        reason: "authentication failed: \(error.message); fix the connection's credentials"),
                    .critical
                )
            case .alreadyDone: return (.succeeded, .info)
            case .unavailable(let retryAfter):
                return (.reschedule(at: now.addingTimeInterval(retryAfter.seconds), reason: "target down: \(error.message)"), .notice)
            }
        case let error as ValidationErrors: return (.dead(reason: "invalid: \(error)"), .error)
        case let error as ValidationError: return (.dead(reason: "invalid: \(error)"), .error)
        case is DecodingError: return (.dead(reason: "payload cannot be decoded: \(error)"), .error)
        default: return retry("\(error)", after: nil)
        }
    }

    /// Whether an attempt that failed so may have had its effect. Bad data and a payload that
    /// cannot be read never left the hub; an unclassified error might have come after sending.
    func outcomeUnknown(_ error: any Error) -> Bool {
        // Handlers read the store before they send and leave their writes to the completion, so
        // a store failure inside one means nothing was sent.
        if storeUnavailability(error) != nil { return false }
        return switch error {
        case let error as ConnectorError: error.outcomeUnknown
        case is ValidationErrors, is ValidationError, is DecodingError: false
        default: true
        }
    }
}
