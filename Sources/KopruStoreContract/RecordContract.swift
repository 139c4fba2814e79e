import Foundation
import KopruCore
import KopruStore

extension StoreContract {
    static let recordCases: [ContractCase] = [
        ContractCase(name: "bindings: unique both ways, idempotent for the same pair") { store in
            let binding = Binding(connection: "erp", entity: "order", externalID: "FTR-1", internalID: "order-1")
            try await store.bind(binding)
            try await store.bind(binding)
            try await expectThrows("binding the external id to another order") {
                try await store.bind(Binding(connection: "erp", entity: "order", externalID: "FTR-1", internalID: "order-2"))
            }
            try await expectThrows("binding the order to another external id") {
                try await store.bind(Binding(connection: "erp", entity: "order", externalID: "FTR-2", internalID: "order-1"))
            }
            try await store.bind(Binding(connection: "other-erp", entity: "order", externalID: "FTR-1", internalID: "order-2"))
            try expectEqual(
                try await store.binding(connection: "erp", entity: "order", externalID: "FTR-1"), binding, "by external id")
            try expectEqual(
                try await store.binding(connection: "erp", entity: "order", internalID: "order-1"), binding, "by internal id")
            try expectEqual(
                try await store.binding(connection: "erp", entity: "customer", externalID: "FTR-1"), nil, "per entity")
        },
        ContractCase(name: "cursors: set, read, overwrite") { store in
            try expectEqual(try await store.cursor(connection: "shop", name: "orders"), nil, "none yet")
            try await store.setCursor(SyncCursor(connection: "shop", name: "orders", value: "2026-11-23T10:00:00Z|41", updatedAt: t0))
            try await store.setCursor(
                SyncCursor(connection: "shop", name: "orders", value: "2026-11-23T10:05:00Z|42", updatedAt: t0.addingTimeInterval(1)))
            let cursor = try await store.cursor(connection: "shop", name: "orders")
            try expectEqual(cursor?.value, "2026-11-23T10:05:00Z|42", "latest value")
            try expectEqual(cursor?.updatedAt, t0.addingTimeInterval(1), "latest time")
        },
        ContractCase(name: "snapshots: last confirmed value per key") { store in
            try await store.putSnapshots(
                (1...1200).map { SnapshotEntry(connection: "shop", entity: "stock", key: "SKU-\($0)", value: "\($0)", confirmedAt: t0) })
            try await store.putSnapshots([SnapshotEntry(connection: "shop", entity: "stock", key: "SKU-7", value: "0", confirmedAt: t0)])
            let keys = ["SKU-7", "SKU-1100", "SKU-unknown"] + (1...700).map { "SKU-\($0)" }
            let found = try await store.snapshots(connection: "shop", entity: "stock", keys: keys)
            try expectEqual(found["SKU-7"], "0", "overwritten value")
            try expectEqual(found["SKU-1100"], "1100", "value beyond one chunk")
            try expectEqual(found["SKU-unknown"], nil, "unknown key absent")
            try expectEqual(found.count, 701, "every known key found once")
            try expectEqual(try await store.snapshots(connection: "other", entity: "stock", keys: ["SKU-7"]).count, 0, "per connection")
        },
        ContractCase(name: "snapshots: a page of neighbouring keys, a sparse one, and keys beside them that are not asked for") { store in
            // A catalogue page is one stretch of keys, which a store may read as one range: what
            // it answers must still be exactly the keys asked for, on this connection and entity.
            let catalogue = (1...3000).map { String(format: "SKU-%05d", $0) }
            try await store.putSnapshots(catalogue.map { SnapshotEntry(connection: "shop", entity: "stock", key: $0, value: "v\($0)", confirmedAt: t0) })
            try await store.putSnapshots(catalogue.map { SnapshotEntry(connection: "shop2", entity: "stock", key: $0, value: "other", confirmedAt: t0) })
            try await store.putSnapshots(catalogue.map { SnapshotEntry(connection: "shop", entity: "price", key: $0, value: "price", confirmedAt: t0) })
            // Non-ASCII keys sort differently as bytes than as Swift strings in some cases; a
            // range must cover them either way.
            let odd = ["ÇAY-1", "çay-2", "Zeytin-İ", "ağaç-3", "SKU-00100a", "~tilde"]
            try await store.putSnapshots(odd.map { SnapshotEntry(connection: "shop", entity: "stock", key: $0, value: "v\($0)", confirmedAt: t0) })
            let page = Array(catalogue[1000..<1500]) + ["SKU-01000x", "SKU-99999"]
            let found = try await store.snapshots(connection: "shop", entity: "stock", keys: page.reversed())
            try expectEqual(found.count, 500, "the page's known keys, nothing else")
            try expectEqual(found["SKU-01001"], "vSKU-01001", "first of the page")
            try expectEqual(found["SKU-01500"], "vSKU-01500", "last of the page")
            try expectEqual(found["SKU-01000"], nil, "a neighbour not asked for")
            let sparse = stride(from: 0, to: 3000, by: 20).map { catalogue[$0] } + odd
            let spread = try await store.snapshots(connection: "shop", entity: "stock", keys: sparse)
            try expectEqual(spread.count, 150 + odd.count, "keys spread over the whole catalogue, non-ASCII included")
            try expectEqual(spread.values.filter { $0 == "other" || $0 == "price" }.count, 0, "only this connection and entity")
            try expectEqual(spread["çay-2"], "vçay-2", "a non-ASCII key")
        },
        ContractCase(name: "event log: filters, pages newest first, purges by age") { store in
            try await store.append([
                EventRecord(at: t0, level: .info, kind: "external_call", connection: "erp", message: "POST /orders 201",
                    details: ["status": "201"], durationMilliseconds: 84),
                EventRecord(at: t0.addingTimeInterval(10), level: .error, kind: "external_call", connection: "erp", message: "POST /orders 500"),
                EventRecord(at: t0.addingTimeInterval(20), level: .warning, kind: "webhook", connection: "shop", message: "bad signature"),
                EventRecord(at: t0.addingTimeInterval(30), level: .debug, kind: "sync_run", message: "stock sync"),
            ])
            let all = try await store.events(EventFilter())
            try expectEqual(all.map(\.message).first, "stock sync", "newest first")
            try expectEqual(all.count, 4, "all")
            try expectEqual(try await store.events(EventFilter(minimumLevel: .warning)).count, 2, "warning and above")
            try expectEqual(try await store.events(EventFilter(connection: "erp")).count, 2, "by connection")
            try expectEqual(try await store.events(EventFilter(kind: "webhook")).map(\.message), ["bad signature"], "by kind")
            try expectEqual(
                try await store.events(EventFilter(from: t0.addingTimeInterval(5), to: t0.addingTimeInterval(25))).count, 2, "time range")
            let first = try await store.events(EventFilter(connection: "erp", limit: 1))
            let next = try await store.events(EventFilter(connection: "erp", beforeID: first[0].id, limit: 1))
            try expectEqual(next.map(\.message), ["POST /orders 201"], "second page")
            try expectEqual(next[0].details, ["status": "201"], "details kept")
            try expectEqual(next[0].durationMilliseconds, 84, "duration kept")
            try expectEqual(try await store.purgeEvents(before: t0.addingTimeInterval(15)), 2, "purged the two oldest")
            try expectEqual(try await store.events(EventFilter()).count, 2, "two left")
        },
        ContractCase(name: "connections: secrets round-trip, delete") { store in
            let connection = Connection(
                id: "horoz-main", type: "horoz", name: "Horoz", settings: ["baseURL": "http://127.0.0.1:9"],
                secrets: ["processKey": Secret("pk-0123456789abcdef")])
            try await store.saveConnection(connection, now: t0)
            try expectEqual(try await store.connection("horoz-main"), connection, "read back")
            var paused = connection
            paused.paused = true
            paused.secrets["processKey"] = Secret("pk-rotated-000000")
            try await store.saveConnection(paused, now: t0)
            try expectEqual(try await store.connection("horoz-main"), paused, "updated")
            try expectEqual(try await store.connections().map(\.id), ["horoz-main"], "listed")
            try await store.deleteConnection("horoz-main")
            try expectEqual(try await store.connection("horoz-main"), nil, "deleted")
            try await expectThrows("deleting twice") { try await store.deleteConnection("horoz-main") }
        },
        ContractCase(name: "schedules: compare-and-set, so one fire enqueues one job") { store in
            let slot1 = t0.addingTimeInterval(900)
            let slot2 = t0.addingTimeInterval(1800)
            try expectEqual(try await store.nextFire(schedule: "stock"), nil, "unknown schedule")
            try expect(try await store.advanceSchedule("stock", expected: nil, next: slot1, enqueue: nil, now: t0), "initialised")
            try expect(!(try await store.advanceSchedule("stock", expected: nil, next: slot2, enqueue: nil, now: t0)), "initialised once")
            let fire = job("stock@\(slot1.millisecondsSince1970)", kind: "flow.run")
            try expect(try await store.advanceSchedule("stock", expected: slot1, next: slot2, enqueue: fire, now: slot1), "fired")
            try expect(
                !(try await store.advanceSchedule("stock", expected: slot1, next: slot2, enqueue: fire, now: slot1)),
                "a second scheduler with the stale slot does not fire")
            try expectEqual(try await store.nextFire(schedule: "stock"), slot2, "next slot recorded")
            try expectEqual(try await store.jobs(JobFilter(kind: "flow.run")).count, 1, "one job for the slot")
        },
            ContractCase(name: "leadership: one holder at a time, renewable, taken over once the term runs out") { store in
            try expect(try await store.acquireLeadership("scheduler", holder: "a", until: t0.addingTimeInterval(10), now: t0), "a leads")
            try expect(
                !(try await store.acquireLeadership("scheduler", holder: "b", until: t0.addingTimeInterval(15), now: t0.addingTimeInterval(5))),
                "b cannot take a running term")
            try expect(
                try await store.acquireLeadership("scheduler", holder: "a", until: t0.addingTimeInterval(20), now: t0.addingTimeInterval(9)),
                "a renews")
            try expectEqual(try await store.leader("scheduler", now: t0.addingTimeInterval(19)), "a", "a leads until 20")
            try expect(
                !(try await store.acquireLeadership("scheduler", holder: "b", until: t0.addingTimeInterval(25), now: t0.addingTimeInterval(19))),
                "still a's term")
            try expect(
                try await store.acquireLeadership("scheduler", holder: "b", until: t0.addingTimeInterval(30), now: t0.addingTimeInterval(20)),
                "b takes over once a's term ran out")
            try expectEqual(try await store.leader("scheduler", now: t0.addingTimeInterval(21)), "b", "b leads")
            try await store.resignLeadership("scheduler", holder: "a")
            try expectEqual(try await store.leader("scheduler", now: t0.addingTimeInterval(21)), "b", "a cannot resign b's term")
            try await store.resignLeadership("scheduler", holder: "b")
            try expectEqual(try await store.leader("scheduler", now: t0.addingTimeInterval(21)), nil, "resigned")
            try expect(
                try await store.acquireLeadership("other-role", holder: "a", until: t0.addingTimeInterval(30), now: t0), "roles are separate")
        },
    ]
}
