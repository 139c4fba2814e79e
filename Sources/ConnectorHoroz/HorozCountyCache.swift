import Foundation
import KopruCore
import Synchronization

/// Horoz's county list, kept per base URL for the process and refreshed when older than the
/// connection's maximum age (a day by default). If a refresh fails the old list serves on: a
/// county list changes a few times a year, an outage should not stop shipping.
public final class HorozCountyCache: Sendable {
    private struct Entry {
        var places: [CountyDirectory.Place]
        var fetchedAt: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    func places(
        for key: String, maxAge: Duration, fetch: () async throws -> [CountyDirectory.Place]
    ) async throws -> [CountyDirectory.Place] {
        let now = ContinuousClock.now
        let cached = entries.withLock { $0[key] }
        if let cached, now - cached.fetchedAt < maxAge { return cached.places }
        do {
            let places = try await fetch()
            entries.withLock { $0[key] = Entry(places: places, fetchedAt: now) }
            return places
        } catch {
            guard let cached else { throw error }
            return cached.places
        }
    }

    /// Forgets every list, so the next shipment reads it again (e.g. after Horoz added a county).
    public func invalidate() { entries.withLock { $0.removeAll() } }
}
