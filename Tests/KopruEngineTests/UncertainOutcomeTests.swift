import Foundation
import KopruConnectors
import KopruCore
import KopruStore
import Synchronization
import Testing

@testable import KopruEngine

/// A target that is not idempotent: each `create` adds a record, whatever happened before. Its
/// ledger, not the hub's bookkeeping, says how often an effect took place.
final class NonIdempotentTarget: Sendable {
    struct Behaviour: Sendable {
        /// Save the record, then fail as if the answer was lost.
        var loseAnswerAfterSaving = false
        /// Lookups fail as if the target were down.
        var lookupsFail = false
        /// Hold `create` after saving until told to go on (a call in flight at a crash).
        var holdAfterSaving = false
    }

    private let state = Mutex<(records: [String: Int], creates: Int, lookups: Int, behaviour: Behaviour, held: Bool)>(
        ([:], 0, 0, Behaviour(), false))

    func configure(_ change: (inout Behaviour) -> Void) { state.withLock { change(&$0.behaviour) } }
    func records(_ key: String) -> Int { state.withLock { $0.records[key, default: 0] } }
    var creates: Int { state.withLock { $0.creates } }
    var lookups: Int { state.withLock { $0.lookups } }
    var isHolding: Bool { state.withLock { $0.held } }

    func create(_ key: String) async throws -> String {
        let behaviour = state.withLock { state in
            state.creates += 1
            state.records[key, default: 0] += 1
            state.held = state.behaviour.holdAfterSaving
            return state.behaviour
        }
        if behaviour.holdAfterSaving { try await Task.sleep(for: .seconds(3600)) }
        if behaviour.loseAnswerAfterSaving { throw ConnectorError.network(URLError(.timedOut)) }
        return "DOC-\(key)"
    }

    func find(_ key: String) throws -> String? {
        let (count, behaviour) = state.withLock { state in
            state.lookups += 1
            return (state.records[key, default: 0], state.behaviour)
        }
        if behaviour.lookupsFail { throw ConnectorError.http(status: 503, message: "Service Unavailable") }
        return count > 0 ? "DOC-\(key)" : nil
    }
}

/// A job that writes one record through `deliver`, the rule every flow's non-idempotent write uses.
struct RecordWriteJob: JobHandler {
    static let kind = "test.record"
    var kind: String { Self.kind }
    let retryPolicy: RetryPolicy
    let target: NonIdempotentTarget
    var checksBeforeGivingUp: Bool { true }

    func run(_ context: JobContext) async throws -> JobResult {
        let key = context.job.idempotencyKey
        let delivery = try await deliver(context, find: { try target.find(key) }, create: { try await target.create(key) })
        return .done([
            .log(EventRecord(at: context.now, level: .info, kind: "effect", subject: key, message: delivery.how))
        ])
    }
}

/// Issue 14.1: whether a job asks the target "is it already there?" follows from what happened
/// (an attempt ended without an answer), never from the attempt number.
@Suite("Uncertain outcomes")
struct UncertainOutcomeTests {
    static let once = RetryPolicy.exponentialJitter(base: .milliseconds(5), cap: .milliseconds(10), maxAttempts: 1)

    func processor(_ store: any Store, _ target: NonIdempotentTarget, policy: RetryPolicy = once, lease: Duration = .seconds(30))
        -> JobProcessor
    {
        JobProcessor(
            store: store, registry: JobRegistry([RecordWriteJob(retryPolicy: policy, target: target)]),
            configuration: JobProcessorTests.configuration(lease: lease, grace: .milliseconds(50)))
    }

    @Test("the last attempt's lost answer is looked up before the job is given up: found, so done", arguments: StoreKind.available)
    func lastAttemptLooksBeforeGivingUp(_ kind: StoreKind) async throws {
        try await kind.with { store in
            let target = NonIdempotentTarget()
            target.configure { $0.loseAnswerAfterSaving = true }
            let id = try await store.enqueue([NewJob(kind: RecordWriteJob.kind, idempotencyKey: "order-1")], now: Date())[0].id
            try await JobProcessorTests.running(processor(store, target)) {
                try await eventually("the job finished") { try await store.job(id)?.status.isFinished ?? false }
            }
            let job = try #require(try await store.job(id))
            #expect(job.status == .succeeded, "\(job.lastError ?? "")")
            #expect(job.outcomeUncertain)
            #expect(target.records("order-1") == 1)
            #expect(target.creates == 1, "the final check sends nothing")
        }
    }

