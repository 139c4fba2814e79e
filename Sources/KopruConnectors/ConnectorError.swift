import Foundation

/// How a connector classifies every failure, so that the engine (never the connector) decides
/// what happens next. A struct over a private enum, as Hummingbird's errors are: cases can be
/// added without breaking anyone's `switch` on `disposition`.
public struct ConnectorError: Error, Sendable, CustomStringConvertible {
    public enum Disposition: Sendable, Equatable {
        /// A passing fault (timeout, 5xx, dropped connection): try again, after `after` if the
        /// target said when, else by the retry policy.
        case retryable(after: Duration?)
        /// The target asked us to slow down; run again after the delay without spending an attempt.
        case rateLimited(retryAfter: Duration)
        /// Bad data: retrying cannot help. Goes to the dead letters with the message.
        case permanent
        /// Credentials refused: retrying with the same ones cannot help until an operator acts.
        case authentication
        /// The target already has this record (e.g. Horoz ERR-20003): count it as done.
        case alreadyDone(reference: String?)
        /// The target is down and the hub did not call it (its circuit is open): run again after
        /// the delay without spending an attempt. Nothing was sent.
        case unavailable(retryAfter: Duration)
    }

    public let disposition: Disposition
    public let message: String
    /// The field at fault, for permanent failures caused by one.
    public let field: String?
    /// False for a retryable failure known to have happened before anything was sent.
    private let mayHaveSent: Bool

    private init(_ disposition: Disposition, _ message: String, field: String? = nil, mayHaveSent: Bool = true) {
        self.disposition = disposition
        self.message = message
        self.field = field
        self.mayHaveSent = mayHaveSent
    }

    public static func retryable(_ message: String, after: Duration? = nil) -> ConnectorError {
        ConnectorError(.retryable(after: after), message)
    }
    /// A passing fault before the request left the hub (no connection to the target, or none
    /// free in time): retried like any other, but the target cannot have acted.
    public static func notSent(_ message: String) -> ConnectorError {
        ConnectorError(.retryable(after: nil), message, mayHaveSent: false)
    }
    public static func rateLimited(_ message: String, retryAfter: Duration) -> ConnectorError {
        ConnectorError(.rateLimited(retryAfter: retryAfter), message)
    }
    public static func permanent(_ message: String, field: String? = nil) -> ConnectorError {
        ConnectorError(.permanent, message, field: field)
    }
    public static func authentication(_ message: String) -> ConnectorError { ConnectorError(.authentication, message) }
    public static func alreadyDone(_ message: String, reference: String? = nil) -> ConnectorError {
        ConnectorError(.alreadyDone(reference: reference), message)
    }

    public static func unavailable(_ message: String, retryAfter: Duration) -> ConnectorError {
        ConnectorError(.unavailable(retryAfter: retryAfter), message)
    }

    public var description: String { field.map { "\(message) (field: \($0))" } ?? message }

    /// Whether the effect may have landed although the call failed. A passing fault is read that
    /// way (a timeout, a dropped connection, a 5xx after the target saved): asking the target
    /// again costs a lookup, guessing wrong costs a double. A refusal (permanent, authentication,
    /// rate limit, an open circuit) means the target did not act.
    public var outcomeUnknown: Bool {
        if case .retryable = disposition { return mayHaveSent }
        return false
    }
}
