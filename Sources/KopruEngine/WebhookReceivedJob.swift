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

    public static func job(for webhook: Payload) -> NewJob {
        NewJob(
            kind: kind, idempotencyKey: "webhook:\(webhook.connection):\(webhook.deliveryKey)",
            payload: (try? JSONEncoder.kopru.encode(webhook)) ?? Data(), priority: 10, connection: ConnectionID(webhook.connection))
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
