import Foundation
import KopruCore

/// Request budgets every process shares: one stored arrival time (see `CellRate`) per
/// (connection, endpoint class), read and written in one transaction.
public protocol RateBudgetStore: Sendable {
    /// Reads the budget's arrival time (nil if never used), stores the arrival `decide` returns
    /// (nil leaves it as it was) and returns `decide`'s result, all in one transaction.
    func updateBudget<T: Sendable>(_ key: String, _ decide: @Sendable (Date?) -> (arrival: Date?, result: T)) async throws -> T
}

/// Units of a SKU held by an order a channel accepted that the ERP does not have yet.
public struct StockReservation: Hashable, Sendable, Codable {
    /// `<connection>:<order id>` on the channel that took the order.
    public var order: String
    public var sku: String
    public var quantity: Int

    public init(order: String, sku: String, quantity: Int) {
        self.order = order
        self.sku = sku
        self.quantity = quantity
    }
}

public protocol StockReservationStore: Sendable {
    /// Units held per SKU (SKUs without any are absent). A reservation released at or after
    /// `asOf` still counts: a stock level read at `asOf` may not include that order yet.
    func reservedQuantities(skus: [String], asOf: Date) async throws -> [String: Int]
    /// The same for every SKU that has any: the table holds only orders on their way to the
    /// ERP, so one scan beats a lookup per SKU when a whole catalogue is read.
    func reservedQuantities(asOf: Date) async throws -> [String: Int]
    /// Forgets reservations released before the cutoff; returns how many.
    func purgeReservations(releasedBefore cutoff: Date) async throws -> Int
}

/// The counts of one sync run, as the CLI, the admin API and the logs report them.
public struct SyncRun: Hashable, Sendable, Codable {
    /// `<flow>#<job id of the sync>`.
    public var id: String
    public var flow: String
    public var target: ConnectionID
    public var startedAt: Date
    public var updatedAt: Date
    /// Items read from the source so far.
    public var read: Int
    /// Items found changed and queued for the target.
    public var queued: Int
    public var confirmed: Int
    public var refused: Int
    /// The source has been read to its end.
    public var readDone: Bool

    public init(
        id: String, flow: String, target: ConnectionID, startedAt: Date, updatedAt: Date, read: Int = 0, queued: Int = 0,
        confirmed: Int = 0, refused: Int = 0, readDone: Bool = false
    ) {
        self.id = id
        self.flow = flow
        self.target = target
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.read = read
        self.queued = queued
        self.confirmed = confirmed
        self.refused = refused
        self.readDone = readDone
    }

    var storePrecision: SyncRun {
        var copy = self
        copy.startedAt = startedAt.storePrecision
        copy.updatedAt = updatedAt.storePrecision
        return copy
    }

    /// Every queued item is settled, one way or the other, and nothing more will be queued.
    public var finished: Bool { readDone && confirmed + refused >= queued }
}

/// A change to a run's counts. `read` and `readDone` only ever grow (a sync re-run after a crash
/// reads again from the start); the others are added.
public struct SyncRunUpdate: Hashable, Sendable, Codable {
    public var run: String
    public var flow: String
    public var target: ConnectionID
    public var at: Date
    public var read: Int
    public var readDone: Bool
    public var queued: Int
    public var confirmed: Int
    public var refused: Int

    public init(
        run: String, flow: String, target: ConnectionID, at: Date, read: Int = 0, readDone: Bool = false, queued: Int = 0,
        confirmed: Int = 0, refused: Int = 0
    ) {
        self.run = run
        self.flow = flow
        self.target = target
        self.at = at
        self.read = read
        self.readDone = readDone
        self.queued = queued
        self.confirmed = confirmed
        self.refused = refused
    }

    public func applied(to existing: SyncRun?) -> SyncRun {
        var run = existing ?? SyncRun(id: self.run, flow: flow, target: target, startedAt: at, updatedAt: at)
        run.updatedAt = max(run.updatedAt, at)
        run.read = max(run.read, read)
        run.readDone = run.readDone || readDone
        run.queued += queued
        run.confirmed += confirmed
        run.refused += refused
        return run
    }
}

public protocol SyncRunStore: Sendable {
    func updateSyncRun(_ update: SyncRunUpdate) async throws
    func syncRun(_ id: String) async throws -> SyncRun?
    /// Newest first.
    func syncRuns(target: ConnectionID?, limit: Int) async throws -> [SyncRun]
}
