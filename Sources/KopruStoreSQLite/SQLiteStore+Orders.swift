import Foundation
import GRDB
import KopruCore
import KopruStore

extension SQLiteStore: OrderIndexStore {
    /// As `OrderRecord.pendingExport`; the partial index `orders_pending` covers the first two terms.
    static let pendingExport = "export_queued_at IS NOT NULL AND exported_at IS NULL AND status <> 'cancelled'"

    static func recordOrder(_ order: OrderRecord, _ db: Database) throws {
        // A later sighting updates what the channel says; the first sighting, the first queueing
        // and the export stay (OrderRecord.updated(by:)).
        try db.cachedStatement(
            sql: """
                INSERT INTO orders (id, connection_id, external_id, number, number_reversed, status, total, currency, placed_at,
                    first_seen_at, updated_at, seen_via, export_queued_at, export_target)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    connection_id = excluded.connection_id, external_id = excluded.external_id, number = excluded.number,
                    number_reversed = excluded.number_reversed,
                    status = excluded.status, total = excluded.total, currency = excluded.currency, placed_at = excluded.placed_at,
                    updated_at = excluded.updated_at,
                    export_queued_at = COALESCE(orders.export_queued_at, excluded.export_queued_at),
                    export_target = COALESCE(orders.export_target, excluded.export_target)
                """
        ).execute(arguments: [
            order.id, order.connection.rawValue, order.externalID, order.number, String(order.number.reversed()), order.status,
            order.total, order.currency,
            order.placedAt?.ms, order.firstSeenAt.ms, order.updatedAt.ms, order.seenVia, order.exportQueuedAt?.ms,
            order.exportTarget?.rawValue,
        ])
    }

    static func recordOrderExport(_ id: String, target: ConnectionID, reference: String, at: Date, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE orders SET export_target = ?, export_reference = ?, exported_at = ?
                WHERE id = ? AND exported_at IS NULL AND (export_target IS NULL OR export_target = ?)
                """
        ).execute(arguments: [target.rawValue, reference, at.ms, id, target.rawValue])
    }

    public func orders(_ filter: OrderFilter) async throws -> [OrderRecord] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let connection = filter.connection {
            conditions.append("connection_id = ?")
            arguments.append(connection.rawValue)
        }
        if let number = filter.number {
            // The number's end is the reversed number's start: a range the index answers. GLOB
            // (case-sensitive, as the index is) with its wildcards made literal.
            let escaped = String(number.reversed()).map { "*?[".contains($0) ? "[\($0)]" : String($0) }.joined()
            conditions.append("id IN (SELECT id FROM orders WHERE number_reversed GLOB ?)")
            arguments.append(escaped + "*")
        }
        if filter.pendingExportOnly { conditions.append(Self.pendingExport) }
        if let before = filter.before {
            conditions.append("(first_seen_at < ? OR (first_seen_at = ? AND id < ?))")
            arguments += [before.firstSeenAt.ms, before.firstSeenAt.ms, before.id]
        }
        arguments.append(filter.limit)
        let sql =
            "SELECT * FROM orders \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) "
            + "ORDER BY first_seen_at DESC, id DESC LIMIT ?"
        let bound = StatementArguments(arguments)
        return try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.decodeOrder) }
    }

    public func order(id: String) async throws -> OrderRecord? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM orders WHERE id = ?"), arguments: [id]).map(Self.decodeOrder)
        }
    }

    public func orderTotals(since: Date) async throws -> OrderTotals {
        try await pool.read { db in
            let all = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders") ?? 0
            let recent = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE first_seen_at >= ?", arguments: [since.ms]) ?? 0
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE \(Self.pendingExport)") ?? 0
            return OrderTotals(all: all, since: recent, pendingExport: pending)
        }
    }

    private static func decodeOrder(_ row: Row) -> OrderRecord {
        OrderRecord(
            id: row["id"], connection: ConnectionID(row["connection_id"] as String), externalID: row["external_id"], number: row["number"],
            status: row["status"], total: row["total"], currency: row["currency"], placedAt: row.optionalDate("placed_at"),
            firstSeenAt: row.date("first_seen_at"), updatedAt: row.date("updated_at"), seenVia: row["seen_via"],
            exportQueuedAt: row.optionalDate("export_queued_at"), exportTarget: (row["export_target"] as String?).map { ConnectionID($0) },
            exportReference: row["export_reference"], exportedAt: row.optionalDate("exported_at"))
    }
}
