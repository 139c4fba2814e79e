import Foundation
import KopruCore
import KopruStore
import PostgresNIO

extension PostgresStore: WebhookStore {
    public func receiveWebhooks(_ webhooks: [IncomingWebhook]) async throws -> [WebhookReceipt] {
        try await transaction { connection in
            var receipts: [WebhookReceipt] = []
            var enqueued = false
            for webhook in webhooks {
                let inserted = try await connection.query(
                    """
                    INSERT INTO webhook_events (connection_id, provider, delivery_key, topic, received_at, body)
                    VALUES (\(webhook.connection.rawValue), \(webhook.provider), \(webhook.deliveryKey), \(webhook.topic),
                            \(webhook.receivedAt.millisecondsSince1970), \(webhook.body))
                    ON CONFLICT (connection_id, delivery_key) DO NOTHING RETURNING id
                    """, logger: self.logger
                ).first(decoding: Int64.self)
                guard let id = inserted else {
                    let existing = try await connection.query(
                        """
                        SELECT id FROM webhook_events
                        WHERE connection_id = \(webhook.connection.rawValue) AND delivery_key = \(webhook.deliveryKey)
                        """, logger: self.logger
                    ).first(decoding: Int64.self)
                    receipts.append(.duplicate(existing ?? 0))
                    continue
                }
                for job in webhook.jobs where try await self.enqueue(job, now: webhook.receivedAt, connection).inserted {
                    enqueued = true
                }
                receipts.append(.stored(id))
            }
            if enqueued { try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: self.logger) }
            return receipts
        }
    }

    public func lastWebhookReceived(connection: ConnectionID) async throws -> Date? {
        let rows = try await client.query(
            "SELECT max(received_at) FROM webhook_events WHERE connection_id = \(connection.rawValue)", logger: logger)
        for try await received in rows.decode(Int64?.self) { return received.map(Date.init(millisecondsSince1970:)) }
        return nil
    }

    public func webhookEvent(connection: ConnectionID, deliveryKey: String) async throws -> WebhookEvent? {
        let rows = try await client.query(
            """
            SELECT id, connection_id, provider, delivery_key, topic, received_at, processed_at, body
            FROM webhook_events WHERE connection_id = \(connection.rawValue) AND delivery_key = \(deliveryKey)
            """, logger: logger)
        for try await (id, connection, provider, key, topic, received, processed, body) in rows.decode(
            (Int64, String, String, String, String?, Int64, Int64?, Data).self)
        {
            return WebhookEvent(
                id: id, connection: ConnectionID(connection), provider: provider, deliveryKey: key, topic: topic,
                receivedAt: Date(millisecondsSince1970: received), processedAt: processed.map(Date.init(millisecondsSince1970:)),
                body: body)
        }
        return nil
    }

    public func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int {
        var count = 0
        let rows = try await client.query(
            "DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND processed_at < \(cutoff.millisecondsSince1970) RETURNING 1",
            logger: logger)
        for try await _ in rows { count += 1 }
        return count
    }
}

extension PostgresStore: TokenStore {
    public func createToken(_ token: APIToken) async throws {
        let inserted = try await client.query(
            """
            INSERT INTO api_tokens (name, hash, role, created_at)
            VALUES (\(token.name), \(token.hash), \(token.role.rawValue), \(token.createdAt.millisecondsSince1970))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger
        ).first(decoding: Int.self)
        if inserted == nil { throw StoreError.conflict("a token named \(token.name) exists") }
    }

    public func token(hash: String) async throws -> APIToken? {
        try await tokens(hash: hash).first
    }

    public func tokens() async throws -> [APIToken] {
        try await tokens(hash: nil)
    }

    private func tokens(hash: String?) async throws -> [APIToken] {
        let rows = try await client.query(
            "SELECT name, hash, role, created_at, revoked_at, sessions_ended_at FROM api_tokens WHERE \(hash)::TEXT IS NULL OR hash = \(hash) ORDER BY name",
            logger: logger)
        var result: [APIToken] = []
        for try await (name, hash, role, created, revoked, ended) in rows.decode((String, String, String, Int64, Int64?, Int64?).self) {
            result.append(
                APIToken(
                    name: name, hash: hash, role: APIToken.Role(rawValue: role) ?? .read, createdAt: Date(millisecondsSince1970: created),
                    revokedAt: revoked.map(Date.init(millisecondsSince1970:)), sessionsEndedAt: ended.map(Date.init(millisecondsSince1970:))))
        }
        return result
    }

    public func endSessions(tokenHash: String, at: Date) async throws {
        try await client.query(
            "UPDATE api_tokens SET sessions_ended_at = \(at.millisecondsSince1970) WHERE hash = \(tokenHash)", logger: logger)
    }

    public func revokeToken(name: String, now: Date) async throws {
        let revoked = try await client.query(
            """
            UPDATE api_tokens SET revoked_at = \(now.millisecondsSince1970) WHERE name = \(name) AND revoked_at IS NULL
            RETURNING 1
            """, logger: logger
        ).first(decoding: Int.self)
        if revoked == nil { throw StoreError.notFound("active token \(name)") }
    }
}

extension PostgresStore: MasterKeyStore {
    public func masterKeyFingerprint() async throws -> String? {
        try await client.query("SELECT fingerprint FROM master_key WHERE id = 1", logger: logger).first(decoding: String.self)
    }

    public func checkMasterKey() async throws {
        let current = secretBox.fingerprint
        try await transaction { connection in
            let recorded = try await connection.query(
                "SELECT fingerprint FROM master_key WHERE id = 1 FOR UPDATE", logger: self.logger
            ).first(decoding: String.self)
            if let recorded {
                if recorded != current { throw StoreError.wrongMasterKey }
            } else {
                try await connection.query(
                    "INSERT INTO master_key (id, fingerprint) VALUES (1, \(current)) ON CONFLICT DO NOTHING", logger: self.logger)
            }
        }
    }

    public func rotateMasterKey(to newBox: SecretBox) async throws -> Int {
        let oldBox = secretBox
        let count = try await transaction { connection in
            var sealed: [(String, Data)] = []
            // FOR UPDATE: a connection saved meanwhile under the old key waits, and is re-sealed here.
            let rows = try await connection.query("SELECT id, secrets FROM connections FOR UPDATE", logger: self.logger)
            for try await row in rows.decode((String, Data).self) { sealed.append(row) }
            for (id, secrets) in sealed {
                let connectionID = ConnectionID(id)
                let resealed = try newBox.seal(try oldBox.open(secrets, for: connectionID), for: connectionID)
                try await connection.query("UPDATE connections SET secrets = \(resealed) WHERE id = \(id)", logger: self.logger)
            }
            try await connection.query(
                """
                INSERT INTO master_key (id, fingerprint) VALUES (1, \(newBox.fingerprint))
                ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint
                """, logger: self.logger)
            return sealed.count
        }
        secretBox = newBox
        return count
    }
}
