/// A secret value (API key, password, signing key) that prints as a mask, so that logging a
/// configuration or an error can never leak it. Only `reveal()` gives the text.
/// Deliberately not `Codable`: a secret reaches the store only through its encryption.
public struct Secret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    public func reveal() -> String { value }

    /// "••••1234" for long secrets, "••••" for short ones (whose tail would say too much).
    public var masked: String { value.count >= 12 ? "••••" + value.suffix(4) : "••••" }

    public var description: String { masked }
    public var debugDescription: String { masked }

}
