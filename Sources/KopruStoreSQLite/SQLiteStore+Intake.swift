import Foundation
import GRDB
import KopruCore
import KopruStore

extension SQLiteStore: WebhookStore {
    public func receiveWebhooks(_ webhooks: [IncomingWebhook]) async throws -> [WebhookReceipt] {
        defer { notifications.wakeAll() }
        return try await pool.write { db in
            try webhooks.map { webhook in
                let inserted = try Int64.fetchOne(
                    db.cachedStatement(
                        sql: """
                            INSERT INTO webhook_events (connection_id, provider, delivery_key, topic, received_at, body)
                            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id, delivery_key) DO NOTHING RETURNING id
                            """),
                    arguments: [
                        webhook.connection.rawValue, webhook.provider, webhook.deliveryKey, webhook.topic,
                        webhook.receivedAt.ms, webhook.body,
                    ])
                guard let id = inserted else {
                    let existing = try Int64.fetchOne(
                        db.cachedStatement(sql: "SELECT id FROM webhook_events WHERE connection_id = ? AND delivery_key = ?"),
                        arguments: [webhook.connection.rawValue, webhook.deliveryKey])
                    return .duplicate(existing ?? 0)
                }
                for job in webhook.jobs { _ = try Self.enqueue(job, now: webhook.receivedAt, db) }
                return .stored(id)
            }
        }
    }

    public func webhookEvent(connection: ConnectionID, deliveryKey: String) async throws -> WebhookEvent? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM webhook_events WHERE connection_id = ? AND delivery_key = ?",
                arguments: [connection.rawValue, deliveryKey]
            ).map { row in
                WebhookEvent(
                    id: row["id"], connection: ConnectionID(row["connection_id"] as String), provider: row["provider"],
                    deliveryKey: row["delivery_key"], topic: row["topic"], receivedAt: row.date("received_at"),
                    processedAt: row.optionalDate("processed_at"), body: row["body"])
            }
        }
    }

    /// How many webhook events are stored (for the intake benchmark's check).
    public func webhookEventCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_events") ?? 0 }
    }

    public func lastWebhookReceived(connection: ConnectionID) async throws -> Date? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT max(received_at) FROM webhook_events WHERE connection_id = ?", arguments: [connection.rawValue])
                .map(Date.init(millisecondsSince1970:))
        }
    }

    public func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND processed_at < ?", arguments: [cutoff.ms])
            return db.changesCount
        }
    }
}

extension SQLiteStore: TokenStore {
    public func createToken(_ token: APIToken) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO api_tokens (name, hash, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [token.name, token.hash, token.role.rawValue, token.createdAt.ms])
            if db.changesCount == 0 { throw StoreError.conflict("a token named \(token.name) exists") }
        }
    }

    public func token(hash: String) async throws -> APIToken? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_tokens WHERE hash = ?"), arguments: [hash])
                .map(Self.decodeToken)
        }
    }

    public func tokens() async throws -> [APIToken] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY name").map(Self.decodeToken)
        }
    }

    public func revokeToken(name: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", arguments: [now.ms, name])
            if db.changesCount == 0 { throw StoreError.notFound("active token \(name)") }
        }
    }

    public func endSessions(tokenHash: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE api_tokens SET sessions_ended_at = ? WHERE hash = ?", arguments: [at.ms, tokenHash])
        }
    }

    private static func decodeToken(_ row: Row) -> APIToken {
        // A role this build does not know (written by a newer one) admits the least.
        APIToken(
            name: row["name"], hash: row["hash"], role: APIToken.Role(rawValue: row["role"]) ?? .read, createdAt: row.date("created_at"),
            revokedAt: row.optionalDate("revoked_at"), sessionsEndedAt: row.optionalDate("sessions_ended_at"))
    }
}

extension SQLiteStore: MasterKeyStore {
    public func masterKeyFingerprint() async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT fingerprint FROM master_key WHERE id = 1") }
    }

    public func checkMasterKey() async throws {
        let current = secretBox.fingerprint
        try await pool.write { db in
            if let recorded = try String.fetchOne(db, sql: "SELECT fingerprint FROM master_key WHERE id = 1") {
                if recorded != current { throw StoreError.wrongMasterKey }
            } else {
                try db.execute(sql: "INSERT INTO master_key (id, fingerprint) VALUES (1, ?)", arguments: [current])
            }
        }
    }

    public func rotateMasterKey(to newBox: SecretBox) async throws -> Int {
        let oldBox = secretBox
        let count = try await pool.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, secrets FROM connections")
            for row in rows {
                let id = ConnectionID(row["id"] as String)
                let resealed = try newBox.seal(try oldBox.open(row["secrets"], for: id), for: id)
                try db.execute(sql: "UPDATE connections SET secrets = ? WHERE id = ?", arguments: [resealed, id.rawValue])
            }
            try db.execute(
                sql: """
                    INSERT INTO master_key (id, fingerprint) VALUES (1, ?)
                    ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint
                    """, arguments: [newBox.fingerprint])
            return rows.count
        }
        secretBox = newBox
        return count
    }
}
