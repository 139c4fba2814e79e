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
/// budget. A real-time request books its slot at once and waits for it; a bulk request only
/// books a slot it can use now, and leaves one unit of the burst unused, so a real-time request
/// never waits behind queued bulk traffic for more than one interval.
public struct RateBudget: Sendable {
    let store: any RateBudgetStore
    /// The share of a declared limit we plan for: jitter between our clock and the platform's
    /// must not tip a request over.
    public var share: Double
    /// Longer than this, a bulk request gives its worker back (the job is deferred).
    public var maxBulkWait: TimeInterval
    /// Longer than this, a real-time request does too.
    public var maxRealtimeWait: TimeInterval
    let now: @Sendable () -> Date

    public init(
        store: any RateBudgetStore, share: Double = 0.98, maxBulkWait: TimeInterval = 5, maxRealtimeWait: TimeInterval = 30,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.share = share
        self.maxBulkWait = maxBulkWait
        self.maxRealtimeWait = maxRealtimeWait
        self.now = now
    }

    private enum Booking: Sendable {
        case go(Date)
        case later(Date)
    }

    /// Waits until one request may be sent under `limit`, or throws `rateLimited` when that is
    /// further away than the lane may wait.
    public func acquire(_ key: String, limit: RateLimit, lane: TrafficLane) async throws {
        let planned = limit.planned(share: share)
        while true {
            let now = self.now()
            let booking = try await store.updateBudget(key) { arrival -> (arrival: Date?, result: Booking) in
                switch lane {
                case .realtime:
                    let slot = CellRate.reserve(planned, arrival: arrival, now: now)
                    guard slot.start.timeIntervalSince(now) <= maxRealtimeWait else { return (nil, .later(slot.start)) }
                    return (slot.arrival, .go(slot.start))
                case .bulk:
                    let slot = CellRate.reserve(planned, arrival: arrival, now: now, headroom: planned.burst > 1 ? 1 : 0)
                    guard slot.start.timeIntervalSince(now) <= 0.001 else { return (nil, .later(slot.start)) }
                    return (slot.arrival, .go(slot.start))
                }
            }
            switch booking {
            case .go(let start):
                try await Self.sleep(until: start, now: now)
                return
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

    /// The platform said "not before `until`": nobody draws from this budget before then.
    public func pause(_ key: String, limit: RateLimit, until: Date) async throws {
        let planned = limit.planned(share: share)
        try await store.updateBudget(key) { arrival in (CellRate.pause(planned, arrival: arrival, until: until), ()) }
    }

    static func sleep(until start: Date, now: Date) async throws {
        let wait = start.timeIntervalSince(now)
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up)))) }
    }
}

/// Draws every request of one connection from its class's budget, and pauses the class when
/// the platform answers 429/503 with `Retry-After`, or says by its limit headers that nothing
/// is left (`X-RateLimit-Remaining: 0` with a reset).
public final class RateBudgetMiddleware: HTTPMiddleware {
    let budget: RateBudget
    let connection: ConnectionID
    let limits: EndpointLimits
    /// Classes without a declared limit that a platform has paused: only these need a look at
    /// the store before sending.
    private let paused = Mutex<Set<String>>([])

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
        if endpoint.limit != nil || paused.withLock({ $0.contains(key) }) {
            try await budget.acquire(key, limit: limit, lane: TrafficLane.current)
        }
        let response = try await next(request)
        if let until = Self.pauseUntil(response, now: budget.now()) {
            paused.withLock { _ = $0.insert(key) }
            try await budget.pause(key, limit: limit, until: until)
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
