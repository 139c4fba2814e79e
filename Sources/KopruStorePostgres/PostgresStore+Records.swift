import Foundation
import KopruCore
import KopruStore
import PostgresNIO

extension PostgresStore: BindingStore, CursorStore, SnapshotStore, EventLogStore, ScheduleStore, LeadershipStore {
    // MARK: bindings

    public func bind(_ binding: Binding) async throws {
        try await transaction { connection in try await self.bind(binding, connection) }
    }

    func bind(_ binding: Binding, _ connection: PostgresConnection) async throws {
        let inserted = try await connection.query(
            """
            INSERT INTO bindings (connection_id, entity, external_id, internal_id)
            VALUES (\(binding.connection.rawValue), \(binding.entity), \(binding.externalID), \(binding.internalID))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger
        ).first(decoding: Int.self)
        if inserted != nil { return }
        let exact = try await connection.query(
            """
            SELECT 1 FROM bindings WHERE connection_id = \(binding.connection.rawValue) AND entity = \(binding.entity)
              AND external_id = \(binding.externalID) AND internal_id = \(binding.internalID)
            """, logger: logger
        ).first(decoding: Int.self)
        if exact == nil { throw StoreError.bindingConflict(binding) }
    }

    public func binding(connection: ConnectionID, entity: String, externalID: String) async throws -> Binding? {
        let rows = try await client.query(
            """
            SELECT internal_id FROM bindings
            WHERE connection_id = \(connection.rawValue) AND entity = \(entity) AND external_id = \(externalID)
            """, logger: logger)
        return try await rows.first(decoding: String.self).map {
            Binding(connection: connection, entity: entity, externalID: externalID, internalID: $0)
        }
    }

    public func binding(connection: ConnectionID, entity: String, internalID: String) async throws -> Binding? {
        let rows = try await client.query(
            """
            SELECT external_id FROM bindings
            WHERE connection_id = \(connection.rawValue) AND entity = \(entity) AND internal_id = \(internalID)
            """, logger: logger)
        return try await rows.first(decoding: String.self).map {
            Binding(connection: connection, entity: entity, externalID: $0, internalID: internalID)
        }
    }

    // MARK: cursors

    public func cursor(connection: ConnectionID, name: String) async throws -> SyncCursor? {
        let rows = try await client.query(
            "SELECT value, updated_at FROM sync_cursors WHERE connection_id = \(connection.rawValue) AND name = \(name)",
            logger: logger)
        for try await (value, updatedAt) in rows.decode((String, Int64).self) {
            return SyncCursor(connection: connection, name: name, value: value, updatedAt: Date(millisecondsSince1970: updatedAt))
        }
        return nil
    }

    public func setCursor(_ cursor: SyncCursor) async throws {
        try await transaction { connection in try await self.setCursor(cursor, connection) }
    }

    func setCursor(_ cursor: SyncCursor, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO sync_cursors (connection_id, name, value, updated_at)
            VALUES (\(cursor.connection.rawValue), \(cursor.name), \(cursor.value), \(cursor.updatedAt.millisecondsSince1970))
            ON CONFLICT (connection_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, logger: logger)
    }

    // MARK: snapshots

    public func snapshots(connection: ConnectionID, entity: String, keys: [String]) async throws -> [String: String] {
        var found: [String: String] = [:]
        for start in stride(from: 0, to: keys.count, by: 5000) {
            let chunk = Array(keys[start..<min(start + 5000, keys.count)])
            let rows = try await client.query(
                """
                SELECT key, value FROM snapshots
                WHERE connection_id = \(connection.rawValue) AND entity = \(entity) AND key = ANY(\(chunk))
                """, logger: logger)
            for try await (key, value) in rows.decode((String, String).self) { found[key] = value }
        }
        return found
    }

    public func snapshots(connection: ConnectionID, entity: String, atMost limit: Int) async throws -> [String: String]? {
        var found: [String: String] = [:]
        let rows = try await client.query(
            """
            SELECT key, value FROM snapshots WHERE connection_id = \(connection.rawValue) AND entity = \(entity) LIMIT \(limit + 1)
            """, logger: logger)
        for try await (key, value) in rows.decode((String, String).self) {
            found[key] = value
            if found.count > limit { return nil }
        }
        return found
    }

    public func putSnapshots(_ entries: [SnapshotEntry]) async throws {
        try await transaction { connection in try await self.putSnapshots(entries, connection) }
    }

    /// One statement per chunk, through arrays, not one round trip per entry.
    func putSnapshots(_ entries: [SnapshotEntry], _ connection: PostgresConnection) async throws {
        for start in stride(from: 0, to: entries.count, by: 5000) {
            let chunk = entries[start..<min(start + 5000, entries.count)]
            try await connection.query(
                """
                INSERT INTO snapshots (connection_id, entity, key, value, confirmed_at)
                SELECT * FROM unnest(\(chunk.map(\.connection.rawValue))::TEXT[], \(chunk.map(\.entity))::TEXT[],
                                     \(chunk.map(\.key))::TEXT[], \(chunk.map(\.value))::TEXT[],
                                     \(chunk.map { $0.confirmedAt.millisecondsSince1970 })::BIGINT[])
                ON CONFLICT (connection_id, entity, key) DO UPDATE
                    SET value = excluded.value, confirmed_at = excluded.confirmed_at
                """, logger: logger)
        }
    }

    // MARK: events

    public func append(_ events: [EventRecord]) async throws {
        try await transaction { connection in try await self.append(events, connection) }
    }

    /// One statement for the lot, through arrays.
    func append(_ events: [EventRecord], _ connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        let details = try events.map { String(decoding: try JSONEncoder.kopru.encode($0.details), as: UTF8.self) }
        try await connection.query(
            """
            INSERT INTO events (at, level, level_rank, kind, connection_id, subject, message, details, duration_ms)
            SELECT at, level, level_rank, kind, CASE WHEN has_connection THEN connection_id END,
                   CASE WHEN has_subject THEN subject END, message, details, CASE WHEN has_duration THEN duration_ms END
            FROM unnest(\(events.map { $0.at.millisecondsSince1970 })::BIGINT[], \(events.map(\.level.rawValue))::TEXT[],
                        \(events.map(\.level.rank))::INTEGER[], \(events.map(\.kind))::TEXT[],
                        \(events.map { $0.connection?.rawValue ?? "" })::TEXT[], \(events.map { $0.connection != nil })::BOOLEAN[],
                        \(events.map { $0.subject ?? "" })::TEXT[], \(events.map { $0.subject != nil })::BOOLEAN[],
                        \(events.map(\.message))::TEXT[], \(details)::TEXT[],
                        \(events.map { Int64($0.durationMilliseconds ?? 0) })::BIGINT[],
                        \(events.map { $0.durationMilliseconds != nil })::BOOLEAN[])
                AS e(at, level, level_rank, kind, connection_id, has_connection, subject, has_subject, message, details,
                     duration_ms, has_duration)
            """, logger: logger)
    }

    public func events(_ filter: EventFilter) async throws -> [EventRecord] {
        var builder = SQLBuilder("SELECT * FROM events WHERE TRUE")
        if let connection = filter.connection { try builder.and("connection_id =", connection.rawValue) }
        if let level = filter.minimumLevel { try builder.and("level_rank >=", level.rank) }
        if let kind = filter.kind { try builder.and("kind =", kind) }
        if let subject = filter.subject { try builder.and("subject =", subject) }
        if let from = filter.from { try builder.and("at >=", from.millisecondsSince1970) }
        if let to = filter.to { try builder.and("at <", to.millisecondsSince1970) }
        if let before = filter.beforeID { try builder.and("id <", before) }
        builder.append(" ORDER BY id DESC LIMIT ")
        try builder.bind(filter.limit)
        var events: [EventRecord] = []
        for try await row in try await client.query(builder.query, logger: logger) {
            let row = row.makeRandomAccess()
            let details = try JSONDecoder.kopru.decode([String: String].self, from: Data(try row["details"].decode(String.self).utf8))
            events.append(
                EventRecord(
                    id: try row["id"].decode(Int64.self), at: Date(millisecondsSince1970: try row["at"].decode(Int64.self)),
                    level: EventLevel(rawValue: try row["level"].decode(String.self)) ?? .info, kind: try row["kind"].decode(String.self),
                    connection: try row["connection_id"].decode(String?.self).map { ConnectionID($0) },
                    subject: try row["subject"].decode(String?.self), message: try row["message"].decode(String.self),
                    details: details, durationMilliseconds: try row["duration_ms"].decode(Int64?.self).map { Int($0) }))
        }
        return events
    }

    public func purgeEvents(before cutoff: Date) async throws -> Int {
        let rows = try await client.query(
            "WITH purged AS (DELETE FROM events WHERE at < \(cutoff.millisecondsSince1970) RETURNING 1) SELECT count(*) FROM purged",
            logger: logger)
        return Int(try await rows.first(decoding: Int64.self) ?? 0)
    }

    // MARK: schedules

    public func nextFire(schedule: String) async throws -> Date? {
        try await client.query("SELECT next_fire_at FROM schedules WHERE name = \(schedule)", logger: logger)
            .first(decoding: Int64.self).map(Date.init(millisecondsSince1970:))
    }

    public func advanceSchedule(_ schedule: String, expected: Date?, next: Date, enqueue job: NewJob?, now: Date) async throws -> Bool {
        try await transaction { connection in
            let changed: Int?
            if let expected {
                changed = try await connection.query(
                    """
                    UPDATE schedules SET next_fire_at = \(next.millisecondsSince1970), updated_at = \(now.millisecondsSince1970)
                    WHERE name = \(schedule) AND next_fire_at = \(expected.millisecondsSince1970) RETURNING 1
                    """, logger: self.logger
                ).first(decoding: Int.self)
            } else {
                changed = try await connection.query(
                    """
                    INSERT INTO schedules (name, next_fire_at, updated_at)
                    VALUES (\(schedule), \(next.millisecondsSince1970), \(now.millisecondsSince1970))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: self.logger
                ).first(decoding: Int.self)
            }
            guard changed != nil else { return false }
            if let job, try await self.enqueue(job, now: now, connection).inserted {
                try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: self.logger)
            }
            return true
        }
    }

    // MARK: leadership

    public func acquireLeadership(_ role: String, holder: String, until: Date, now: Date) async throws -> Bool {
        let rows = try await client.query(
            """
            INSERT INTO leaders (role, holder, expires_at) VALUES (\(role), \(holder), \(until.millisecondsSince1970))
            ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE leaders.holder = excluded.holder OR leaders.expires_at <= \(now.millisecondsSince1970)
            RETURNING 1
            """, logger: logger)
        return try await rows.first(decoding: Int.self) != nil
    }

    public func resignLeadership(_ role: String, holder: String) async throws {
        try await client.query("DELETE FROM leaders WHERE role = \(role) AND holder = \(holder)", logger: logger)
    }

    public func leader(_ role: String, now: Date) async throws -> String? {
        try await client.query(
            "SELECT holder FROM leaders WHERE role = \(role) AND expires_at > \(now.millisecondsSince1970)", logger: logger
        ).first(decoding: String.self)
    }
}

