import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient
import KopruStore
import Synchronization

/// Which traffic a request belongs to. Real-time work (an order on its way to the ERP) goes
/// ahead of bulk work (a 100 k stock sync) in the queue, in a connection's worker slots and in
/// its rate budget. The job processor sets it from the job's priority: below zero is bulk.
public enum TrafficLane: String, Sendable {
    case realtime
    case bulk

    @TaskLocal public static var current: TrafficLane = .realtime

    public static func of(priority: Int) -> TrafficLane { priority < 0 ? .bulk : .realtime }
}

/// Rate budgets kept in the store, so every process sending for a connection draws from one
/// budget. A real-time request books its slot at once and waits for it. Bulk requests book only
/// slots that start within `bulkHorizon`, a block at a time (one store transaction for many
/// requests when the limit is fast), share them within the process, and leave one unit of the
/// burst unused: a real-time request never waits behind bulk traffic for more than the horizon
/// plus one interval.
public struct RateBudget: Sendable {
    let store: any RateBudgetStore
    /// The share of a declared limit we plan for: jitter between our clock and the platform's
    /// must not tip a request over.
    public var share: Double
    /// How much later than planned a request may reach the platform (scheduling, network)
    /// without crowding its window.
    public var jitter: TimeInterval
    /// Longer than this, a bulk request gives its worker back (the job is deferred).
    public var maxBulkWait: TimeInterval
    /// Longer than this, a real-time request does too.
    public var maxRealtimeWait: TimeInterval
    /// How far ahead bulk slots are booked.
    public var bulkHorizon: TimeInterval
    let now: @Sendable () -> Date
    private let booked = BookedSlots()

    public init(
        store: any RateBudgetStore, share: Double = 0.98, jitter: TimeInterval = 0.05, maxBulkWait: TimeInterval = 5,
        maxRealtimeWait: TimeInterval = 30, bulkHorizon: TimeInterval = 0.25, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.share = share
        self.jitter = jitter
        self.maxBulkWait = maxBulkWait
        self.maxRealtimeWait = maxRealtimeWait
        self.bulkHorizon = bulkHorizon
        self.now = now
    }

    private enum Booking: Sendable {
        case go([Date])
        case later(Date)
    }

    /// Waits until one request may be sent under `limit`, or throws `rateLimited` when that is
    /// further away than the lane may wait.
    public func acquire(_ key: String, limit: RateLimit, lane: TrafficLane) async throws {
        let planned = limit.planned(share: share, jitter: jitter)
        let block = max(1, min(100, Int(bulkHorizon / planned.interval)))
        while true {
            let now = self.now()
            if lane == .bulk, let (start, left) = booked.take(key, now: now, interval: planned.interval, staleAfter: bulkHorizon) {
                // Book the next block while this one lasts, so no sender waits on the store
                // (whose writer may be busy committing a job).
                if left < (block + 1) / 2, booked.beginRefill(key) {
                    Task {
                        defer { booked.endRefill(key) }
                        if case .go(let starts)? = try? await bookBulk(key, planned, block: block, now: self.now(), ahead: true) {
                            booked.add(key, starts)
                        }
                    }
                }
                try await Self.sleep(until: start, now: now)
                // Woken late (a busy machine): sent now, this request could land right behind
                // the next slot's and crowd a window. Leave the slot unused and take the next.
                if self.now().timeIntervalSince(start) > planned.interval / 2 { continue }
                return
            }
            let booking =
                lane == .bulk
                ? try await bookBulk(key, planned, block: block, now: now, ahead: false)
                : try await store.updateBudget(key) { arrival -> (arrival: Date?, result: Booking) in
                    let slot = CellRate.reserve(planned, arrival: arrival, now: now)
                    guard slot.start.timeIntervalSince(now) <= maxRealtimeWait else { return (nil, .later(slot.start)) }
                    return (CellRate.roundedUp(slot.arrival), .go([slot.start]))
                }
            switch booking {
            case .go(let starts):
                guard lane == .bulk else {
                    try await Self.sleep(until: starts[0], now: now)
                    return
                }
                booked.add(key, starts)
            case .later(let start):
                let wait = start.timeIntervalSince(now)
                if wait > (lane == .bulk ? maxBulkWait : maxRealtimeWait) {
                    throw ConnectorError.rateLimited(
                        "rate budget \(key) (\(limit)) is spent for \(Int(wait.rounded(.up))) s", retryAfter: .milliseconds(Int64(wait * 1000)))
                }
                try await Self.sleep(until: start, now: now)
            }
        }
    }

    /// Up to `block` bulk slots: starting now (or, booking ahead, within two horizons), one unit
    /// of the burst left free.
    private func bookBulk(_ key: String, _ planned: RateLimit, block: Int, now: Date, ahead: Bool) async throws -> Booking {
        let horizon = bulkHorizon
        return try await store.updateBudget(key) { arrival -> (arrival: Date?, result: Booking) in
            var starts: [Date] = []
            var current = arrival
            while starts.count < block {
                let slot = CellRate.reserve(planned, arrival: current, now: now, headroom: planned.burst > 1 ? 1 : 0)
                let reach = ahead ? 2 * horizon : (starts.isEmpty ? 0.001 : horizon)
                guard slot.start.timeIntervalSince(now) <= reach else {
                    return starts.isEmpty ? (nil, .later(slot.start)) : (current.map(CellRate.roundedUp), .go(starts))
                }
                starts.append(slot.start)
                current = slot.arrival
            }
            return (current.map(CellRate.roundedUp), .go(starts))
        }
    }

