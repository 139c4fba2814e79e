import Foundation

/// How far a system's clocks may be from the hub's, either way (`clock.skewSeconds` on its
/// connection): a shop whose web nodes disagree by minutes stamps a late-written order with an
/// `updated_at` before rows already read, and signs webhooks with a time the hub thinks stale.
/// Polls of its feeds look back at least this far, and its signature window is this much wider.
public enum ClockSkew {
    public static let settingKey = "clock.skewSeconds"
    public static let limit = 86_400

    /// The connection's setting, zero when absent; a bad value names the setting.
    public static func from(settings: [String: String]) throws(ConnectorError) -> Duration {
        guard let text = settings[settingKey]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return .zero }
        guard let seconds = Int(text), (0...limit).contains(seconds) else {
            throw .permanent("must be a whole number of seconds from 0 to \(limit)", field: "settings.\(settingKey)")
        }
        return .seconds(seconds)
    }
}
