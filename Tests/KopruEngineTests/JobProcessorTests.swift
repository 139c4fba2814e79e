import Foundation
import KopruConnectors
import KopruCore
import KopruStore
import KopruStorePostgres
import KopruStoreSQLite
import Synchronization
import Testing

@testable import KopruEngine

/// Which store a processor test runs on: the in-memory one, SQLite (whose async calls honour
/// task cancellation, which the memory store's do not), and PostgreSQL where a server is given.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, sqlite, postgres
    var description: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["KOPRU_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static var available: [StoreKind] { postgresURL == nil ? [.memory, .sqlite] : allCases }

    /// A fresh, migrated store of this kind for the body, removed afterwards.
    func with<T>(_ body: (any Store) async throws -> T) async throws -> T {
        switch self {
        case .memory:
            return try await body(MemoryStore())
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-engine-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let store = try SQLiteStore(path: folder.appendingPathComponent("jobs.db").path, secretBox: .ephemeral())
            try await store.migrate()
            return try await body(store)
        case .postgres:
            let url = try await ScratchDatabase.create(from: Self.postgresURL!)
            let store = try PostgresStore(url: url, secretBox: .ephemeral(), maximumConnections: 8)
            defer { store.shutdown() }
            try await store.migrate()
            let result = try await body(store)
            store.shutdown()
            try? await ScratchDatabase.drop(url)
            return result
        }
    }
}

@Suite("Job processor")
struct JobProcessorTests {
    static func configuration(concurrency: Int = 16, lease: Duration = .seconds(30), grace: Duration = .seconds(5))
        -> JobProcessorConfiguration
    {
        JobProcessorConfiguration(
            workerID: "test-\(UUID().uuidString.prefix(8))", concurrency: concurrency, claimBatch: 32, leaseDuration: lease,
            pollInterval: .milliseconds(5), defaultConnectionConcurrency: 4, shutdownGrace: grace)
    }

    /// Runs a processor in the background for the body, then stops it and waits for it to end.
    static func running<T>(
        _ processor: JobProcessor, _ body: () async throws -> T
    ) async throws -> T {
        let task = Task { try await processor.run() }
        defer { processor.stop() }
        let result = try await body()
        processor.stop()
        try await task.value
        return result
    }

    static func effectHandler(kind: String = "effect") -> some JobHandler {
        ClosureJobHandler(kind: kind) { context in
            .done([.log(EventRecord(at: context.now, level: .info, kind: "effect", subject: context.job.idempotencyKey, message: "done"))])
        }
    }

    static func enqueue(_ store: any Store, _ count: Int, kind: String = "effect", connection: ConnectionID? = nil) async throws {
        _ = try await store.enqueue(
            (0..<count).map { NewJob(kind: kind, idempotencyKey: "job-\($0)", connection: connection) }, now: Date())
    }

    @Test("runs every job once and commits its effect with the completion", arguments: StoreKind.available)
    func runsAll(_ kind: StoreKind) async throws {
        try await kind.with { store in try await runsAll(store) }
    }

    func runsAll(_ store: any Store) async throws {
        try await Self.enqueue(store, 500)
        let processor = JobProcessor(store: store, registry: JobRegistry([Self.effectHandler()]), configuration: Self.configuration())
        try await Self.running(processor) {
            try await eventually("500 jobs done", timeout: .seconds(90)) { try await store.jobCounts()[.succeeded] == 500 }
        }
        let effects = try await store.events(EventFilter(kind: "effect", limit: 10_000))
        #expect(effects.count == 500)
        #expect(Set(effects.compactMap(\.subject)).count == 500)
        #expect(processor.statistics.succeeded == 500)
    }

    @Test("a passing fault is retried with backoff until it succeeds")
    func retriesThenSucceeds() async throws {
        let store = MemoryStore()
        let calls = Counter()
        let handler = ClosureJobHandler(kind: "flaky", retryPolicy: .exponentialJitter(base: .milliseconds(10), cap: .milliseconds(20))) {
            context in
            if calls.add("flaky") < 3 { throw ConnectorError.retryable("502 Bad Gateway") }
            return .done
        }
        let id = try await store.enqueue([NewJob(kind: "flaky", idempotencyKey: "f")], now: Date())[0].id
        let processor = JobProcessor(store: store, registry: JobRegistry([handler]), configuration: Self.configuration())
        try await Self.running(processor) {
            try await eventually("flaky job done") { try await store.job(id)?.status == .succeeded }
        }
        #expect(try await store.job(id)?.attempts == 3)
        #expect(calls["flaky"] == 3)
        let log = try await store.events(EventFilter(kind: "job", subject: "job:\(id)"))
        #expect(log.count == 2)
        #expect(log.allSatisfy { $0.message.contains("502 Bad Gateway") && $0.level == .warning })
    }