extension PostgresStore: ConnectionStore {
    public func saveConnection(_ connection: Connection, now: Date) async throws {
        let sealed = try secretBox.seal(connection.secrets, for: connection.id)
        let settings = String(decoding: try JSONEncoder.kopru.encode(connection.settings), as: UTF8.self)
        let ms = now.millisecondsSince1970
        try await client.query(
            """
            INSERT INTO connections (id, type, name, settings, secrets, paused, created_at, updated_at)
            VALUES (\(connection.id.rawValue), \(connection.type), \(connection.name), \(settings), \(sealed), \(connection.paused),
                    \(ms), \(ms))
            ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name, settings = excluded.settings,
                secrets = excluded.secrets, paused = excluded.paused, updated_at = excluded.updated_at
            """, logger: logger)
    }

    public func connection(_ id: ConnectionID) async throws -> Connection? {
        try await connections(where: id).first
    }

    public func connections() async throws -> [Connection] {
        try await connections(where: nil)
    }

    private func connections(where id: ConnectionID?) async throws -> [Connection] {
        let rows = try await client.query(
            "SELECT id, type, name, settings, secrets, paused FROM connections WHERE \(id?.rawValue)::TEXT IS NULL OR id = \(id?.rawValue) ORDER BY id",
            logger: logger)
        var result: [Connection] = []
        for try await (id, type, name, settings, secrets, paused) in rows.decode((String, String, String, String, Data, Bool).self) {
            let connectionID = ConnectionID(id)
            result.append(
                Connection(
                    id: connectionID, type: type, name: name,
                    settings: try JSONDecoder.kopru.decode([String: String].self, from: Data(settings.utf8)),
                    secrets: try secretBox.open(secrets, for: connectionID), paused: paused))
        }
        return result
    }

    public func deleteConnection(_ id: ConnectionID) async throws {
        let deleted = try await client.query("DELETE FROM connections WHERE id = \(id.rawValue) RETURNING 1", logger: logger)
            .first(decoding: Int.self)
        if deleted == nil { throw StoreError.notFound("connection \(id)") }
    }
}

extension EventLevel {
    var rank: Int { EventLevel.allCases.firstIndex(of: self)! }
}
