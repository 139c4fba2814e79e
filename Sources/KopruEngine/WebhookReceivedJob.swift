import Foundation
import KopruCore
import KopruStore

/// `webhook.received`: the job each stored webhook starts. Webhooks are hints (DESIGN.md): this
/// records that the hint was taken, in the event log, and marks the event processed so its body
/// can be purged after the retention. Flows hook in here to re-read the record from its source.
public struct WebhookReceivedJob: JobHandler {
    public struct Payload: Codable, Sendable {
        public var connection: String
        public var deliveryKey: String
        public var topic: String?

        public init(connection: String, deliveryKey: String, topic: String?) {
            self.connection = connection
            self.deliveryKey = deliveryKey
            self.topic = topic
        }
    }

    public static let kind = "webhook.received"
    public var kind: String { Self.kind }
    private let store: any Store
    /// Jobs a webhook from this connection starts (flows that poll it now).
    private let followUp: @Sendable (ConnectionID) -> [NewJob]

    public init(store: any Store, followUp: @escaping @Sendable (ConnectionID) -> [NewJob] = { _ in [] }) {
        self.store = store
        self.followUp = followUp
    }

    /// The key starts with the time of receipt (13 digits of milliseconds), then names the
    /// delivery: unique per (connection, delivery) as before, but new keys land at the end of
    /// the jobs' unique index instead of at random places in it (delivery ids are random), so a
    /// commit of many webhooks dirties a few index pages, not one each, however long the backlog.
    /// A redelivery never gets here: the event's own unique key refuses it first.
    public static func job(for webhook: Payload, receivedAt: Date) -> NewJob {
        let milliseconds = String(max(0, Int64((receivedAt.timeIntervalSince1970 * 1000).rounded(.down))))
        let stamp = String(repeating: "0", count: max(0, 13 - milliseconds.count)) + milliseconds
        return NewJob(
            kind: kind, idempotencyKey: "webhook:\(webhook.connection):\(stamp):\(webhook.deliveryKey)",
            // Written by KopruCore's JSON writer: a JSONEncoder per webhook cost more than its HMAC.
            payload: JSON.object([
                "connection": .string(webhook.connection), "deliveryKey": .string(webhook.deliveryKey),
                "topic": webhook.topic.map(JSON.string) ?? .null,
            ]).data, priority: 10, connection: ConnectionID(webhook.connection))
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let connection = ConnectionID(payload.connection)
        guard let event = try await store.webhookEvent(connection: connection, deliveryKey: payload.deliveryKey) else {
            // Already processed and purged: nothing left to do.
            return .done
        }
        return .done(followUp(connection).map { .enqueue($0) } + [
            .webhookProcessed(connection: connection, deliveryKey: payload.deliveryKey),
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "webhook", connection: connection, subject: "webhook:\(event.id)",
                    message: "webhook \(event.topic ?? "(no topic)") from \(event.provider) taken",
                    details: ["delivery": payload.deliveryKey, "bytes": "\(event.body.count)"])),
        ])
    }
}