    @Test("a replay after an uncertain failure asks first, so the operator's replay cannot double", arguments: StoreKind.available)
    func replayAsksFirst(_ kind: StoreKind) async throws {
        try await kind.with { store in
            let target = NonIdempotentTarget()
            target.configure {
                $0.loseAnswerAfterSaving = true
                $0.lookupsFail = true
            }
            let id = try await store.enqueue([NewJob(kind: RecordWriteJob.kind, idempotencyKey: "order-2")], now: Date())[0].id
            let policy = RetryPolicy.exponentialJitter(base: .milliseconds(5), cap: .milliseconds(10), maxAttempts: 2)
            try await JobProcessorTests.running(processor(store, target, policy: policy)) {
                try await eventually("a dead letter") { try await store.job(id)?.status == .dead }
                let dead = try #require(try await store.job(id))
                #expect(dead.lastError?.contains("could not ask the target whether it landed") ?? false, "\(dead.lastError ?? "")")
                #expect(target.records("order-2") == 1, "one create, then only lookups: \(target.creates) creates")
                target.configure { $0 = .init() }
                _ = try await store.replayDeadLetter(id, now: Date())
                try await eventually("the replay done") { try await store.job(id)?.status == .succeeded }
            }
            #expect(target.records("order-2") == 1)
            let how = try await store.events(EventFilter(kind: "effect", subject: "order-2"))
            #expect(how.map(\.message) == ["found on the target after an unanswered attempt"])
        }
    }

    @Test("a certain failure is not looked up: the first attempt and a plain retry send without asking")
    func certainFailuresDoNotAsk() async throws {
        let store = MemoryStore()
        let target = NonIdempotentTarget()
        let id = try await store.enqueue([NewJob(kind: RecordWriteJob.kind, idempotencyKey: "order-3")], now: Date())[0].id
        try await JobProcessorTests.running(processor(store, target)) {
            try await eventually("done") { try await store.job(id)?.status == .succeeded }
        }
        #expect(target.lookups == 0)
        #expect(try await store.job(id)?.outcomeUncertain == false)
    }

    @Test("a worker that stopped during the last attempt: the job is looked up, not dead-lettered", arguments: StoreKind.available)
    func expiredLeaseOnTheLastAttempt(_ kind: StoreKind) async throws {
        try await kind.with { store in
            let target = NonIdempotentTarget()
            // A worker claims it, the target saves, and the worker dies before it records anything.
            let stale = Date().addingTimeInterval(-120)
            let id = try await store.enqueue([NewJob(kind: RecordWriteJob.kind, idempotencyKey: "order-4")], now: stale)[0].id
            let claimed = try await store.claim(ClaimRequest(owner: "dead-worker", limit: 1, leaseDuration: 1, now: stale))
            #expect(claimed.map(\.job.id) == [id])
            _ = try await target.create("order-4")
            try await JobProcessorTests.running(processor(store, target)) {
                try await eventually("the job finished") { try await store.job(id)?.status.isFinished ?? false }
            }
            let job = try #require(try await store.job(id))
            #expect(job.status == .succeeded, "\(job.lastError ?? "")")
            #expect(target.records("order-4") == 1)
        }
    }

    @Test("a job released mid-call at shutdown asks on its next run", arguments: StoreKind.available)
    func releasedMidCallAsks(_ kind: StoreKind) async throws {
        try await kind.with { store in
            let target = NonIdempotentTarget()
            target.configure { $0.holdAfterSaving = true }
            let id = try await store.enqueue([NewJob(kind: RecordWriteJob.kind, idempotencyKey: "order-5")], now: Date())[0].id
            let policy = RetryPolicy.exponentialJitter(base: .milliseconds(5), cap: .milliseconds(10), maxAttempts: 5)
            try await JobProcessorTests.running(processor(store, target, policy: policy)) {
                try await eventually("the call is in flight") { target.isHolding }
            }
            let released = try #require(try await store.job(id))
            #expect(released.status == .pending && released.attempts == 0 && released.outcomeUncertain)
            target.configure { $0 = .init() }
            try await JobProcessorTests.running(processor(store, target, policy: policy)) {
                try await eventually("done") { try await store.job(id)?.status == .succeeded }
            }
            #expect(target.records("order-5") == 1)
            #expect(target.creates == 1)
        }
    }
}
