import Foundation
import KopruCore

/// (connection, entity, external id) ↔ internal id. Unique both ways within a connection and
/// entity: an order bound on a target is never exported to it again.
public struct Binding: Hashable, Sendable {
    public var connection: ConnectionID
    public var entity: String
    public var externalID: String
    public var internalID: String

    public init(connection: ConnectionID, entity: String, externalID: String, internalID: String) {
        self.connection = connection
        self.entity = entity
        self.externalID = externalID
        self.internalID = internalID
    }
}

/// Where a poller or sync left off, e.g. a keyset `(updated_at, id)` encoded as text.
public struct SyncCursor: Hashable, Sendable {
    public var connection: ConnectionID
    public var name: String
    public var value: String
    public var updatedAt: Date

    public init(connection: ConnectionID, name: String, value: String, updatedAt: Date) {
        self.connection = connection
        self.name = name
        self.value = value
        self.updatedAt = updatedAt
    }
}

/// The last value a target confirmed for one key (e.g. the stock of one SKU on one channel),
/// so a delta sync sends only what changed.
public struct SnapshotEntry: Hashable, Sendable {
    public var connection: ConnectionID
    public var entity: String
    public var key: String
    public var value: String
    public var confirmedAt: Date

    public init(connection: ConnectionID, entity: String, key: String, value: String, confirmedAt: Date) {
        self.connection = connection
        self.entity = entity
        self.key = key
        self.value = value
        self.confirmedAt = confirmedAt
    }
}

public enum EventLevel: String, Sendable, Codable, CaseIterable, Comparable {
    case trace, debug, info, notice, warning, error, critical

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// One line of the event log: an external call, a webhook, a sync run, a job outcome.
/// `details` must already be redacted: the log never holds a secret.
public struct EventRecord: Hashable, Sendable {
    public var id: Int64?
    public var at: Date
    public var level: EventLevel
    /// `external_call`, `webhook`, `sync_run`, `job`, `system`, ...
    public var kind: String
    public var connection: ConnectionID?
    public var subject: String?
    public var message: String
    public var details: [String: String]
    public var durationMilliseconds: Int?

    public init(
        id: Int64? = nil, at: Date, level: EventLevel, kind: String, connection: ConnectionID? = nil, subject: String? = nil,
        message: String, details: [String: String] = [:], durationMilliseconds: Int? = nil
    ) {
        self.id = id
        self.at = at
        self.level = level
        self.kind = kind
        self.connection = connection
        self.subject = subject
        self.message = message
        self.details = details
        self.durationMilliseconds = durationMilliseconds
    }
}

public struct EventFilter: Hashable, Sendable {
    public var connection: ConnectionID?
    public var minimumLevel: EventLevel?
    public var kind: String?
    public var subject: String?
    public var from: Date?
    public var to: Date?
    /// Newest first; pass the last id seen to page on.
    public var beforeID: Int64?
    public var limit: Int

    public init(
        connection: ConnectionID? = nil, minimumLevel: EventLevel? = nil, kind: String? = nil, subject: String? = nil,
        from: Date? = nil, to: Date? = nil, beforeID: Int64? = nil, limit: Int = 100
    ) {
        self.connection = connection
        self.minimumLevel = minimumLevel
        self.kind = kind
        self.subject = subject
        self.from = from
        self.to = to
        self.beforeID = beforeID
        self.limit = limit
    }
}

/// A connection to one external system: its type (`magento2`, `horoz`, ...), plain settings and
/// secrets. Secrets are encrypted by the store before they touch disk.
public struct Connection: Hashable, Sendable {
    public var id: ConnectionID
    public var type: String
    public var name: String
    public var settings: [String: String]
    public var secrets: [String: Secret]
    public var paused: Bool

    public init(
        id: ConnectionID, type: String, name: String, settings: [String: String] = [:], secrets: [String: Secret] = [:],
        paused: Bool = false
    ) {
        self.id = id
        self.type = type
        self.name = name
        self.settings = settings
        self.secrets = secrets
        self.paused = paused
    }
}

/// A store write a job makes, committed in the same transaction as the job's completion.
public enum StoreEffect: Hashable, Sendable {
    case bind(Binding)
    case enqueue(NewJob)
    case setCursor(SyncCursor)
    case putSnapshots([SnapshotEntry])
    case log(EventRecord)
    /// The webhook event's work is done: its body may be purged after the retention.
    case webhookProcessed(connection: ConnectionID, deliveryKey: String)
    /// Holds stock for an accepted order (replacing its open lines; a released order stays released).
    case reserveStock([StockReservation])
    /// The ERP has the order: its reservations stop counting for stock read after `at`.
    case releaseStock(order: String, at: Date)
    case updateSyncRun(SyncRunUpdate)
    /// Stops the connection's jobs until an operator resumes it (credentials refused).
    case pauseConnection(ConnectionID)
    /// The order as last read from its channel, for the dashboard's list (`OrderRecord.updated(by:)`).
    case recordOrder(OrderRecord)
    /// The order (by the hub's id) reached its target as `reference`.
    case recordOrderExport(order: String, target: ConnectionID, reference: String, at: Date)
}
