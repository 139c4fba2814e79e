import Foundation
import GRDB
import KopruCore
import KopruStore

extension SQLiteStore: BindingStore, CursorStore, SnapshotStore, EventLogStore, ScheduleStore {
    // MARK: bindings

    public func bind(_ binding: Binding) async throws {
        try await pool.write { db in try Self.bind(binding, db) }
    }

    static func bind(_ binding: Binding, _ db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO bindings (connection_id, entity, external_id, internal_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        ).execute(arguments: [binding.connection.rawValue, binding.entity, binding.externalID, binding.internalID])
        if db.changesCount == 1 { return }
        let exact = try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT 1 FROM bindings WHERE connection_id = ? AND entity = ? AND external_id = ? AND internal_id = ?"),
            arguments: [binding.connection.rawValue, binding.entity, binding.externalID, binding.internalID])
        if exact == nil { throw StoreError.bindingConflict(binding) }
    }

    public func binding(connection: ConnectionID, entity: String, externalID: String) async throws -> Binding? {
        try await binding(connection: connection, entity: entity, column: "external_id", value: externalID)
    }

    public func binding(connection: ConnectionID, entity: String, internalID: String) async throws -> Binding? {
        try await binding(connection: connection, entity: entity, column: "internal_id", value: internalID)
    }

    private func binding(connection: ConnectionID, entity: String, column: String, value: String) async throws -> Binding? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM bindings WHERE connection_id = ? AND entity = ? AND \(column) = ?",
                arguments: [connection.rawValue, entity, value]
            ).map {
                Binding(
                    connection: ConnectionID($0["connection_id"]), entity: $0["entity"], externalID: $0["external_id"],
                    internalID: $0["internal_id"])
            }
        }
    }

    // MARK: cursors

    public func cursor(connection: ConnectionID, name: String) async throws -> SyncCursor? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT value, updated_at FROM sync_cursors WHERE connection_id = ? AND name = ?",
                arguments: [connection.rawValue, name]
            ).map { SyncCursor(connection: connection, name: name, value: $0["value"], updatedAt: $0.date("updated_at")) }
        }
    }

    public func setCursor(_ cursor: SyncCursor) async throws {
        try await pool.write { db in try Self.setCursor(cursor, db) }
    }

    static func setCursor(_ cursor: SyncCursor, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO sync_cursors (connection_id, name, value, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (connection_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """
        ).execute(arguments: [cursor.connection.rawValue, cursor.name, cursor.value, cursor.updatedAt.ms])
    }

    // MARK: snapshots

    public func snapshots(connection: ConnectionID, entity: String, keys: [String]) async throws -> [String: String] {
        try await pool.read { db in
            if let found = try Self.snapshotsInRange(connection: connection, entity: entity, keys: keys, db) { return found }
            var found: [String: String] = [:]
            // SQLite allows 32,766 bound values; stay well under it.
            for chunk in stride(from: 0, to: keys.count, by: 2000).map({ keys[$0..<min($0 + 2000, keys.count)] }) {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT key, value FROM snapshots
                        WHERE connection_id = ? AND entity = ? AND key IN (\(placeholders(chunk.count)))
                        """,
                    arguments: StatementArguments([connection.rawValue, entity] + Array(chunk) as [String]))
                for row in rows { found[row["key"]] = row["value"] }
            }
            return found
        }
    }

    /// Many keys of one page of a sorted catalogue lie in one stretch of the primary key: one
    /// range scan reads them all, where an `IN` list probes the index once per key (at a million
    /// snapshots, most of a delta sync's time). Nil when the keys are too few for it to pay, or
    /// the stretch holds far more snapshots than keys asked for (the keys were not one stretch).
    static func snapshotsInRange(connection: ConnectionID, entity: String, keys: [String], _ db: Database) throws -> [String: String]? {
        guard keys.count >= 64 else { return nil }
        // SQLite compares TEXT as bytes (BINARY): the range's ends are the keys' least and
        // greatest in UTF-8 byte order, whatever Swift's own order of them.
        var lowest = keys[0]
        var highest = keys[0]
        for key in keys {
            if key.utf8.lexicographicallyPrecedes(lowest.utf8) { lowest = key }
            if highest.utf8.lexicographicallyPrecedes(key.utf8) { highest = key }
        }
        let wanted = Set(keys)
        let limit = keys.count * 2 + 64
        var found: [String: String] = [:]
        found.reserveCapacity(keys.count)
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT key, value FROM snapshots WHERE connection_id = ? AND entity = ? AND key BETWEEN ? AND ? LIMIT ?"),
            arguments: [connection.rawValue, entity, lowest, highest, limit + 1])
        var scanned = 0
        while let row = try rows.next() {
            scanned += 1
            if scanned > limit { return nil }
            let key: String = row[0]
            if wanted.contains(key) { found[key] = row[1] as String }
        }
        return found
    }

    public func snapshots(connection: ConnectionID, entity: String, atMost limit: Int) async throws -> [String: String]? {
        try await pool.read { db in
            var found: [String: String] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT key, value FROM snapshots WHERE connection_id = ? AND entity = ? LIMIT ?",
                arguments: [connection.rawValue, entity, limit + 1])
            while let row = try rows.next() {
                found[row[0]] = row[1] as String
                if found.count > limit { return nil }
            }
            return found
        }
    }

    public func putSnapshots(_ entries: [SnapshotEntry]) async throws {
        try await pool.write { db in try Self.putSnapshots(entries, db) }
    }

    static func putSnapshots(_ entries: [SnapshotEntry], _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO snapshots (connection_id, entity, key, value, confirmed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (connection_id, entity, key) DO UPDATE SET value = excluded.value, confirmed_at = excluded.confirmed_at
                """)
        for entry in entries {
            try statement.execute(arguments: [entry.connection.rawValue, entry.entity, entry.key, entry.value, entry.confirmedAt.ms])
        }
    }

    // MARK: events

    public func append(_ events: [EventRecord]) async throws {
        try await pool.write { db in for event in events { try Self.append(event, db) } }
    }

    static func append(_ event: EventRecord, _ db: Database) throws {
        let details = String(decoding: try JSONEncoder.kopru.encode(event.details), as: UTF8.self)
        try db.cachedStatement(
            sql: """
                INSERT INTO events (at, level, level_rank, kind, connection_id, subject, message, details, duration_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            event.at.ms, event.level.rawValue, EventLevel.allCases.firstIndex(of: event.level)!, event.kind,
            event.connection?.rawValue, event.subject, event.message, details, event.durationMilliseconds,
        ])
    }

    public func events(_ filter: EventFilter) async throws -> [EventRecord] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        func add(_ condition: String, _ value: any DatabaseValueConvertible) {
            conditions.append(condition)
            arguments.append(value)
        }
        if let connection = filter.connection { add("connection_id = ?", connection.rawValue) }
        if let level = filter.minimumLevel { add("level_rank >= ?", EventLevel.allCases.firstIndex(of: level)!) }
        if let kind = filter.kind { add("kind = ?", kind) }
        if let subject = filter.subject { add("subject = ?", subject) }
        if let from = filter.from { add("at >= ?", from.ms) }
        if let to = filter.to { add("at < ?", to.ms) }
        if let before = filter.beforeID { add("id < ?", before) }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(filter.limit)
        let sql = "SELECT * FROM events \(whereClause) ORDER BY id DESC LIMIT ?"
        let bound = StatementArguments(arguments)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map { row in
                let details = (row["details"] as String?).flatMap {
                    try? JSONDecoder.kopru.decode([String: String].self, from: Data($0.utf8))
                }
                return EventRecord(
                    id: row["id"], at: row.date("at"), level: EventLevel(rawValue: row["level"]) ?? .info, kind: row["kind"],
                    connection: (row["connection_id"] as String?).map { ConnectionID($0) }, subject: row["subject"],
                    message: row["message"], details: details ?? [:], durationMilliseconds: row["duration_ms"])
            }
        }
    }

    public func purgeEvents(before cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM events WHERE at < ?", arguments: [cutoff.ms])
            return db.changesCount
        }
    }

    // MARK: schedules

    public func nextFire(schedule: String) async throws -> Date? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT next_fire_at FROM schedules WHERE name = ?", arguments: [schedule])
                .map(Date.init(millisecondsSince1970:))
        }
    }

    public func advanceSchedule(_ schedule: String, expected: Date?, next: Date, enqueue job: NewJob?, now: Date) async throws -> Bool {
        defer { if job != nil { notifications.wakeAll() } }
        return try await pool.write { db in
            if let expected {
                try db.execute(
                    sql: "UPDATE schedules SET next_fire_at = ?, updated_at = ? WHERE name = ? AND next_fire_at = ?",
                    arguments: [next.ms, now.ms, schedule, expected.ms])
            } else {
                try db.execute(
                    sql: "INSERT INTO schedules (name, next_fire_at, updated_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [schedule, next.ms, now.ms])
            }
            guard db.changesCount == 1 else { return false }
            if let job { _ = try Self.enqueue(job, now: now, db) }
            return true
        }
    }
}

