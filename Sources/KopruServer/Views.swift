import Foundation
import KopruCore
import KopruStore

/// A job as the API and `kopru jobs` show it.
public struct JobView: Encodable, Sendable {
    public var id: Int64
    public var kind: String
    public var status: String
    public var attempts: Int
    public var idempotencyKey: String
    public var connection: String?
    public var orderingKey: String?
    public var coalescingKey: String?
    public var priority: Int
    public var runAt: Date
    public var createdAt: Date
    public var finishedAt: Date?
    public var lastError: String?
    public var payload: String

    public init(_ job: Job) {
        id = job.id
        kind = job.kind
        status = job.status.rawValue
        attempts = job.attempts
        idempotencyKey = job.idempotencyKey
        connection = job.connection?.rawValue
        orderingKey = job.orderingKey
        coalescingKey = job.coalescingKey
        priority = job.priority
        runAt = job.runAt
        createdAt = job.createdAt
        finishedAt = job.finishedAt
        lastError = job.lastError
        payload = String(decoding: job.payload, as: UTF8.self)
    }
}

/// A connection as the API shows it: secrets are write-only, shown as a mask.
struct ConnectionView: Encodable, Sendable {
    var id: String
    var type: String
    var name: String
    var active: Bool
    var settings: [String: String]
    var secrets: [String: String]
    var webhookPath: String
    /// What the operator must know about this connection (e.g. lost answers it cannot check).
    var warnings: [String]
    /// Its endpoint classes' circuit breakers, as every hub process shares them (only the ones
    /// that have seen a target-down answer).
    var circuits: [CircuitView]

    init(_ connection: Connection, warnings: [String] = [], circuits: [String: CircuitState] = [:]) {
        self.warnings = warnings
        let prefix = "\(connection.id.rawValue):"
        self.circuits = circuits.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { key, state in
            CircuitView(endpoint: String(key.dropFirst(prefix.count)), state)
        }
        id = connection.id.rawValue
        type = connection.type
        name = connection.name
        active = !connection.paused
        settings = connection.settings
        secrets = connection.secrets.mapValues { mask($0.reveal()) }
        webhookPath = "/webhooks/\(connection.id.rawValue)"
    }
}

/// `********` and the last four characters, as the admin screens show card numbers. Secrets
/// shorter than 12 characters show no characters at all: four of eight would be half the secret.
func mask(_ secret: String) -> String {
    secret.count >= 12 ? "********" + secret.suffix(4) : "********"
}

struct CircuitView: Encodable, Sendable {
    var endpoint: String
    /// `closed`, `open` or `half-open`.
    var state: String
    /// Target-down answers in a row (closed), or since it opened.
    var failures: Int
    var since: Date
    /// Open: when the next probe may go. Half-open: until when the probe in flight holds the way.
    var probeAt: Date?
    var lastError: String?
    var probes: Int

    init(endpoint: String, _ circuit: CircuitState) {
        self.endpoint = endpoint
        state = circuit.phase.rawValue
        failures = circuit.failures
        since = circuit.since
        probeAt = circuit.probeAt
        lastError = circuit.lastError
        probes = circuit.probes
    }
}

struct EventView: Encodable, Sendable {
    var id: Int64
    var at: Date
    var level: String
    var kind: String
    var connection: String?
    var subject: String?
    var message: String
    var details: [String: String]
    var durationMs: Int?

    init(_ event: EventRecord) {
        id = event.id ?? 0
        at = event.at
        level = event.level.rawValue
        kind = event.kind
        connection = event.connection?.rawValue
        subject = event.subject
        message = event.message
        details = event.details
        durationMs = event.durationMilliseconds
    }
}

struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    /// Pass as `cursor` for the next page; absent on the last.
    var nextCursor: String?
}

/// A sync run's counts as the API, the CLI and the logs give them.
public struct SyncRunView: Encodable, Sendable {
    public var id: String
    public var flow: String
    public var target: String
    public var startedAt: Date
    public var updatedAt: Date
    public var read: Int
    public var readDone: Bool
    public var queued: Int
    public var confirmed: Int
    public var refused: Int
    public var finished: Bool

    public init(_ run: SyncRun) {
        id = run.id
        flow = run.flow
        target = run.target.rawValue
        startedAt = run.startedAt
        updatedAt = run.updatedAt
        read = run.read
        readDone = run.readDone
        queued = run.queued
        confirmed = run.confirmed
        refused = run.refused
        finished = run.finished
    }
}

struct SyncRunPage: Encodable {
    var items: [SyncRunView]
}
