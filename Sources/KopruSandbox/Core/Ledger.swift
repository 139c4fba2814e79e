import Foundation
import Synchronization

/// Every request a sandbox received, in order, with what became of it. Tests count duplicates
/// from here: "order 000000123 was created twice" is two entries with effect `created`.
public final class Ledger: Sendable {
    public struct Entry: Sendable {
        public var sequence: Int
        public var at: Date
        public var method: String
        public var path: String
        public var rawQuery: String
        public var headers: [String: String]
        public var body: Data
        /// The route's name, or nil when no route matched.
        public var route: String?
        /// The status sent, or nil when the connection was dropped or never answered.
        public var status: Int?
        /// The injected fault, if any (`5xx`, `429`, `timeout`, `drop`, `commit-then-5xx`, ...).
        public var fault: String?
        public var businessKey: String?
        public var effect: String?
    }

    private let entries = Mutex<[Entry]>([])
    private let bodies = Atomic<Bool>(true)

    public init() {}

    /// Benchmarks of 100 k rows keep the entries but not the bodies (or the ledger would be
    /// most of the memory measured).
    public func keepBodies(_ keep: Bool) { bodies.store(keep, ordering: .relaxed) }

    func record(_ entry: Entry) {
        let keep = bodies.load(ordering: .relaxed)
        entries.withLock { entries in
            var entry = entry
            if !keep { entry.body = Data() }
            entry.sequence = entries.count + 1
            entries.append(entry)
        }
    }

    public var all: [Entry] { entries.withLock { $0 } }

    public func entries(route: String) -> [Entry] { entries.withLock { $0.filter { $0.route == route } } }

    /// How many times each business key had the given effect on the route.
    public func effectCounts(route: String, effect: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for entry in entries(route: route) where entry.effect == effect {
            if let key = entry.businessKey { counts[key, default: 0] += 1 }
        }
        return counts
    }

    public var count: Int { entries.withLock { $0.count } }

    public func clear() { entries.withLock { $0.removeAll() } }
}