extension SQLiteStore: LeadershipStore {
    public func acquireLeadership(_ role: String, holder: String, until: Date, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO leaders (role, holder, expires_at) VALUES (:role, :holder, :until)
                    ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                    WHERE leaders.holder = excluded.holder OR leaders.expires_at <= :now
                    """,
                arguments: ["role": role, "holder": holder, "until": until.ms, "now": now.ms])
            return db.changesCount == 1
        }
    }

    public func resignLeadership(_ role: String, holder: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM leaders WHERE role = ? AND holder = ?", arguments: [role, holder])
        }
    }

    public func leader(_ role: String, now: Date) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT holder FROM leaders WHERE role = ? AND expires_at > ?", arguments: [role, now.ms])
        }
    }
}

extension SQLiteStore: ConnectionStore {
    public func saveConnection(_ connection: Connection, now: Date) async throws {
        let sealed = try secretBox.seal(connection.secrets, for: connection.id)
        let settings = String(decoding: try JSONEncoder.kopru.encode(connection.settings), as: UTF8.self)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO connections (id, type, name, settings, secrets, paused, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name, settings = excluded.settings,
                        secrets = excluded.secrets, paused = excluded.paused, updated_at = excluded.updated_at
                    """,
                arguments: [
                    connection.id.rawValue, connection.type, connection.name, settings, sealed, connection.paused, now.ms,
                    now.ms,
                ])
        }
    }

    public func connection(_ id: ConnectionID) async throws -> Connection? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM connections WHERE id = ?", arguments: [id.rawValue])
                .map { try self.decodeConnection($0) }
        }
    }

    public func connections() async throws -> [Connection] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM connections ORDER BY id").map { try self.decodeConnection($0) }
        }
    }

    private func decodeConnection(_ row: Row) throws -> Connection {
        let id = ConnectionID(row["id"] as String)
        let settings = try JSONDecoder.kopru.decode([String: String].self, from: Data((row["settings"] as String).utf8))
        return Connection(
            id: id, type: row["type"], name: row["name"], settings: settings,
            secrets: try secretBox.open(row["secrets"], for: id), paused: row["paused"])
    }

    public func deleteConnection(_ id: ConnectionID) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM connections WHERE id = ?", arguments: [id.rawValue])
            if db.changesCount == 0 { throw StoreError.notFound("connection \(id)") }
        }
    }
}
