import Foundation
import KopruCore
import KopruStore
import PostgresNIO

extension PostgresStore: RateBudgetStore {
    /// The row is created first so `FOR UPDATE` has something to lock: two processes reserving
    /// on one budget take turns instead of both reading the same arrival time.
    public func updateBudget<T: Sendable>(
        _ key: String, _ decide: @Sendable (Date?) -> (arrival: Date?, result: T)
    ) async throws -> T {
        try await transaction { connection in
            try await connection.query(
                "INSERT INTO rate_budgets (key, arrival_at) VALUES (\(key), -1) ON CONFLICT (key) DO NOTHING", logger: logger)
            let stored = try await connection.query(
                "SELECT arrival_at FROM rate_budgets WHERE key = \(key) FOR UPDATE", logger: logger
            ).first(decoding: Int64.self)
            let (arrival, result) = decide(stored.flatMap { $0 < 0 ? nil : Date(millisecondsSince1970: $0) })
            if let arrival {
                try await connection.query(
                    "UPDATE rate_budgets SET arrival_at = \(arrival.millisecondsSince1970) WHERE key = \(key)", logger: logger)
            }
            return result
        }
    }
}

extension PostgresStore: StockReservationStore {
    func reserve(_ reservations: [StockReservation], _ connection: PostgresConnection) async throws {
        guard !reservations.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO stock_reservations (order_key, sku, quantity)
            SELECT * FROM unnest(\(reservations.map(\.order))::TEXT[], \(reservations.map(\.sku))::TEXT[],
                                 \(reservations.map(\.quantity))::INTEGER[])
            ON CONFLICT (order_key, sku) DO UPDATE SET quantity = excluded.quantity
            WHERE stock_reservations.released_at IS NULL
            """, logger: logger)
    }

    func release(order: String, at: Date, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE stock_reservations SET released_at = \(at.millisecondsSince1970)
            WHERE order_key = \(order) AND released_at IS NULL
            """, logger: logger)
    }

    public func reservedQuantities(skus: [String], asOf: Date) async throws -> [String: Int] {
        var found: [String: Int] = [:]
        for start in stride(from: 0, to: skus.count, by: 5000) {
            let chunk = Array(skus[start..<min(start + 5000, skus.count)])
            let rows = try await client.query(
                """
                SELECT sku, SUM(quantity)::BIGINT FROM stock_reservations
                WHERE sku = ANY(\(chunk)) AND (released_at IS NULL OR released_at >= \(asOf.millisecondsSince1970))
                GROUP BY sku
                """, logger: logger)
            for try await (sku, held) in rows.decode((String, Int64).self) { found[sku] = Int(held) }
        }
        return found
    }

    public func reservedQuantities(asOf: Date) async throws -> [String: Int] {
        var found: [String: Int] = [:]
        let rows = try await client.query(
            """
            SELECT sku, SUM(quantity)::BIGINT FROM stock_reservations
            WHERE released_at IS NULL OR released_at >= \(asOf.millisecondsSince1970) GROUP BY sku
            """, logger: logger)
        for try await (sku, held) in rows.decode((String, Int64).self) { found[sku] = Int(held) }
        return found
    }

    public func purgeReservations(releasedBefore cutoff: Date) async throws -> Int {
        try await transaction { connection in
            try await connection.query(
                "DELETE FROM stock_reservations WHERE released_at < \(cutoff.millisecondsSince1970) RETURNING 1", logger: logger
            ).all(decoding: Int.self).count
        }
    }
}

extension PostgresStore: SyncRunStore {
    func updateSyncRun(_ update: SyncRunUpdate, _ connection: PostgresConnection) async throws {
        let at = update.at.millisecondsSince1970
        try await connection.query(
            """
            INSERT INTO sync_runs (id, flow, target, started_at, updated_at, read, read_done, queued, confirmed, refused)
            VALUES (\(update.run), \(update.flow), \(update.target.rawValue), \(at), \(at), \(Int64(update.read)),
                    \(update.readDone), \(Int64(update.queued)), \(Int64(update.confirmed)), \(Int64(update.refused)))
            ON CONFLICT (id) DO UPDATE SET
                updated_at = GREATEST(sync_runs.updated_at, excluded.updated_at), read = GREATEST(sync_runs.read, excluded.read),
                read_done = sync_runs.read_done OR excluded.read_done, queued = sync_runs.queued + excluded.queued,
                confirmed = sync_runs.confirmed + excluded.confirmed, refused = sync_runs.refused + excluded.refused
            """, logger: logger)
    }

    public func updateSyncRun(_ update: SyncRunUpdate) async throws {
        try await transaction { connection in try await self.updateSyncRun(update, connection) }
    }

    public func syncRun(_ id: String) async throws -> SyncRun? {
        let rows = try await client.query("SELECT \(unescaped: Self.syncRunColumns) FROM sync_runs WHERE id = \(id)", logger: logger)
        for try await row in rows { return try Self.syncRun(row) }
        return nil
    }

    public func syncRuns(target: ConnectionID?, limit: Int) async throws -> [SyncRun] {
        let rows =
            if let target {
                try await client.query(
                    """
                    SELECT \(unescaped: Self.syncRunColumns) FROM sync_runs WHERE target = \(target.rawValue)
                    ORDER BY started_at DESC, id DESC LIMIT \(limit)
                    """, logger: logger)
            } else {
                try await client.query(
                    "SELECT \(unescaped: Self.syncRunColumns) FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT \(limit)",
                    logger: logger)
            }
        var runs: [SyncRun] = []
        for try await row in rows { runs.append(try Self.syncRun(row)) }
        return runs
    }

    static let syncRunColumns = "id, flow, target, started_at, updated_at, read, read_done, queued, confirmed, refused"

    static func syncRun(_ row: PostgresRow) throws -> SyncRun {
        let (id, flow, target, started, updated, read, readDone, queued, confirmed, refused) = try row.decode(
            (String, String, String, Int64, Int64, Int64, Bool, Int64, Int64, Int64).self)
        return SyncRun(
            id: id, flow: flow, target: ConnectionID(target), startedAt: Date(millisecondsSince1970: started),
            updatedAt: Date(millisecondsSince1970: updated), read: Int(read), queued: Int(queued), confirmed: Int(confirmed),
            refused: Int(refused), readDone: readDone)
    }
}