    @Test("bad data goes to the dead letters with the reason, and a replay runs it again")
    func deadLetterAndReplay() async throws {
        let store = MemoryStore()
        let fixed = Mutex(false)
        let handler = ClosureJobHandler(kind: "ship") { _ in
            guard fixed.withLock({ $0 }) else { throw ConnectorError.permanent("ERR-20071: county not found", field: "recipientCounty") }
            return .done
        }
        let id = try await store.enqueue([NewJob(kind: "ship", idempotencyKey: "order-7")], now: Date())[0].id
        let processor = JobProcessor(store: store, registry: JobRegistry([handler]), configuration: Self.configuration())
        try await Self.running(processor) {
            try await eventually("dead letter") { try await store.job(id)?.status == .dead }
            let dead = try await store.job(id)!
            #expect(dead.lastError == "ERR-20071: county not found (field: recipientCounty)")
            #expect(dead.attempts == 1)
            fixed.withLock { $0 = true }
            _ = try await store.replayDeadLetter(id, now: Date())
            try await eventually("replayed job done") { try await store.job(id)?.status == .succeeded }
        }
        #expect(try await store.job(id)?.idempotencyKey == "order-7")
    }

    @Test("rate limiting defers the job without spending attempts")
    func rateLimited() async throws {
        let store = MemoryStore()
        let calls = Counter()
        let handler = ClosureJobHandler(kind: "push", retryPolicy: .exponentialJitter(maxAttempts: 2)) { _ in
            if calls.add("push") <= 3 { throw ConnectorError.rateLimited("429", retryAfter: .milliseconds(20)) }
            return .done
        }
        let id = try await store.enqueue([NewJob(kind: "push", idempotencyKey: "p")], now: Date())[0].id
        let processor = JobProcessor(store: store, registry: JobRegistry([handler]), configuration: Self.configuration())
        try await Self.running(processor) {
            try await eventually("rate-limited job done") { try await store.job(id)?.status == .succeeded }
        }
        // Four calls with only two attempts allowed: the three 429s did not count.
        #expect(calls["push"] == 4)
        #expect(try await store.job(id)?.attempts == 1)
    }

    @Test("per-connection concurrency limit holds while other connections proceed")
    func connectionLimit() async throws {
        let store = MemoryStore()
        let running = Mutex<[String: Int]>([:])
        let peak = Mutex<[String: Int]>([:])
        let handler = ClosureJobHandler(kind: "call") { context in
            let connection = context.job.connection!.rawValue
            running.withLock { $0[connection, default: 0] += 1 }
            peak.withLock { [current = running.withLock { $0[connection]! }] in $0[connection] = max($0[connection] ?? 0, current) }
            try await Task.sleep(for: .milliseconds(15))
            running.withLock { $0[connection]! -= 1 }
            return .done
        }
        _ = try await store.enqueue(
            (0..<40).map { NewJob(kind: "call", idempotencyKey: "erp-\($0)", connection: "erp") }
                + (0..<40).map { NewJob(kind: "call", idempotencyKey: "shop-\($0)", connection: "shop") }, now: Date())
        var configuration = Self.configuration(concurrency: 16)
        configuration.connectionConcurrency = ["erp": 2]
        let processor = JobProcessor(store: store, registry: JobRegistry([handler]), configuration: configuration)
        try await Self.running(processor) {
            try await eventually("80 jobs done") { try await store.jobCounts()[.succeeded] == 80 }
        }
        let observed = peak.withLock { $0 }
        #expect(observed["erp"] == 2)
        #expect((observed["shop"] ?? 0) <= 4)
        #expect((observed["shop"] ?? 0) >= 2)
    }

