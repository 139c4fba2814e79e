import Foundation
import KopruCore
import KopruStore

extension StoreContract {
    static let stockCases: [ContractCase] = [
        ContractCase(name: "claims: a connection's bulk jobs can be held back while its real-time jobs run") { store in
            _ = try await store.enqueue(
                [
                    job("bulk", priority: -10, connection: "shop"), job("order", priority: 0, connection: "shop"),
                    job("other-bulk", priority: -10, connection: "erp"),
                ], now: t0)
            let claimed = try await store.claim(
                ClaimRequest(owner: "w", limit: 10, leaseDuration: 60, now: t0, excludingBulkConnections: ["shop"]))
            try expectEqual(Set(keys(claimed)), ["order", "other-bulk"], "shop's bulk job waits")
        },
        ContractCase(name: "rate budgets: one arrival time per key, changed only when asked") { store in
            let first = try await store.updateBudget("erp:orders") { stored in (t0, stored) }
            try expectEqual(first, nil, "a new budget has no arrival time")
            let second = try await store.updateBudget("erp:orders") { stored in (nil, stored) }
            try expectEqual(second, t0, "stored")
            _ = try await store.updateBudget("erp:orders") { _ in (nil, 0) }
            let third: Date? = try await store.updateBudget("erp:orders") { stored in (nil, stored) }
            try expectEqual(third, t0, "nil leaves it")
            let other: Date? = try await store.updateBudget("erp:stock") { stored in (nil, stored) }
            try expectEqual(other, nil, "per key")
        },
        ContractCase(name: "rate budgets: concurrent reservations never share a slot") { store in
            let limit = RateLimit(requests: 10, per: 1, burst: 1)
            let starts = try await withThrowingTaskGroup(of: Date.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.updateBudget("shop:bulk") { arrival in
                            let reservation = CellRate.reserve(limit, arrival: arrival, now: t0)
                            return (CellRate.roundedUp(reservation.arrival), reservation.start)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let offsets = starts.map { Int(($0.timeIntervalSince(t0) * 1000).rounded()) }.sorted()
            try expectEqual(offsets, (0..<20).map { $0 * 100 }, "one request per 100 ms, none twice")
        },
        ContractCase(name: "stock reservations: held until released, and for reads before the release") { store in
            _ = try await store.enqueue([job("reserve")], now: t0)
            let claimed = try await claim1(store)
            _ = try await store.complete([
                JobCompletion(
                    lease: claimed.lease, outcome: .succeeded,
                    effects: [
                        .reserveStock([
                            StockReservation(order: "shop:1", sku: "A", quantity: 2), StockReservation(order: "shop:1", sku: "B", quantity: 1),
                            StockReservation(order: "shop:2", sku: "A", quantity: 3),
                        ]),
                        .reserveStock([StockReservation(order: "shop:1", sku: "A", quantity: 1)]),
                        .releaseStock(order: "shop:2", at: t0.addingTimeInterval(10)),
                        .reserveStock([StockReservation(order: "shop:2", sku: "A", quantity: 5)]),
                    ], now: t0)
            ])
            try expectEqual(
                try await store.reservedQuantities(skus: ["A", "B", "C"], asOf: t0), ["A": 4, "B": 1],
                "a read before the release still counts the released order")
            try expectEqual(
                try await store.reservedQuantities(skus: ["A", "B"], asOf: t0.addingTimeInterval(11)), ["A": 1, "B": 1],
                "a read after the release does not; a released order is not held again")
            try expectEqual(try await store.purgeReservations(releasedBefore: t0.addingTimeInterval(60)), 1, "purged")
            try expectEqual(try await store.reservedQuantities(skus: ["A"], asOf: t0), ["A": 1], "the open one stays")
        },
        ContractCase(name: "sync runs: counts add up, read only grows") { store in
            let run = "stock#7"
            try await store.updateSyncRun(SyncRunUpdate(run: run, flow: "stock", target: "shop", at: t0, read: 1000, queued: 40))
            try await store.updateSyncRun(
                SyncRunUpdate(run: run, flow: "stock", target: "shop", at: t0.addingTimeInterval(2), read: 500, readDone: true, queued: 10))
            try await store.updateSyncRun(SyncRunUpdate(run: run, flow: "stock", target: "shop", at: t0.addingTimeInterval(1), confirmed: 45))
            try await store.updateSyncRun(SyncRunUpdate(run: run, flow: "stock", target: "shop", at: t0.addingTimeInterval(3), refused: 5))
            let stored = try await store.syncRun(run)
            try expectEqual(stored?.read, 1000, "read keeps the largest")
            try expectEqual(stored?.queued, 50, "queued adds")
            try expectEqual(stored?.confirmed, 45, "confirmed adds")
            try expectEqual(stored?.finished, true, "finished when all are settled and the read is done")
            try expectEqual(stored?.startedAt, t0, "started at the first update")
            try expectEqual(stored?.updatedAt, t0.addingTimeInterval(3), "updated at the latest")
            try await store.updateSyncRun(SyncRunUpdate(run: "stock#9", flow: "stock", target: "shop", at: t0.addingTimeInterval(5)))
            try await store.updateSyncRun(SyncRunUpdate(run: "other#1", flow: "other", target: "erp", at: t0.addingTimeInterval(6)))
            try expectEqual(try await store.syncRuns(target: "shop", limit: 10).map(\.id), ["stock#9", run], "newest first, per target")
            try expectEqual(try await store.syncRuns(target: nil, limit: 1).map(\.id), ["other#1"], "limit")
        },
    ]

    static func claim1(_ store: any Store) async throws -> ClaimedJob {
        guard let claimed = try await claim(store).first else { throw ContractFailure(message: "nothing to claim", location: #fileID) }
        return claimed
    }
}