    /// The platform said "not before `until`": nobody draws from this budget before then.
    public func pause(_ key: String, limit: RateLimit, until: Date) async throws {
        let planned = limit.planned(share: share, jitter: jitter)
        booked.clear(key)
        try await store.updateBudget(key) { arrival in (CellRate.pause(planned, arrival: arrival, until: until), ()) }
    }

    static func sleep(until start: Date, now: Date) async throws {
        let wait = start.timeIntervalSince(now)
        if wait > 0 { try await Task.sleep(for: .nanoseconds(Int64((wait * 1e9).rounded(.up)))) }
    }
}

/// Bulk slots this process booked and has not used yet, earliest first. A slot is handed out
/// no earlier than its time and at least one interval after the previous one, so a sender that
/// woke late does not send two requests back to back; a slot left unused for longer than the
/// horizon (its job ended) is dropped.
final class BookedSlots: Sendable {
    private struct Queue {
        var starts: [Date] = []
        var lastHandedOut = Date.distantPast
        var refilling = false
    }

    private let queues = Mutex<[String: Queue]>([:])

    /// The next slot and how many are left after it.
    func take(_ key: String, now: Date, interval: TimeInterval, staleAfter: TimeInterval) -> (Date, Int)? {
        queues.withLock { queues in
            guard var queue = queues[key] else { return nil }
            defer { queues[key] = queue }
            while let first = queue.starts.first {
                queue.starts.removeFirst()
                guard now.timeIntervalSince(first) <= staleAfter else { continue }
                let start = max(first, queue.lastHandedOut.addingTimeInterval(interval))
                queue.lastHandedOut = start
                return (start, queue.starts.count)
            }
            return nil
        }
    }

    /// True for the one caller that should book the next block.
    func beginRefill(_ key: String) -> Bool {
        queues.withLock { queues in
            guard queues[key]?.refilling == false else { return false }
            queues[key]?.refilling = true
            return true
        }
    }

    func endRefill(_ key: String) { queues.withLock { $0[key]?.refilling = false } }

    func add(_ key: String, _ starts: some Sequence<Date>) {
        queues.withLock { $0[key, default: Queue()].starts.append(contentsOf: starts) }
    }

    func clear(_ key: String) { queues.withLock { $0[key]?.starts = [] } }
}

/// Draws every request of one connection from its class's budget, and pauses the class when
/// the platform answers 429/503 with `Retry-After`, or says by its limit headers that nothing
/// is left (`X-RateLimit-Remaining: 0` with a reset).
public final class RateBudgetMiddleware: HTTPMiddleware {
    let budget: RateBudget
    let connection: ConnectionID
    let limits: EndpointLimits
    /// Classes without a declared limit that a platform has paused: only these need a look at
    /// the store before sending. Process-wide, so a connector built afresh for the next job
    /// still knows; another process learns from its own first 429.
    private static let paused = Mutex<Set<String>>([])

    public init(budget: RateBudget, connection: ConnectionID, limits: EndpointLimits) {
        self.budget = budget
        self.connection = connection
        self.limits = limits
    }

    /// What an undeclared class is paused with: an interval too short to slow anything down.
    static let unlimited = RateLimit(requests: 1000, per: 1)

    public func handle(
        _ request: OutboundRequest, next: @Sendable (OutboundRequest) async throws -> InboundResponse
    ) async throws -> InboundResponse {
        let endpoint = limits.classify(method: request.method, path: request.url.path)
        let key = "\(connection.rawValue):\(endpoint.name)"
        let limit = endpoint.limit ?? Self.unlimited
        if endpoint.limit != nil || Self.paused.withLock({ $0.contains(key) }) {
            do { try await budget.acquire(key, limit: limit, lane: TrafficLane.current) } catch let error as ConnectorError {
                throw error
            } catch let error as CancellationError { throw error } catch { throw ConnectorError.storeUnreadable("rate budget", key: key) }
        }
        let response = try await next(request)
        if let until = Self.pauseUntil(response, now: budget.now()) {
            Self.paused.withLock { _ = $0.insert(key) }
            // The answer came: a pause the store cannot record now must not turn it into a failure.
            try? await budget.pause(key, limit: limit, until: until)
        }
        return response
    }

    /// When the response says to stop sending, until when.
    static func pauseUntil(_ response: InboundResponse, now: Date) -> Date? {
        if [429, 503].contains(response.status), let delay = RetryAfter.from(response.headers, now: now) {
            return now.addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        }
        let remaining = ["x-ratelimit-remaining", "ratelimit-remaining"].lazy.compactMap { name in
            HTTPField.Name(name).flatMap { response.headers[$0] }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }.first
        guard remaining == 0 else { return nil }
        let reset = ["x-ratelimit-reset", "ratelimit-reset"].lazy.compactMap { name in
            HTTPField.Name(name).flatMap { response.headers[$0] }.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }.first
        guard let reset else { return nil }
        // Some platforms send seconds to wait, others an epoch time.
        return reset > 1_000_000_000 ? Date(timeIntervalSince1970: reset) : now.addingTimeInterval(reset)
    }
}
