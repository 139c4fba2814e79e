import Foundation
import KopruCore

/// An order as the dashboard lists it: what the channel said of it when the hub last read it,
/// when and how the hub first saw it, and whether it reached its target. Written by the order
/// flow in its jobs' completions (`StoreEffect.recordOrder`, `.recordOrderExport`), so the
/// list never disagrees with what the jobs did. The channel stays the truth for the order itself.
public struct OrderRecord: Hashable, Sendable {
    /// The hub's id of the order (`<channel connection>:<number>`), as its bindings and events name it.
    public var id: String
    public var connection: ConnectionID
    public var externalID: String
    /// As the merchant and the customer see it (`000000123`, `#1042`).
    public var number: String
    /// The canonical status, as last read.
    public var status: String
    /// Decimal text in `currency`, the channel's grand total.
    public var total: String
    public var currency: String
    public var placedAt: Date?
    public var firstSeenAt: Date
    public var updatedAt: Date
    /// How the hub first heard of it: `webhook` (a webhook woke the poll), `poll` or `reconciliation`.
    public var seenVia: String
    /// When its export was first queued; nil for an order not to be exported (unpaid, cancelled).
    public var exportQueuedAt: Date?
    public var exportTarget: ConnectionID?
    public var exportReference: String?
    public var exportedAt: Date?

    public init(
        id: String, connection: ConnectionID, externalID: String, number: String, status: String, total: String, currency: String,
        placedAt: Date?, firstSeenAt: Date, updatedAt: Date, seenVia: String, exportQueuedAt: Date? = nil, exportTarget: ConnectionID? = nil,
        exportReference: String? = nil, exportedAt: Date? = nil
    ) {
        self.id = id
        self.connection = connection
        self.externalID = externalID
        self.number = number
        self.status = status
        self.total = total
        self.currency = currency
        self.placedAt = placedAt
        self.firstSeenAt = firstSeenAt
        self.updatedAt = updatedAt
        self.seenVia = seenVia
        self.exportQueuedAt = exportQueuedAt
        self.exportTarget = exportTarget
        self.exportReference = exportReference
        self.exportedAt = exportedAt
    }

    /// Queued for its target and not there yet, and not cancelled since (a cancelled order's
    /// export sends nothing).
    public var pendingExport: Bool { exportQueuedAt != nil && exportedAt == nil && status != "cancelled" }

    public var storePrecision: OrderRecord {
        var copy = self
        copy.placedAt = placedAt?.storePrecision
        copy.firstSeenAt = firstSeenAt.storePrecision
        copy.updatedAt = updatedAt.storePrecision
        copy.exportQueuedAt = exportQueuedAt?.storePrecision
        copy.exportedAt = exportedAt?.storePrecision
        return copy
    }

    /// What a later sighting of the same order changes: what the channel says now; the first
    /// sighting, the first queueing and the export stay as they were.
    public func updated(by newer: OrderRecord) -> OrderRecord {
        var merged = newer
        merged.firstSeenAt = firstSeenAt
        merged.seenVia = seenVia
        merged.exportQueuedAt = exportQueuedAt ?? newer.exportQueuedAt
        merged.exportTarget = exportTarget ?? newer.exportTarget
        merged.exportReference = exportReference
        merged.exportedAt = exportedAt
        return merged
    }
}

/// Newest first by first sighting; `before` pages on (the last record's `firstSeenAt` and `id`).
public struct OrderFilter: Hashable, Sendable {
    public var connection: ConnectionID?
    /// The number as typed: matched exactly, or as the end of the stored number
    /// (`123` finds `000000123`), never as an arbitrary substring.
    public var number: String?
    public var pendingExportOnly: Bool
    public var before: (firstSeenAt: Date, id: String)?
    public var limit: Int

    public init(
        connection: ConnectionID? = nil, number: String? = nil, pendingExportOnly: Bool = false, before: (firstSeenAt: Date, id: String)? = nil,
        limit: Int = 50
    ) {
        self.connection = connection
        self.number = number
        self.pendingExportOnly = pendingExportOnly
        self.before = before
        self.limit = limit
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.connection == rhs.connection && lhs.number == rhs.number && lhs.pendingExportOnly == rhs.pendingExportOnly
            && lhs.before?.firstSeenAt == rhs.before?.firstSeenAt && lhs.before?.id == rhs.before?.id && lhs.limit == rhs.limit
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(connection)
        hasher.combine(number)
        hasher.combine(limit)
    }
}

public struct OrderTotals: Hashable, Sendable {
    public var all: Int
    /// First seen at or after the `since` asked for.
    public var since: Int
    public var pendingExport: Int

    public init(all: Int, since: Int, pendingExport: Int) {
        self.all = all
        self.since = since
        self.pendingExport = pendingExport
    }
}

public protocol OrderIndexStore: Sendable {
    func orders(_ filter: OrderFilter) async throws -> [OrderRecord]
    func order(id: String) async throws -> OrderRecord?
    func orderTotals(since: Date) async throws -> OrderTotals
}
