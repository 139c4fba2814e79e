import CoreMetrics
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore
import Logging
import NIOCore
import Synchronization

/// Webhook intake, in the order the checks must run: body size → signature → IP allow-list →
/// rate limit → dedupe → store the event and enqueue its job in one transaction → 200.
/// A refusal is answered with a JSON error and one log line with no secret and no body.
public final class WebhookIntake: Sendable {
    public struct Configuration: Sendable {
        public var bodyLimit: Int
        public var maximumBatch: Int
        /// How long a webhook waits for its commit before it is answered 503 (`GroupCommit`'s
        /// deadline): a provider should hear "try again" before its own timeout (Shopify's is 5 s).
        public var commitDeadline: Duration

        public init(bodyLimit: Int = 1 << 20, maximumBatch: Int = 256, commitDeadline: Duration = .seconds(4)) {
            self.bodyLimit = bodyLimit
            self.maximumBatch = maximumBatch
            self.commitDeadline = commitDeadline
        }
    }

    let configuration: Configuration
    let directory: ConnectionDirectory
    private let limiter = RateLimiter()
    private let counters = Mutex<[CounterKey: Counter]>([:])
    private let committer: GroupCommit<IncomingWebhook, WebhookReceipt>
    private let logger: Logger
    private let now: @Sendable () -> Date

    init(
        store: any Store, directory: ConnectionDirectory, configuration: Configuration, logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.configuration = configuration
        self.directory = directory
        self.committer = GroupCommit(maximumBatch: configuration.maximumBatch, deadline: configuration.commitDeadline) { webhooks in
            try await store.receiveWebhooks(webhooks)
        }
        self.logger = logger
        self.now = now
    }

    enum Target {
        case connection(ConnectionID)
        case provider(String)

        var provider: String? { if case .provider(let provider) = self { provider } else { nil } }
    }

    func receive(_ target: Target, request: Request, context: HubRequestContext) async throws -> Response {
        let remote = context.remoteAddress?.ipAddress ?? "-"
        // Only known types become metric labels: a path parameter must not mint new series.
        let provider = target.provider.map { directory.kinds.connector($0) == nil ? "unknown" : $0 } ?? "-"
        var log = WebhookLogLine(provider: provider, connection: "-", remote: remote)
        count("received", provider: log.provider)
        do {
            let response = try await pipeline(target, request: request, context: context, log: &log)
            logger.info("webhook \(log.outcome)", metadata: log.metadata(status: response.status.code))
            return response
        } catch let error as APIError {
            count("refused", provider: log.provider, reason: error.code)
            logger.warning("webhook refused", metadata: log.metadata(status: error.status.code, reason: error.code))
            throw error
        }
    }

    private func pipeline(
        _ target: Target, request: Request, context: HubRequestContext, log: inout WebhookLogLine
    ) async throws -> Response {
        let body = Array(try await RequestParsing.body(request, limit: configuration.bodyLimit).readableBytesView)
        log.bytes = body.count
        let webhook = WebhookRequest(body: body, headers: request.headers.map { ($0.name.rawName, $0.value) }, receivedAt: now())

        let entry = try await resolve(target, webhook)
        let connection = entry.connection
        log.connection = connection.id.rawValue
        log.provider = connection.type
        guard let settings = entry.webhook else {
            throw APIError(.forbidden, code: "webhook_misconfigured", message: "this connection's webhook settings are invalid")
        }

        do {
            try settings.verifier.verify(webhook)
        } catch {
            throw APIError(error == .noSecret ? .forbidden : .unauthorized, code: error.code, message: error.message)
        }
        count("verified", provider: connection.type)

        if !settings.allowedNetworks.isEmpty, !settings.allowedNetworks.contains(where: { $0.contains(log.remote) }) {
            throw APIError(.forbidden, code: "ip_not_allowed", message: "this connection does not accept webhooks from this address")
        }
        if let wait = limiter.admit(connection.id, rate: settings.ratePerSecond, burst: settings.burst) {
            throw APIError.rateLimited(retryAfterSeconds: wait)
        }

        let deliveryKey = Self.deliveryKey(settings.deliveryIDHeader.flatMap { webhook.header($0) }, body: body)
        let topic = settings.topicHeader.flatMap { webhook.header($0) }.map { String($0.prefix(200)) }
        let incoming = IncomingWebhook(
            connection: connection.id, provider: connection.type, deliveryKey: deliveryKey, topic: topic,
            receivedAt: webhook.receivedAt, body: Data(body),
            jobs: [
                WebhookReceivedJob.job(
                    for: .init(connection: connection.id.rawValue, deliveryKey: deliveryKey, topic: topic),
                    receivedAt: webhook.receivedAt)
            ])
        switch try await committer.submit(incoming) {
        case .stored(let id):
            log.outcome = "stored"
            count("stored", provider: connection.type)
            return Self.answer("accepted", event: id)
        case .duplicate(let id):
            log.outcome = "duplicate"
            count("duplicate", provider: connection.type)
            return Self.answer("duplicate", event: id)
        }
    }

