import Foundation
import KopruCore
import KopruStore
import PostgresNIO

extension PostgresStore: OrderIndexStore {
    func recordOrder(_ order: OrderRecord, _ connection: PostgresConnection) async throws {
        // A later sighting updates what the channel says; the first sighting, the first queueing
        // and the export stay (OrderRecord.updated(by:)).
        try await connection.query(
            """
            INSERT INTO orders (id, connection_id, external_id, number, number_reversed, status, total, currency, placed_at,
                first_seen_at, updated_at, seen_via, export_queued_at, export_target)
            VALUES (\(order.id), \(order.connection.rawValue), \(order.externalID), \(order.number), \(String(order.number.reversed())),
                \(order.status), \(order.total),
                \(order.currency), \(order.placedAt?.millisecondsSince1970), \(order.firstSeenAt.millisecondsSince1970),
                \(order.updatedAt.millisecondsSince1970), \(order.seenVia), \(order.exportQueuedAt?.millisecondsSince1970),
                \(order.exportTarget?.rawValue))
            ON CONFLICT (id) DO UPDATE SET
                connection_id = excluded.connection_id, external_id = excluded.external_id, number = excluded.number,
                number_reversed = excluded.number_reversed, status = excluded.status, total = excluded.total, currency = excluded.currency, placed_at = excluded.placed_at,
                updated_at = excluded.updated_at,
                export_queued_at = COALESCE(orders.export_queued_at, excluded.export_queued_at),
                export_target = COALESCE(orders.export_target, excluded.export_target)
            """, logger: logger)
    }

    func recordOrderExport(_ id: String, target: ConnectionID, reference: String, at: Date, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE orders SET export_target = \(target.rawValue), export_reference = \(reference), exported_at = \(at.millisecondsSince1970)
            WHERE id = \(id) AND exported_at IS NULL AND (export_target IS NULL OR export_target = \(target.rawValue))
            """, logger: logger)
    }

    public func orders(_ filter: OrderFilter) async throws -> [OrderRecord] {
        var builder = SQLBuilder("SELECT * FROM orders WHERE TRUE")
        if let connection = filter.connection { try builder.and("connection_id =", connection.rawValue) }
        if let number = filter.number {
            let escaped = String(number.reversed()).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            // The number's end is the reversed number's start: a prefix the text_pattern_ops index answers.
            try builder.and("number_reversed LIKE", escaped + "%")
        }
        if filter.pendingExportOnly { builder.append(" AND export_queued_at IS NOT NULL AND exported_at IS NULL AND status <> 'cancelled'") }
        if let before = filter.before {
            try builder.and("(first_seen_at <", before.firstSeenAt.millisecondsSince1970)
            builder.append(" OR (first_seen_at = ")
            try builder.bind(before.firstSeenAt.millisecondsSince1970)
            builder.append(" AND id < ")
            try builder.bind(before.id)
            builder.append("))")
        }
        builder.append(" ORDER BY first_seen_at DESC, id DESC LIMIT ")
        try builder.bind(filter.limit)
        var orders: [OrderRecord] = []
        for try await row in try await client.query(builder.query, logger: logger) {
            orders.append(try Self.decodeOrder(row.makeRandomAccess()))
        }
        return orders
    }

    public func order(id: String) async throws -> OrderRecord? {
        for try await row in try await client.query("SELECT * FROM orders WHERE id = \(id)", logger: logger) {
            return try Self.decodeOrder(row.makeRandomAccess())
        }
        return nil
    }

    public func orderTotals(since: Date) async throws -> OrderTotals {
        let rows = try await client.query(
            """
            SELECT count(*), count(*) FILTER (WHERE first_seen_at >= \(since.millisecondsSince1970)),
                count(*) FILTER (WHERE export_queued_at IS NOT NULL AND exported_at IS NULL AND status <> 'cancelled')
            FROM orders
            """, logger: logger)
        for try await (all, recent, pending) in rows.decode((Int64, Int64, Int64).self) {
            return OrderTotals(all: Int(all), since: Int(recent), pendingExport: Int(pending))
        }
        return OrderTotals(all: 0, since: 0, pendingExport: 0)
    }

    private static func decodeOrder(_ row: PostgresRandomAccessRow) throws -> OrderRecord {
        func date(_ column: String) throws -> Date? { try row[column].decode(Int64?.self).map(Date.init(millisecondsSince1970:)) }
        return OrderRecord(
            id: try row["id"].decode(String.self), connection: ConnectionID(try row["connection_id"].decode(String.self)),
            externalID: try row["external_id"].decode(String.self), number: try row["number"].decode(String.self),
            status: try row["status"].decode(String.self), total: try row["total"].decode(String.self),
            currency: try row["currency"].decode(String.self), placedAt: try date("placed_at"),
            firstSeenAt: try date("first_seen_at") ?? Date(timeIntervalSince1970: 0), updatedAt: try date("updated_at") ?? Date(timeIntervalSince1970: 0),
            seenVia: try row["seen_via"].decode(String.self), exportQueuedAt: try date("export_queued_at"),
            exportTarget: try row["export_target"].decode(String?.self).map { ConnectionID($0) },
            exportReference: try row["export_reference"].decode(String?.self), exportedAt: try date("exported_at"))
    }
}
