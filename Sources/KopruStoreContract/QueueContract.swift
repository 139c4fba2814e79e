import Foundation
import KopruCore
import KopruStore

extension StoreContract {
    static let queueCases: [ContractCase] = [
        ContractCase(name: "idempotency key: a second enqueue returns the first job") { store in
            let first = try await store.enqueue([job("order-1", payload: #"{"v":1}"#)], now: t0)[0]
            let again = try await store.enqueue([job("order-1", payload: #"{"v":2}"#)], now: t0)[0]
            try expect(first.inserted, "first enqueue inserts")
            try expect(!again.inserted, "second enqueue does not insert")
            try expectEqual(again.id, first.id, "second enqueue returns the first job")
            try expectEqual(try await store.job(first.id)?.payload, Data(#"{"v":1}"#.utf8), "payload of the first enqueue kept")
            let otherKind = try await store.enqueue([job("order-1", kind: "other.kind")], now: t0)[0]
            try expect(otherKind.inserted && otherKind.id != first.id, "the key is unique per kind only")
            let batch = try await store.enqueue([job("b-1"), job("b-1"), job("b-2")], now: t0)
            try expectEqual(batch.map(\.inserted), [true, false, true], "duplicates inside one batch")
            try expectEqual(batch[1].id, batch[0].id, "duplicate inside a batch returns the first")
        },
        ContractCase(name: "claim: ready jobs only, highest priority first, then oldest") { store in
            _ = try await store.enqueue(
                [
                    job("low", priority: 0), job("later", priority: 9, runAt: t0.addingTimeInterval(60)),
                    job("high", priority: 5), job("low-2", priority: 0),
                ], now: t0)
            try expectEqual(keys(try await claim(store, limit: 2)), ["high", "low"], "first claim")
            try expectEqual(keys(try await claim(store)), ["low-2"], "second claim leaves the future job")
            try expectEqual(keys(try await claim(store, at: t0.addingTimeInterval(61))), ["later"], "the future job once due")
            try expectEqual(try await claim(store, at: t0.addingTimeInterval(62)).count, 0, "nothing left")
        },
        ContractCase(name: "claim: filters by kind and skips connections at their limit") { store in
            _ = try await store.enqueue(
                [
                    job("a", kind: "k.one", connection: "shop"), job("b", kind: "k.two", connection: "erp"),
                    job("c", kind: "k.one", connection: "erp"), job("d", kind: "k.one"),
                ], now: t0)
            try expectEqual(
                keys(try await claim(store, kinds: ["k.one"], excluding: ["erp"])), ["a", "d"], "kind k.one, not on erp")
            try expectEqual(keys(try await claim(store)), ["b", "c"], "the rest")
        },
        ContractCase(name: "claim: no more of a connection's jobs than its free slots, per lane") { store in
            // Typed apart: as one expression it once ran past the type checker's time limit on a busy machine.
            let shop: [NewJob] = (1...5).map { job("shop-\($0)", connection: "shop") }
            let erp: [NewJob] = (1...4).map { job("erp-\($0)", connection: "erp") }
            _ = try await store.enqueue(shop + [job("bulk-1", priority: -10, connection: "shop")] + erp + [job("free")], now: t0)
            let slots = ConnectionSlots(realTime: ["shop": 2], bulk: ["shop": 1], unnamed: 3)
            let claimed = try await store.claim(
                ClaimRequest(owner: "worker-test", limit: 100, leaseDuration: 3600, now: t0, slots: slots))
            try expectEqual(
                keys(claimed).sorted(), ["bulk-1", "erp-1", "erp-2", "erp-3", "free", "shop-1", "shop-2"],
                "2 of shop's real-time jobs, its bulk job in its own lane, 3 of erp's (unnamed), any without a connection")
            let full = try await store.claim(
                ClaimRequest(owner: "worker-test", limit: 100, leaseDuration: 3600, now: t0,
                             slots: ConnectionSlots(realTime: ["shop": 0], unnamed: 1)))
            try expectEqual(keys(full), ["erp-4"], "none of a full connection, one of the other")
            try expectEqual(keys(try await claim(store, limit: 2)), ["shop-3", "shop-4"], "the limit still holds")
        },
        ContractCase(name: "ordering key: one at a time, in enqueue order") { store in
            _ = try await store.enqueue(
                [job("o1", ordering: "order-7"), job("o2", ordering: "order-7"), job("x", ordering: "order-8"),
                 job("o3", ordering: "order-7")], now: t0)
            let first = try await claim(store)
            try expectEqual(keys(first), ["o1", "x"], "only the head of each ordering key")
            try expectEqual(try await claim(store).count, 0, "o2 waits while o1 runs")
            let o1 = first[0]
            _ = try await store.complete([
                JobCompletion(lease: o1.lease, outcome: .retry(at: t0.addingTimeInterval(100), error: "boom"), now: t0)
            ])
            try expectEqual(try await claim(store, at: t0.addingTimeInterval(50)).count, 0, "o2 waits while o1 backs off")
            let again = try await claim(store, at: t0.addingTimeInterval(100))
            try expectEqual(keys(again), ["o1"], "o1 again after its backoff")
            _ = try await store.complete([JobCompletion(lease: again[0].lease, outcome: .succeeded, now: t0)])
            let next = try await claim(store, at: t0.addingTimeInterval(101))
            try expectEqual(keys(next), ["o2"], "then o2")
            _ = try await store.complete([JobCompletion(lease: next[0].lease, outcome: .dead(reason: "bad data"), now: t0)])
            try expectEqual(keys(try await claim(store, at: t0.addingTimeInterval(102))), ["o3"], "a dead letter does not block the key")
        },
        ContractCase(name: "coalescing key: a newer pending job replaces an older pending one") { store in
            let s1 = try await store.enqueue([job("stock-1@v1", coalescing: "sku-1", payload: #"{"qty":5}"#)], now: t0)[0]
            let s2 = try await store.enqueue([job("stock-1@v2", coalescing: "sku-1", payload: #"{"qty":4}"#)], now: t0)[0]
            try expectEqual(s2.superseded, [s1.id], "the older pending job is named as superseded")
            try expectEqual(try await store.job(s1.id)?.status, .superseded, "older job superseded")
            let claimed = try await claim(store)
            try expectEqual(keys(claimed), ["stock-1@v2"], "only the newest runs")
            // While v2 runs, v3 queues behind it rather than replacing a running job.
            let s3 = try await store.enqueue([job("stock-1@v3", coalescing: "sku-1", payload: #"{"qty":3}"#)], now: t0)[0]
            try expect(s3.superseded.isEmpty, "a running job is not superseded")
            try expectEqual(try await store.job(s2.id)?.status, .running, "v2 still running")
            // v2 fails: it must not come back as a second pending job for sku-1; v3 carries newer data.
            _ = try await store.complete([
                JobCompletion(lease: claimed[0].lease, outcome: .retry(at: t0, error: "timeout"), now: t0)
            ])
            try expectEqual(try await store.job(s2.id)?.status, .superseded, "failed older job yields to the pending newer one")
            try expectEqual(keys(try await claim(store)), ["stock-1@v3"], "v3 runs")
            try expectEqual(
                try await store.jobs(JobFilter(statuses: [.pending])).count, 0, "no pending duplicates for the key")
        },
        ContractCase(name: "coalescing key: the job that replaces others keeps the highest priority of them") { store in
            let urgent = try await store.enqueue([job("pass-1", priority: 11, coalescing: "flow")], now: t0)[0]
            let later = try await store.enqueue([job("pass-2", priority: 5, coalescing: "flow")], now: t0)[0]
            try expectEqual(later.superseded, [urgent.id], "the urgent request was replaced")
            try expectEqual(try await store.job(later.id)?.priority, 11, "its urgency was not")
            let other = try await store.enqueue([job("other", priority: 8)], now: t0)[0]
            try expectEqual(keys(try await claim(store, limit: 1)), ["pass-2"], "it still goes before priority 8")
            try expectEqual(try await store.job(other.id)?.status, .pending, "which waits")
        },
        ContractCase(name: "lease expiry: a crashed worker's job is claimed again and the attempt counts") { store in
            let id = try await store.enqueue([job("j")], now: t0)[0].id
            let first = try await claim(store, lease: 30)
            try expectEqual(first.count, 1, "claimed")
            try expectEqual(try await claim(store, at: t0.addingTimeInterval(29)).count, 0, "not claimable while leased")
            let second = try await claim(store, at: t0.addingTimeInterval(31))
            try expectEqual(keys(second), ["j"], "claimable once the lease expired")
            let job = try await store.job(id)!
            try expectEqual(job.attempts, 1, "the crashed attempt counts")
            try expect(job.lastError?.contains("lease expired") == true, "last error says the lease expired")
            let stale = try await store.complete([JobCompletion(lease: first[0].lease, outcome: .succeeded, now: t0)])
            try expectEqual(stale, [.leaseLost], "the first worker's completion is refused")
            let fresh = try await store.complete([JobCompletion(lease: second[0].lease, outcome: .succeeded, now: t0)])
            try expectEqual(fresh, [.applied], "the second worker completes")
            try expectEqual(try await store.job(id)?.status, .succeeded, "succeeded")
            try expectEqual(try await store.job(id)?.attempts, 2, "two attempts in all")
        },
        ContractCase(name: "dead worker: its leases are taken back at once, as their expiry would; others' are kept") { store in
            func take(_ key: String, by owner: String) async throws -> ClaimedJob {
                let claimed = try await store.claim(
                    ClaimRequest(owner: owner, limit: 1, leaseDuration: 3600, now: t0, excludingConnections: []))
                try expectEqual(keys(claimed), [key], "\(owner) claims \(key)")
                return claimed[0]
            }
            _ = try await store.enqueue([job("a", priority: 3), job("b", priority: 2), job("c", priority: 1, coalescing: "c")], now: t0)
            let a = try await take("a", by: "dead")
            _ = try await take("b", by: "alive")
            _ = try await take("c", by: "dead")
            let newerC = try await store.enqueue([job("c-2", coalescing: "c")], now: t0)[0]
            try expectEqual(try await store.leaseOwners(), ["dead", "alive"], "both owners hold leases")
            try expectEqual(try await store.reclaimLeases(heldBy: [], now: t0), 0, "no owners, nothing taken")
            try expectEqual(
                try await store.reclaimLeases(heldBy: ["dead", "never-seen"], now: t0.addingTimeInterval(1)), 2,
                "the dead owner's two jobs are taken back, an hour before their leases end")
            let taken = try await store.job(a.job.id)!
            try expectEqual(taken.status, .pending, "a is pending again")
            try expectEqual(taken.attempts, 1, "the interrupted attempt counts")
            try expect(taken.outcomeUncertain, "it may have had its effect: the outcome is uncertain")
            try expect(taken.lastError?.contains("dead") == true, "the error names the worker: \(taken.lastError ?? "nil")")
            try expectEqual(try await store.job(newerC.id)?.status, .pending, "the newer c waits")
            try expectEqual(
                try await store.jobs(JobFilter(statuses: [.superseded], limit: 10)).map(\.idempotencyKey), ["c"],
                "the old c is superseded by the newer one, as on expiry")
            try expectEqual(try await store.leaseOwners(), ["alive"], "the live owner keeps its lease")
            let stale = try await store.complete([JobCompletion(lease: a.lease, outcome: .succeeded, now: t0)])
            try expectEqual(stale, [.leaseLost], "the dead worker's late completion is refused")
            try expectEqual(keys(try await claim(store, at: t0.addingTimeInterval(2), limit: 1)), ["a"], "a is claimed again")
        },
        ContractCase(name: "heartbeat: extending a lease keeps the job; a lost lease is reported") { store in
            _ = try await store.enqueue([job("long"), job("other")], now: t0)
            let claimed = try await claim(store, lease: 30)
            let lost = try await store.extendLeases(
                claimed.map(\.lease), until: t0.addingTimeInterval(90), now: t0.addingTimeInterval(20))
            try expect(lost.isEmpty, "both leases extended")
            try expectEqual(try await claim(store, at: t0.addingTimeInterval(60)).count, 0, "still leased at +60s")
            let fake = Lease(job: claimed[0].lease.job, token: "not-the-token")
            let lostFake = try await store.extendLeases([fake], until: t0.addingTimeInterval(120), now: t0.addingTimeInterval(61))
            try expectEqual(lostFake, [fake], "a lease not held is reported lost")
            try expectEqual(try await claim(store, at: t0.addingTimeInterval(91)).count, 2, "claimable after the extension ran out")
        },
        ContractCase(name: "outcomes: retry spends an attempt, reschedule does not, release gives the job back") { store in
            let id = try await store.enqueue([job("r")], now: t0)[0].id
            var claimed = try await claim(store)
            _ = try await store.complete([
                JobCompletion(lease: claimed[0].lease, outcome: .retry(at: t0.addingTimeInterval(10), error: "502"), now: t0)
            ])
            var job = try await store.job(id)!
            try expectEqual(job.status, .pending, "pending after retry")
            try expectEqual(job.attempts, 1, "retry spends an attempt")
            try expectEqual(job.lastError, "502", "error kept")
            try expectEqual(job.runAt, t0.addingTimeInterval(10), "run_at moved")
            claimed = try await claim(store, at: t0.addingTimeInterval(10))
            _ = try await store.complete([
                JobCompletion(
                    lease: claimed[0].lease, outcome: .reschedule(at: t0.addingTimeInterval(20), reason: "429"), now: t0)
            ])
            job = try await store.job(id)!
            try expectEqual(job.attempts, 1, "reschedule spends no attempt")
            try expectEqual(job.runAt, t0.addingTimeInterval(20), "rescheduled")
            claimed = try await claim(store, at: t0.addingTimeInterval(20))
            try await store.release(claimed.map(\.lease), now: t0.addingTimeInterval(20))
            job = try await store.job(id)!
            try expectEqual(job.status, .pending, "released")
            try expectEqual(job.attempts, 1, "release spends no attempt")
            try expectEqual(try await claim(store, at: t0.addingTimeInterval(20)).count, 1, "claimable again at once")
        },
        ContractCase(name: "uncertain outcome: set by an unanswered attempt, an expired lease or a release mid-call; kept by a replay") { store in
            let ids = try await store.enqueue([job("u-answered"), job("u-unanswered"), job("u-crashed"), job("u-released")], now: t0).map(\.id)
            let claimed = try await claim(store, lease: 10)
            try expect(claimed.allSatisfy { !$0.job.outcomeUncertain }, "a new job is certain")
            let lease = Dictionary(uniqueKeysWithValues: claimed.map { ($0.job.idempotencyKey, $0.lease) })
            _ = try await store.complete([
                JobCompletion(lease: lease["u-answered"]!, outcome: .retry(at: t0, error: "HTTP 400"), now: t0),
                JobCompletion(lease: lease["u-unanswered"]!, outcome: .retry(at: t0, error: "timeout"), now: t0, outcomeUncertain: true),
            ])
            try await store.release([lease["u-released"]!], now: t0, midCall: true)
            var jobs = try await ids.asyncMap { try await store.job($0)! }
            try expectEqual(jobs.map(\.outcomeUncertain), [false, true, false, true], "after a retry, a timeout and a release mid-call")
            let again = try await claim(store, at: t0.addingTimeInterval(11), lease: 10)
            try expectEqual(Set(keys(again)), ["u-answered", "u-unanswered", "u-released", "u-crashed"], "u-crashed reclaimed after its lease")
            jobs = try await ids.asyncMap { try await store.job($0)! }
            try expect(jobs[2].outcomeUncertain, "an expired lease makes the outcome uncertain")
            let byKey = Dictionary(uniqueKeysWithValues: again.map { ($0.job.idempotencyKey, $0) })
            try expect(byKey["u-crashed"]!.job.outcomeUncertain, "the claimed job carries it")
            _ = try await store.complete([
                JobCompletion(lease: byKey["u-unanswered"]!.lease, outcome: .dead(reason: "HTTP 400"), now: t0),
                JobCompletion(lease: byKey["u-answered"]!.lease, outcome: .dead(reason: "HTTP 400"), now: t0),
            ])
            let replayed = try await store.replayDeadLetter(ids[1], now: t0.addingTimeInterval(12))
            try expect(replayed.outcomeUncertain && replayed.attempts == 0, "a replay resets attempts but keeps the uncertainty")
            try expect(!(try await store.replayDeadLetter(ids[0], now: t0.addingTimeInterval(12))).outcomeUncertain, "a certain job stays certain")
            try await store.release([byKey["u-released"]!.lease], now: t0.addingTimeInterval(12))
            try expect(try await store.job(ids[3])!.outcomeUncertain, "a plain release does not clear it")
            // An operator checked the target: it is not there. Only that clears the uncertainty.
            let checked = try await claim(store, at: t0.addingTimeInterval(13), lease: 10).first { $0.job.id == ids[1] }!
            _ = try await store.complete([JobCompletion(lease: checked.lease, outcome: .dead(reason: "held"), now: t0)])
            let cleared = try await store.replayDeadLetter(ids[1], now: t0.addingTimeInterval(14), checkedAbsent: true)
            let stored = try await store.job(ids[1])!
            try expect(!cleared.outcomeUncertain && !stored.outcomeUncertain, "cleared by a checked replay")
        },
        ContractCase(name: "dead letters: listed with the reason, replayed with the same idempotency key") { store in
            let id = try await store.enqueue([job("dl-1"), job("ok")], now: t0)[0].id
            let claimed = try await claim(store)
            let results = try await store.complete([
                JobCompletion(lease: claimed[0].lease, outcome: .dead(reason: "ERR-20071: unknown county"), now: t0),
                JobCompletion(lease: claimed[1].lease, outcome: .succeeded, now: t0),
            ])
            try expectEqual(results, [.applied, .applied], "both applied")
            let dead = try await store.jobs(JobFilter(statuses: [.dead]))
            try expectEqual(dead.map(\.id), [id], "the dead letter list")
            try expectEqual(dead[0].lastError, "ERR-20071: unknown county", "with its reason")
            try await expectThrows("replaying a succeeded job") { _ = try await store.replayDeadLetter(claimed[1].job.id, now: t0) }
            let replayed = try await store.replayDeadLetter(id, now: t0.addingTimeInterval(5))
            try expectEqual(replayed.id, id, "same row")
            try expectEqual(replayed.idempotencyKey, "dl-1", "same idempotency key")
            try expectEqual(replayed.status, .pending, "pending again")
            try expectEqual(replayed.attempts, 0, "attempts reset")
            try expectEqual(try await store.enqueue([job("dl-1")], now: t0)[0].id, id, "the key still maps to the job")
            try expectEqual(keys(try await claim(store, at: t0.addingTimeInterval(5))), ["dl-1"], "runs again")
            try await expectThrows("replaying a job that does not exist") { _ = try await store.replayDeadLetter(999_999, now: t0) }
        },
        ContractCase(name: "retry now: a backed-off job runs at once") { store in
            let id = try await store.enqueue([job("later", runAt: t0.addingTimeInterval(3600))], now: t0)[0].id
            try expectEqual(try await claim(store).count, 0, "not yet due")
            _ = try await store.retryNow(id, now: t0)
            try expectEqual(keys(try await claim(store)), ["later"], "due now")
            try await expectThrows("retrying a running job") { _ = try await store.retryNow(id, now: t0) }
        },
        ContractCase(name: "completion: effects commit with the outcome, all or nothing per job") { store in
            _ = try await store.enqueue([job("export-1"), job("export-2"), job("export-3")], now: t0)
            let claimed = try await claim(store)
            let shop: ConnectionID = "erp"
            try await store.bind(Binding(connection: shop, entity: "order", externalID: "ERP-9", internalID: "order-9"))
            let results = try await store.complete([
                JobCompletion(
                    lease: claimed[0].lease, outcome: .succeeded,
                    effects: [
                        .bind(Binding(connection: shop, entity: "order", externalID: "ERP-1", internalID: "order-1")),
                        .log(EventRecord(at: t0, level: .info, kind: "effect", subject: "export-1", message: "sent")),
                        .setCursor(SyncCursor(connection: shop, name: "orders", value: "c1", updatedAt: t0)),
                        .enqueue(job("follow-up")),
                    ], now: t0),
                JobCompletion(
                    lease: claimed[1].lease, outcome: .succeeded,
                    effects: [
                        .log(EventRecord(at: t0, level: .info, kind: "effect", subject: "export-2", message: "sent")),
                        // ERP-9 is bound to order-9 already: the whole completion must roll back.
                        .bind(Binding(connection: shop, entity: "order", externalID: "ERP-9", internalID: "order-2")),
                    ], now: t0),
                JobCompletion(lease: claimed[2].lease, outcome: .succeeded, now: t0),
            ])
            try expectEqual(results[0], .applied, "first applied")
            guard case .effectFailed(let reason) = results[1] else {
                throw ContractFailure(message: "second completion should fail, got \(results[1])", location: "contract")
            }
            try expect(reason.contains("binding"), "the reason names the binding conflict: \(reason)")
            try expectEqual(results[2], .applied, "third applied despite the second's failure")
            try expectEqual(try await store.job(claimed[1].job.id)?.status, .dead, "failed completion goes to the dead letters")
            try expect(
                try await store.job(claimed[1].job.id)?.outcomeUncertain == true,
                "the target acted but the hub recorded nothing: a replay must ask first")
            let effects = try await store.events(EventFilter(kind: "effect"))
            try expectEqual(effects.compactMap(\.subject), ["export-1"], "the failed completion's log line rolled back")
            try expectEqual(
                try await store.binding(connection: shop, entity: "order", externalID: "ERP-1")?.internalID, "order-1",
                "binding committed")
            try expectEqual(try await store.cursor(connection: shop, name: "orders")?.value, "c1", "cursor committed")
            try expect(try await store.job(kind: "test.kind", idempotencyKey: "follow-up") != nil, "follow-up job enqueued")
        },
        ContractCase(name: "job listing and counts") { store in
            _ = try await store.enqueue((1...5).map { job("l\($0)", connection: $0 % 2 == 0 ? "even" : "odd") }, now: t0)
            let claimed = try await claim(store, limit: 2)
            _ = try await store.complete(claimed.map { JobCompletion(lease: $0.lease, outcome: .succeeded, now: t0) })
            let counts = try await store.jobCounts()
            try expectEqual(counts[.succeeded], 2, "succeeded count")
            try expectEqual(counts[.pending], 3, "pending count")
            let page1 = try await store.jobs(JobFilter(limit: 3))
            try expectEqual(page1.map(\.idempotencyKey), ["l5", "l4", "l3"], "newest first")
            let page2 = try await store.jobs(JobFilter(beforeID: page1.last!.id, limit: 3))
            try expectEqual(page2.map(\.idempotencyKey), ["l2", "l1"], "next page")
            try expectEqual(try await store.jobs(JobFilter(connection: "even")).count, 2, "by connection")
        },
    ]
}
