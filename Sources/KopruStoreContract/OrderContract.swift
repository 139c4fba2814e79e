import Foundation
import KopruCore
import KopruStore

extension StoreContract {
    /// Applies effects as a job's completion does (the only way the order index is written).
    static func commit(_ effects: [StoreEffect], in store: any Store, key: String, at now: Date = t0) async throws {
        _ = try await store.enqueue([job(key, kind: "order.test")], now: now)
        let claimed = try await claim(store, at: now, kinds: ["order.test"])
        try expectEqual(claimed.count, 1, "one job to carry the effects")
        let results = try await store.complete([JobCompletion(lease: claimed[0].lease, outcome: .succeeded, effects: effects, now: now)])
        try expectEqual(results, [.applied], "effects applied")
    }

    static func order(_ number: String, seen: Date, via: String = "poll", queued: Bool = true, status: String = "accepted") -> OrderRecord {
        OrderRecord(
            id: "shop:\(number)", connection: "shop", externalID: "e\(number)", number: number, status: status, total: "129.90",
            currency: "TRY", placedAt: seen.addingTimeInterval(-30), firstSeenAt: seen, updatedAt: seen, seenVia: via,
            exportQueuedAt: queued ? seen : nil, exportTarget: queued ? "erp" : nil)
    }

    static let orderCases: [ContractCase] = [
        ContractCase(name: "order index: a later sighting updates the channel's word and keeps the first sighting and the export") { store in
            try await commit([.recordOrder(order("000000123", seen: t0, via: "webhook"))], in: store, key: "a")
            var later = order("000000123", seen: t0.addingTimeInterval(90), via: "poll", status: "cancelled")
            later.total = "0.00"
            try await commit(
                [.recordOrderExport(order: "shop:000000123", target: "erp", reference: "SIP-1", at: t0.addingTimeInterval(60))], in: store,
                key: "b")
            try await commit([.recordOrder(later)], in: store, key: "c")
            let stored = try await store.order(id: "shop:000000123")
            try expectEqual(stored?.status, "cancelled", "status as last read")
            try expectEqual(stored?.total, "0.00", "total as last read")
            try expectEqual(stored?.firstSeenAt, t0, "first sighting kept")
            try expectEqual(stored?.seenVia, "webhook", "first way kept")
            try expectEqual(stored?.exportReference, "SIP-1", "export kept")
            try expectEqual(stored?.exportedAt, t0.addingTimeInterval(60), "export time kept")
            try await commit(
                [.recordOrderExport(order: "shop:000000123", target: "erp", reference: "SIP-2", at: t0.addingTimeInterval(99))], in: store,
                key: "d")
            try expectEqual(try await store.order(id: "shop:000000123")?.exportReference, "SIP-1", "the first export stands")
            try expectEqual(try await store.order(id: "shop:000000123")?.exportQueuedAt, t0, "first queueing kept")
            try expectEqual(try await store.order(id: "shop:000000123")?.exportTarget, "erp", "target kept")
            try await commit([.recordOrder(order("000000777", seen: t0, status: "accepted"))], in: store, key: "e")
            try await commit(
                [.recordOrderExport(order: "shop:000000777", target: "luca", reference: "L-1", at: t0.addingTimeInterval(5))], in: store,
                key: "f")
            try expectEqual(try await store.order(id: "shop:000000777")?.exportedAt, nil, "an export to another target is not this one's")
            try await commit([.recordOrder(order("000000777", seen: t0.addingTimeInterval(9), status: "cancelled"))], in: store, key: "g")
            try expectEqual(try await store.orderTotals(since: t0).pendingExport, 0, "a cancelled order waits for nothing")
            try expectEqual(try await store.order(id: "shop:nope"), nil, "unknown order")
        },
        ContractCase(name: "order index: newest first, paged, by number's end, pending only, counted") { store in
            var effects: [StoreEffect] = []
            for index in 1...30 {
                // Pairs share a first sighting, so paging must tie-break by id.
                effects.append(.recordOrder(order(String(format: "%09d", index), seen: t0.addingTimeInterval(Double(index / 2)), queued: index % 3 != 0)))
            }
            effects.append(.recordOrderExport(order: "shop:000000030", target: "erp", reference: "SIP-30", at: t0.addingTimeInterval(20)))
            effects.append(.recordOrderExport(order: "shop:000000029", target: "erp", reference: "SIP-29", at: t0.addingTimeInterval(20)))
            try await commit(effects, in: store, key: "many")
            var seen: [String] = []
            var filter = OrderFilter(limit: 7)
            while true {
                let page = try await store.orders(filter)
                seen += page.map(\.number)
                guard page.count == filter.limit, let last = page.last else { break }
                filter.before = (last.firstSeenAt, last.id)
            }
            try expectEqual(seen, (1...30).reversed().map { String(format: "%09d", $0) }, "every order once, newest first")
            try expectEqual(try await store.orders(OrderFilter(number: "000000012")).map(\.number), ["000000012"], "exact number")
            try expectEqual(try await store.orders(OrderFilter(number: "12")).map(\.number), ["000000012"], "the number's end")
            for wildcard in ["%", "_", "*", "?", "[1]", "0*2"] {
                try expectEqual(try await store.orders(OrderFilter(number: wildcard)).map(\.number), [], "\(wildcard) is only characters")
            }
            try expectEqual(try await store.orders(OrderFilter(number: "2")).count, 3, "ends in 2: 2, 12, 22")
            let pending = try await store.orders(OrderFilter(pendingExportOnly: true, limit: 100))
            // Queued: all but multiples of 3 (20), less 29 exported (30 was never queued).
            try expectEqual(pending.count, 19, "queued and not exported")
            try expectEqual(try await store.orders(OrderFilter(connection: "other")).count, 0, "by connection")
            let totals = try await store.orderTotals(since: t0.addingTimeInterval(10))
            try expectEqual(totals, OrderTotals(all: 30, since: 11, pendingExport: 19), "totals")
        },
    ]
}