    @Test(
        "a burst for one connection drains as slots free, not at its concurrency per poll",
        arguments: StoreKind.available)
    func burstRefillsSlotsWithoutPolling(_ kind: StoreKind) async throws {
        try await kind.with { store in
            let jobs = 2_000
            let running = Mutex((now: 0, peak: 0))
            let handler = ClosureJobHandler(kind: "order") { _ in
                running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                await Task.yield()
                running.withLock { $0.now -= 1 }
                return .done
            }
            try await Self.enqueue(store, jobs, kind: "order", connection: "shop")
            let configuration = JobProcessorConfiguration(
                workerID: "burst", concurrency: 32, claimBatch: 64, pollInterval: .seconds(1), defaultConnectionConcurrency: 4)
            let processor = JobProcessor(store: store, registry: JobRegistry([handler]), configuration: configuration)
            try await Self.running(processor) {
                try await eventually("\(jobs) jobs done", timeout: .seconds(240)) { processor.statistics.succeeded == jobs }
            }
            let statistics = processor.statistics
            // Paced by the poll, each claim would follow one (500 of them, 4 slots a poll); refilled
            // as slots free, nearly every claim follows a job's end. No claim took more than the
            // connection's free slots, so none gave any back.
            #expect(statistics.claims >= jobs / 4, "\(statistics)")
            #expect(statistics.claimsAfterPoll * 10 < statistics.claims, "\(statistics)")
            #expect(running.withLock { $0.peak } <= 4)
            #expect(try await store.jobCounts()[.succeeded] == jobs)
            #expect(try await store.jobCounts()[.pending] == nil)
            #expect(statistics.overLimit == 0)
        }
    }

    @Test("graceful shutdown releases a job that outlives the grace period, without spending an attempt", arguments: StoreKind.available)
    func shutdownReleases(_ kind: StoreKind) async throws {
        try await kind.with { store in try await shutdownReleases(store) }
    }

    func shutdownReleases(_ store: any Store) async throws {
        let started = Mutex(false)
        let handler = ClosureJobHandler(kind: "slow") { _ in
            started.withLock { $0 = true }
            try await Task.sleep(for: .seconds(60))
            return .done
        }
        let id = try await store.enqueue([NewJob(kind: "slow", idempotencyKey: "s")], now: Date())[0].id
        let processor = JobProcessor(
            store: store, registry: JobRegistry([handler]), configuration: Self.configuration(grace: .milliseconds(50)))
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await Self.running(processor) {
                try await eventually("slow job started") { started.withLock { $0 } }
            }
        }
        #expect(elapsed < .seconds(10))
        let job = try await store.job(id)!
        #expect(job.status == .pending)
        #expect(job.attempts == 0)
        #expect(processor.statistics.released == 1)
    }

    @Test("heartbeats keep a long job's lease, so a second worker never runs it too")
    func heartbeat() async throws {
        let store = MemoryStore()
        let runs = Counter()
        // The job outlives its lease 2.5 times over: only heartbeats (every third of the lease)
        // keep it. The margins are wide so a loaded machine does not make a late beat look lost.
        let handler = ClosureJobHandler(kind: "long") { context in
            _ = runs.add(context.job.idempotencyKey)
            try await Task.sleep(for: .milliseconds(5000))
            return .done
        }
        _ = try await store.enqueue((0..<4).map { NewJob(kind: "long", idempotencyKey: "l\($0)") }, now: Date())
        // A 2 s lease: the full suite loads both cores, and a beat more than a lease late is lost.
        let first = JobProcessor(
            store: store, registry: JobRegistry([handler]), configuration: Self.configuration(lease: .seconds(2)))
        let second = JobProcessor(
            store: store, registry: JobRegistry([handler]), configuration: Self.configuration(lease: .seconds(2)))
        try await Self.running(first) {
            try await Self.running(second) {
                try await eventually("4 long jobs done", timeout: .seconds(40)) { try await store.jobCounts()[.succeeded] == 4 }
            }
        }
        for index in 0..<4 { #expect(runs["l\(index)"] == 1, "l\(index) ran once") }
        #expect(first.statistics.leasesLost + second.statistics.leasesLost == 0)
    }

    @Test("jobs of one ordering key run one at a time, in order")
    func ordering() async throws {
        let store = MemoryStore()
        let order = Mutex<[String]>([])
        let handler = ClosureJobHandler(kind: "step") { context in
            try await Task.sleep(for: .milliseconds(2))
            order.withLock { $0.append(context.job.idempotencyKey) }
            return .done
        }
        _ = try await store.enqueue(
            (0..<20).map { NewJob(kind: "step", idempotencyKey: "order-1/\($0)", orderingKey: "order-1") }, now: Date())
        let processor = JobProcessor(store: store, registry: JobRegistry([handler]), configuration: Self.configuration())
        try await Self.running(processor) {
            try await eventually("20 steps done") { try await store.jobCounts()[.succeeded] == 20 }
        }
        #expect(order.withLock { $0 } == (0..<20).map { "order-1/\($0)" })
    }
}
