import KopruCore

/// Errors from any store. A struct over a private enum (as Hummingbird's errors are) so cases
/// can be added without breaking anyone's `switch`. Messages never include bound values that
/// could be secrets.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case notFound
        case conflict
        case invalidState
        case decryption
        case unavailable
        case failed
    }

    private let code: Code
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func notFound(_ what: String) -> StoreError { StoreError(.notFound, "\(what) not found") }
    public static func conflict(_ message: String) -> StoreError { StoreError(.conflict, message) }
    public static func invalidState(_ message: String) -> StoreError { StoreError(.invalidState, message) }
    public static func decryption(_ message: String) -> StoreError { StoreError(.decryption, message) }
    public static func unavailable(_ message: String) -> StoreError { StoreError(.unavailable, message) }
    /// The database refused a statement (a constraint, a type): not an outage, retrying the same
    /// statement will not help by itself.
    public static func failed(_ message: String) -> StoreError { StoreError(.failed, message) }

    public static let wrongMasterKey = StoreError(
        .decryption,
        "the master key does not match the one this store's secrets are sealed with (wrong KOPRU_MASTER_KEY or key file?)")

    public var isNotFound: Bool { code == .notFound }
    public var isConflict: Bool { code == .conflict }
    public var isInvalidState: Bool { code == .invalidState }
    /// The store itself cannot be used now (unreachable, restarting, busy, out of disk).
    public var isUnavailable: Bool { code == .unavailable }

    public var description: String { message }

    public static func bindingConflict(_ binding: Binding) -> StoreError {
        .conflict(
            "binding conflict on \(binding.connection)/\(binding.entity): external id \(binding.externalID) or internal id \(binding.internalID) is already bound to another record")
    }
}
