import Foundation
import KopruCore
import KopruStore

/// One behaviour every store must have, runnable against any store.
public struct ContractCase: Sendable, CustomStringConvertible {
    public let name: String
    public let run: @Sendable (any Store) async throws -> Void

    public var description: String { name }
}

/// The one contract suite for the store protocol. Each store's tests run every case against a
/// fresh, migrated store: `@Test(arguments: StoreContract.cases)`.
public enum StoreContract {
    public static let cases: [ContractCase] = queueCases + recordCases + intakeCases + stockCases + circuitCases + orderCases

    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    static func job(
        _ key: String, kind: String = "test.kind", priority: Int = 0, runAt: Date? = nil, ordering: String? = nil,
        coalescing: String? = nil, connection: ConnectionID? = nil, payload: String = "{}"
    ) -> NewJob {
        NewJob(
            kind: kind, idempotencyKey: key, payload: Data(payload.utf8), priority: priority, runAt: runAt,
            orderingKey: ordering, coalescingKey: coalescing, connection: connection)
    }

    static func claim(
        _ store: any Store, at now: Date = t0, limit: Int = 100, lease: TimeInterval = 3600, kinds: Set<String>? = nil,
        excluding: Set<ConnectionID> = []
    ) async throws -> [ClaimedJob] {
        try await store.claim(
            ClaimRequest(
                owner: "worker-test", limit: limit, leaseDuration: lease, now: now, kinds: kinds, excludingConnections: excluding))
    }

    static func keys(_ claimed: [ClaimedJob]) -> [String] { claimed.map(\.job.idempotencyKey) }
}
