import Foundation
import GRDB
import KopruCore
import KopruStore

extension SQLiteStore: RateBudgetStore {
    public func updateBudget<T: Sendable>(
        _ key: String, _ decide: @Sendable (Date?) -> (arrival: Date?, result: T)
    ) async throws -> T {
        try await pool.write { db in
            let stored = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT arrival_at FROM rate_budgets WHERE key = ?"), arguments: [key])
            let (arrival, result) = decide(stored.map(Date.init(millisecondsSince1970:)))
            if let arrival {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO rate_budgets (key, arrival_at) VALUES (?, ?)
                        ON CONFLICT (key) DO UPDATE SET arrival_at = excluded.arrival_at
                        """
                ).execute(arguments: [key, arrival.ms])
            }
            return result
        }
    }
}

extension SQLiteStore: StockReservationStore {
    static func reserve(_ reservations: [StockReservation], _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO stock_reservations (order_key, sku, quantity) VALUES (?, ?, ?)
                ON CONFLICT (order_key, sku) DO UPDATE SET quantity = excluded.quantity
                WHERE stock_reservations.released_at IS NULL
                """)
        for reservation in reservations {
            try statement.execute(arguments: [reservation.order, reservation.sku, reservation.quantity])
        }
    }

    static func release(order: String, at: Date, _ db: Database) throws {
        try db.cachedStatement(
            sql: "UPDATE stock_reservations SET released_at = ? WHERE order_key = ? AND released_at IS NULL"
        ).execute(arguments: [at.ms, order])
    }

    public func reservedQuantities(skus: [String], asOf: Date) async throws -> [String: Int] {
        try await pool.read { db in
            var found: [String: Int] = [:]
            for start in stride(from: 0, to: skus.count, by: 2000) {
                let chunk = Array(skus[start..<min(start + 2000, skus.count)])
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT sku, SUM(quantity) AS held FROM stock_reservations
                        WHERE sku IN (\(placeholders(chunk.count))) AND (released_at IS NULL OR released_at >= ?)
                        GROUP BY sku
                        """,
                    arguments: StatementArguments(chunk) + [asOf.ms])
                for row in rows { found[row["sku"]] = row["held"] }
            }
            return found
        }
    }

    public func reservedQuantities(asOf: Date) async throws -> [String: Int] {
        try await pool.read { db in
            var found: [String: Int] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT sku, SUM(quantity) FROM stock_reservations
                    WHERE released_at IS NULL OR released_at >= ? GROUP BY sku
                    """,
                arguments: [asOf.ms])
            while let row = try rows.next() { found[row[0]] = row[1] as Int }
            return found
        }
    }

    public func purgeReservations(releasedBefore cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM stock_reservations WHERE released_at < ?", arguments: [cutoff.ms])
            return db.changesCount
        }
    }
}

extension SQLiteStore: SyncRunStore {
    static func updateSyncRun(_ update: SyncRunUpdate, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO sync_runs (id, flow, target, started_at, updated_at, read, read_done, queued, confirmed, refused)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    updated_at = MAX(updated_at, excluded.updated_at), read = MAX(read, excluded.read),
                    read_done = MAX(read_done, excluded.read_done), queued = queued + excluded.queued,
                    confirmed = confirmed + excluded.confirmed, refused = refused + excluded.refused
                """
        ).execute(arguments: [
            update.run, update.flow, update.target.rawValue, update.at.ms, update.at.ms, update.read, update.readDone,
            update.queued, update.confirmed, update.refused,
        ])
    }

    public func updateSyncRun(_ update: SyncRunUpdate) async throws {
        try await pool.write { db in try Self.updateSyncRun(update, db) }
    }

    public func syncRun(_ id: String) async throws -> SyncRun? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sync_runs WHERE id = ?", arguments: [id]).map(Self.syncRun)
        }
    }

    public func syncRuns(target: ConnectionID?, limit: Int) async throws -> [SyncRun] {
        try await pool.read { db in
            let rows =
                if let target {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM sync_runs WHERE target = ? ORDER BY started_at DESC, id DESC LIMIT ?",
                        arguments: [target.rawValue, limit])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT ?", arguments: [limit])
                }
            return rows.map(Self.syncRun)
        }
    }

    static func syncRun(_ row: Row) -> SyncRun {
        SyncRun(
            id: row["id"], flow: row["flow"], target: ConnectionID(row["target"] as String),
            startedAt: Date(millisecondsSince1970: row["started_at"]), updatedAt: Date(millisecondsSince1970: row["updated_at"]),
            read: row["read"], queued: row["queued"], confirmed: row["confirmed"], refused: row["refused"],
            readDone: row["read_done"])
    }
}
