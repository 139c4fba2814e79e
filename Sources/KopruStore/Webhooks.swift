import Foundation
import KopruCore

public typealias WebhookEventID = Int64

/// A verified webhook on its way into the store, with the jobs it starts. The delivery key is
/// the provider's delivery id, or `sha256:<hex of the body>` where the provider sends none.
public struct IncomingWebhook: Hashable, Sendable {
    public var connection: ConnectionID
    public var provider: String
    public var deliveryKey: String
    public var topic: String?
    public var receivedAt: Date
    public var body: Data
    public var jobs: [NewJob]

    public init(
        connection: ConnectionID, provider: String, deliveryKey: String, topic: String?, receivedAt: Date, body: Data,
        jobs: [NewJob]
    ) {
        self.connection = connection
        self.provider = provider
        self.deliveryKey = deliveryKey
        self.topic = topic
        self.receivedAt = receivedAt
        self.body = body
        self.jobs = jobs
    }
}

public enum WebhookReceipt: Hashable, Sendable {
    /// Stored now, and its jobs enqueued in the same transaction.
    case stored(WebhookEventID)
    /// This connection already has a delivery with this key: nothing was written.
    case duplicate(WebhookEventID)
}

/// A stored webhook. The body is kept until the event is processed and older than the retention.
public struct WebhookEvent: Hashable, Sendable {
    public var id: WebhookEventID
    public var connection: ConnectionID
    public var provider: String
    public var deliveryKey: String
    public var topic: String?
    public var receivedAt: Date
    public var processedAt: Date?
    public var body: Data

    public init(
        id: WebhookEventID, connection: ConnectionID, provider: String, deliveryKey: String, topic: String?,
        receivedAt: Date, processedAt: Date?, body: Data
    ) {
        self.id = id
        self.connection = connection
        self.provider = provider
        self.deliveryKey = deliveryKey
        self.topic = topic
        self.receivedAt = receivedAt
        self.processedAt = processedAt
        self.body = body
    }
}

public protocol WebhookStore: Sendable {
    /// One transaction for the batch: each webhook is stored with its jobs, or reported as a
    /// duplicate of an earlier delivery (also one earlier in the same batch). Results are in order.
    func receiveWebhooks(_ webhooks: [IncomingWebhook]) async throws -> [WebhookReceipt]
    func webhookEvent(connection: ConnectionID, deliveryKey: String) async throws -> WebhookEvent?
    /// When the connection's latest stored webhook arrived; nil if none is stored.
    func lastWebhookReceived(connection: ConnectionID) async throws -> Date?
    /// Deletes events processed before the cutoff; unprocessed ones are kept whatever their age.
    func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int
}

/// An admin API token. Only the SHA-256 of the token is kept; the token itself is shown once.
public struct APIToken: Hashable, Sendable {
    /// What a token may do: `admin` everything; `read` look (the API's GETs, the dashboard's
    /// pages) but change nothing, for a merchant's staff or an agency's monitoring.
    public enum Role: String, CaseIterable, Sendable {
        case admin
        case read
    }

    public var name: String
    /// Lowercase hex of SHA-256 over the token's UTF-8 bytes.
    public var hash: String
    public var role: Role
    public var createdAt: Date
    public var revokedAt: Date?
    /// Dashboard sessions this token signed in before this time are over (a sign-out).
    public var sessionsEndedAt: Date?

    public init(name: String, hash: String, role: Role = .admin, createdAt: Date, revokedAt: Date? = nil, sessionsEndedAt: Date? = nil) {
        self.name = name
        self.hash = hash
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.sessionsEndedAt = sessionsEndedAt
    }
}

public protocol TokenStore: Sendable {
    /// Names are unique, revoked tokens included, so the access log's names stay unambiguous.
    func createToken(_ token: APIToken) async throws
    /// The token with this hash, revoked or not.
    func token(hash: String) async throws -> APIToken?
    func tokens() async throws -> [APIToken]
    /// Throws not found unless an unrevoked token has this name.
    func revokeToken(name: String, now: Date) async throws
    /// Ends every dashboard session the token with this hash signed in before `at`.
    func endSessions(tokenHash: String, at: Date) async throws
}

/// The master key that seals connection secrets: which key the store was sealed with (by
/// fingerprint, never the key), and rotation to a new one.
public protocol MasterKeyStore: Sendable {
    /// The fingerprint recorded with the secrets, if any.
    func masterKeyFingerprint() async throws -> String?
    /// Records this store's key if none is recorded; throws a decryption error if another is.
    func checkMasterKey() async throws
    /// Re-seals every connection's secrets under `newBox` and records its fingerprint, in one
    /// transaction: until it commits, the old key opens everything. Returns how many connections.
    func rotateMasterKey(to newBox: SecretBox) async throws -> Int
}