    /// `{"event":"<id>","status":"<status>"}`, as `Response.json` writes it (keys sorted), without
    /// a `JSONEncoder` per webhook. The status is one of ours; the id is digits: nothing to escape.
    static func answer(_ status: String, event: WebhookEventID) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"event":"\#(event)","status":"\#(status)"}"#)))
    }

    private func resolve(_ target: Target, _ webhook: WebhookRequest) async throws -> ConnectionDirectory.Entry {
        switch target {
        case .connection(let id):
            guard let entry = try await directory.entry(id) else {
                throw APIError.notFound("no connection \(id.rawValue)", code: "connection_unknown")
            }
            return entry
        case .provider(let provider):
            let candidates = try await directory.entries(ofType: provider)
            var json: Any?? = nil
            let document = { () -> Any? in
                if case .some(let parsed) = json { return parsed }
                let parsed = try? JSONSerialization.jsonObject(with: Data(webhook.body), options: [.fragmentsAllowed])
                json = .some(parsed)
                return parsed
            }
            if let match = candidates.first(where: { $0.webhook?.routes(webhook, json: document()) ?? false }) { return match }
            // One connection of this provider and no routing rule: it is the one.
            if candidates.count == 1, candidates[0].webhook?.route == nil { return candidates[0] }
            throw APIError.notFound(
                candidates.isEmpty
                    ? "no connection of type \(provider)"
                    : "no \(provider) connection matches this webhook (set webhook.routeBy and webhook.routeValue)",
                code: "connection_unknown")
        }
    }

    /// The provider's delivery id, or a hash of the body where it sends none.
    static func deliveryKey(_ deliveryID: String?, body: [UInt8]) -> String {
        if let id = deliveryID?.trimmingWhitespace, !id.isEmpty, id.utf8.count <= 200 { return "id:\(id)" }
        return "sha256:" + SHA256.hash(data: body).hexString
    }

    /// The counters are made once per label set and kept: making one looks it up in the
    /// registry under a lock and cleans every label, three times per webhook. The label sets are
    /// few (installed types, our outcomes and refusal codes).
    private func count(_ outcome: String, provider: String, reason: String? = nil) {
        let key = CounterKey(provider: provider, outcome: outcome, reason: reason)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            var dimensions = [("provider", provider), ("outcome", outcome)]
            if let reason { dimensions.append(("reason", reason)) }
            let counter = Counter(label: "kopru_webhooks_total", dimensions: dimensions)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    private struct CounterKey: Hashable {
        var provider: String
        var outcome: String
        var reason: String?
    }
}

/// The webhook log: who sent what, and what became of it. Never the body or a header's value.
struct WebhookLogLine {
    var provider: String
    var connection: String
    var remote: String
    var bytes = 0
    var outcome = "refused"

    func metadata(status: Int, reason: String? = nil) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "provider": "\(provider)", "connection": "\(connection)", "remote": "\(remote)", "bytes": "\(bytes)",
            "status": "\(status)",
        ]
        if let reason { metadata["reason"] = "\(reason)" }
        return metadata
    }
}
