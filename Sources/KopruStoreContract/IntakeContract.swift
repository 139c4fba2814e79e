import Foundation
import KopruCore
import KopruStore

extension StoreContract {
    static func webhook(_ key: String, connection: ConnectionID = "shop", jobKey: String? = nil) -> IncomingWebhook {
        IncomingWebhook(
            connection: connection, provider: "shopify", deliveryKey: key, topic: "orders/create", receivedAt: t0,
            body: Data(#"{"id":\#(key.count)}"#.utf8),
            jobs: [job(jobKey ?? "webhook:\(connection):\(key)", kind: "webhook.received", connection: connection)])
    }

    static let intakeCases: [ContractCase] = [
        ContractCase(name: "webhooks: stored with their jobs, duplicates recognised (also within a batch)") { store in
            let receipts = try await store.receiveWebhooks([webhook("d-1"), webhook("d-2"), webhook("d-1")])
            guard case .stored(let first) = receipts[0], case .stored = receipts[1] else {
                throw ContractFailure(message: "first two not stored: \(receipts)", location: #fileID)
            }
            try expectEqual(receipts[2], .duplicate(first), "same delivery later in the batch")
            try expectEqual(try await store.receiveWebhooks([webhook("d-2")]).count, 1, "one receipt")
            if case .stored = try await store.receiveWebhooks([webhook("d-2")])[0] {
                throw ContractFailure(message: "a redelivery was stored again", location: #fileID)
            }
            try expectEqual(
                try await store.receiveWebhooks([webhook("d-1", connection: "other-shop")]).count, 1,
                "delivery keys are per connection")
            let jobs = try await store.jobs(JobFilter(kind: "webhook.received", limit: 10))
            try expectEqual(jobs.count, 3, "one job per stored webhook, none for duplicates")
            let event = try await store.webhookEvent(connection: "shop", deliveryKey: "d-1")
            try expectEqual(event?.deliveryKey, "d-1", "event readable")
            try expectEqual(event?.body, webhook("d-1").body, "body kept")
            try expectEqual(event?.processedAt, nil, "not processed yet")
            try expectEqual(try await store.lastWebhookReceived(connection: "shop"), t0, "the latest arrival")
            try expectEqual(try await store.lastWebhookReceived(connection: "quiet-shop"), nil, "none from a connection that never sent")
            var later = webhook("d-3")
            later.receivedAt = t0.addingTimeInterval(90)
            _ = try await store.receiveWebhooks([later])
            try expectEqual(try await store.lastWebhookReceived(connection: "shop"), t0.addingTimeInterval(90), "the latest arrival")
        },
        ContractCase(name: "webhooks: processed by a job's completion, then purged after the cutoff; unprocessed kept") { store in
            let receipts = try await store.receiveWebhooks([webhook("old"), webhook("pending")])
            guard case .stored = receipts[0], case .stored = receipts[1] else {
                throw ContractFailure(message: "not stored: \(receipts)", location: #fileID)
            }
            let claimed = try await claim(store, kinds: ["webhook.received"])
            let oldJob = try claimed.first { $0.job.idempotencyKey == "webhook:shop:old" }.unwrap("old job claimed")
            let results = try await store.complete([
                JobCompletion(lease: oldJob.lease, outcome: .succeeded, effects: [.webhookProcessed(connection: "shop", deliveryKey: "old")], now: t0.addingTimeInterval(5))
            ])
            try expectEqual(results, [.applied], "completion applied")
            try expectEqual(try await store.webhookEvent(connection: "shop", deliveryKey: "old")?.processedAt, t0.addingTimeInterval(5), "processed at completion")
            try expectEqual(try await store.purgeWebhookEvents(processedBefore: t0), 0, "processed after the cutoff: kept")
            try expectEqual(try await store.purgeWebhookEvents(processedBefore: t0.addingTimeInterval(86_400 * 60)), 1, "one purged")
            try expectEqual(try await store.webhookEvent(connection: "shop", deliveryKey: "old"), nil, "processed one gone")
            try expectEqual(try await store.webhookEvent(connection: "shop", deliveryKey: "pending")?.deliveryKey, "pending", "unprocessed one kept")
        },
        ContractCase(name: "tokens: unique names, found by hash, revoked stays findable but marked") { store in
            try await store.createToken(APIToken(name: "agency", hash: "aa11", createdAt: t0))
            try await expectThrows("a second token with the same name") {
                try await store.createToken(APIToken(name: "agency", hash: "bb22", createdAt: t0))
            }
            try expectEqual(try await store.token(hash: "aa11")?.name, "agency", "found by hash")
            try expectEqual(try await store.token(hash: "ffff"), nil, "unknown hash")
            try await store.revokeToken(name: "agency", now: t0.addingTimeInterval(60))
            try expectEqual(try await store.token(hash: "aa11")?.revokedAt, t0.addingTimeInterval(60), "revocation recorded")
            try await expectThrows("revoking twice") { try await store.revokeToken(name: "agency", now: t0) }
            try expectEqual(try await store.tokens().map(\.name), ["agency"], "listed")
            try expectEqual(try await store.token(hash: "aa11")?.role, .admin, "admin unless said otherwise")
        },
        ContractCase(name: "tokens: a read-only token keeps its role") { store in
            try await store.createToken(APIToken(name: "staff", hash: "cc33", role: .read, createdAt: t0))
            try expectEqual(try await store.token(hash: "cc33")?.role, .read, "read role by hash")
            try expectEqual(try await store.tokens().map(\.role), [.read], "read role listed")
            try expectEqual(try await store.token(hash: "cc33")?.sessionsEndedAt, nil, "no sign-out yet")
            try await store.endSessions(tokenHash: "cc33", at: t0.addingTimeInterval(5))
            try expectEqual(try await store.token(hash: "cc33")?.sessionsEndedAt, t0.addingTimeInterval(5), "sign-out recorded")
        },
        ContractCase(name: "master key: recorded on first check, rotation re-seals every secret in one step") { store in
            try await store.checkMasterKey()
            let before = try await store.masterKeyFingerprint()
            try expect(before != nil, "fingerprint recorded")
            for index in 1...25 {
                try await store.saveConnection(
                    Connection(
                        id: ConnectionID("c\(index)"), type: "magento2", name: "Shop \(index)", settings: ["url": "https://s\(index)"],
                        secrets: ["token": Secret("tok-\(index)"), "webhookSecret": Secret("whs-\(index)")]), now: t0)
            }
            let newBox = SecretBox.ephemeral()
            try expectEqual(try await store.rotateMasterKey(to: newBox), 25, "every connection re-sealed")
            try expectEqual(try await store.masterKeyFingerprint(), newBox.fingerprint, "new key recorded")
            try await store.checkMasterKey()
            let connections = try await store.connections()
            try expectEqual(connections.count, 25, "none lost")
            for connection in connections {
                let index = connection.id.rawValue.dropFirst()
                try expectEqual(connection.secrets["token"]?.reveal(), "tok-\(index)", "token of \(connection.id)")
                try expectEqual(connection.secrets["webhookSecret"]?.reveal(), "whs-\(index)", "webhook secret of \(connection.id)")
            }
        },
    ]
}

extension Optional {
    func unwrap(_ what: String, file: StaticString = #fileID, line: UInt = #line) throws -> Wrapped {
        guard let self else { throw ContractFailure(message: "\(what): nil", location: "\(file):\(line)") }
        return self
    }
}
