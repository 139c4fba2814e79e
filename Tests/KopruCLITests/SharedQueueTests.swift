import Crypto
import Foundation
import KopruEngine
import KopruStore
import KopruStorePostgres
import Testing

/// Several `kopru serve --role worker` processes on one PostgreSQL database, killed the hard way.
@Suite("Shared queue on PostgreSQL", .serialized)
struct SharedQueueTests {
    static let baseURL = ProcessInfo.processInfo.environment["KOPRU_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let skipped = "KOPRU_TEST_POSTGRES_URL is not set: the multi-process PostgreSQL test is skipped"

    @Test(
        "three workers, 10,000 jobs, a worker and the scheduler leader SIGKILLed: each effect once, no slot fired twice, none left running",
        .enabled(if: baseURL != nil, Comment(rawValue: skipped)), .timeLimit(.minutes(5)))
    func threeWorkers() async throws {
        let url = try await ScratchDatabase.create(from: Self.baseURL!)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-shared-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var workers: [KopruProcess] = []
        defer {
            for worker in workers { worker.signal(SIGKILL) }
            try? FileManager.default.removeItem(at: folder)
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers: {concurrency: 8, claimBatch: 16, leaseSeconds: 2, pollMilliseconds: 500, shutdownGraceSeconds: 5}
            scheduler: {termSeconds: 3}
            schedules:
              - name: every-minute
                cron: "* * * * *"
                job: {kind: system.probe, payload: {workMilliseconds: 1}}
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let environment = [
            "KOPRU_STORE": url, "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path, "KOPRU_LOG_LEVEL": "notice",
        ]
        let log = folder.appendingPathComponent("kopru.log")
        let jobCount = 10_000
        let (status, output) = try await KopruProcess.run(
            ["jobs", "probe", "--count", "\(jobCount)", "--work-ms", "25", "--prefix", "shared"], environment: environment,
            logFile: log)
        try #require(status == 0, "enqueue failed: \(output)")

        let store = try PostgresStore(url: url, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))
        defer { store.shutdown() }
        func done() async throws -> Int { try await store.jobCounts()[.succeeded] ?? 0 }
        func leaderPID() async throws -> Int32? {
            try await store.leader("scheduler", now: Date()).flatMap { WorkerIdentity(parsing: $0)?.pid }
        }
        func waitUntil(_ what: String, timeout: Duration = .seconds(90), _ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + timeout
            while try await !condition() {
                guard ContinuousClock.now < deadline else {
                    Issue.record("timed out waiting for \(what)")
                    throw CancellationError()
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        for _ in 0..<3 { workers.append(try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log)) }
        try await waitUntil("a scheduler leader") { try await leaderPID() != nil }
        // The first leader's first tick records the first slot; every slot from it on must fire once.
        try await waitUntil("the first slot") { try await store.nextFire(schedule: "every-minute") != nil }
        let firstSlot = try #require(try await store.nextFire(schedule: "every-minute"))

        // A worker that is not the leader, killed a fifth of the way through.
        try await waitUntil("2,000 jobs done") { try await done() >= 2000 }
        let leader = try await leaderPID()
        let victim = workers.first { $0.pid != leader }!
        victim.signal(SIGKILL)
        _ = try await victim.waitForExit()
        workers.removeAll { $0 === victim }
        workers.append(try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log))

        // The leader, killed half way through; another must lead within two terms (2 × 3 s).
        try await waitUntil("5,000 jobs done") { try await done() >= 5000 }
        let oldLeader = try #require(try await leaderPID())
        let leaderProcess = try #require(workers.first { $0.pid == oldLeader })
        leaderProcess.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        _ = try await leaderProcess.waitForExit()
        workers.removeAll { $0 === leaderProcess }
        try await waitUntil("a new leader", timeout: .seconds(30)) {
            if let pid = try await leaderPID(), pid != oldLeader { return true }
            return false
        }
        let takeover = ContinuousClock.now - killedAt
        #expect(takeover <= .seconds(6), "takeover took \(takeover)")

        try await waitUntil("all 10,000 jobs done", timeout: .seconds(120)) {
            try await store.jobs(JobFilter(statuses: [.pending, .running], kind: "system.probe", limit: 1)).isEmpty
        }
        // Let the schedule cross at least one minute boundary after the leader died.
        let firstSlotAfterKill = Calendar.current.nextDate(
            after: Date(), matching: DateComponents(second: 0), matchingPolicy: .nextTime)!
        try await waitUntil("a scheduled slot after the leader died", timeout: .seconds(75)) {
            try await store.job(kind: "system.probe", idempotencyKey: "schedule:every-minute@\(firstSlotAfterKill.millisecondsSince1970)") != nil
        }
        try await waitUntil("scheduled runs done", timeout: .seconds(30)) {
            try await store.jobs(JobFilter(statuses: [.pending, .running], limit: 1)).isEmpty
        }
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers {
            let code = try await worker.waitForExit()
            #expect(code == 0, "graceful stop should exit 0")
        }
        workers.removeAll()
        let unfired = try #require(try await store.nextFire(schedule: "every-minute"))

        let counts = try await store.jobCounts()
        #expect(counts[.running] == nil && counts[.pending] == nil && counts[.dead] == nil, "\(counts)")
        let probes = try await store.jobs(JobFilter(kind: "system.probe", limit: jobCount + 1000))
        let scheduled = probes.filter { $0.idempotencyKey.hasPrefix("schedule:") }
        #expect(probes.count - scheduled.count == jobCount)
        let effects = try await store.events(EventFilter(kind: "probe", limit: jobCount * 2))
        #expect(effects.count == probes.count, "each effect recorded exactly once: \(effects.count) for \(probes.count) jobs")
        #expect(Set(effects.compactMap(\.subject)).count == probes.count)

        // One run per minute boundary crossed while the hub ran: none missing, none twice.
        let slots = scheduled.compactMap { Int64($0.idempotencyKey.split(separator: "@").last ?? "") }.sorted()
        #expect(Set(slots).count == slots.count)
        #expect(slots.allSatisfy { $0 % 60_000 == 0 }, "slots fall on minute boundaries")
        let boundaries = stride(
            from: firstSlot.millisecondsSince1970, to: unfired.millisecondsSince1970, by: 60_000
        ).map { $0 }
        #expect(boundaries.count >= 1)
        #expect(slots == boundaries, "fired \(slots), boundaries crossed \(boundaries)")
        let interrupted = probes.filter { $0.lastError?.contains("lease expired") == true }
        #expect(!interrupted.isEmpty, "the kills interrupted running jobs, which ran again")
        store.shutdown()
        try? await ScratchDatabase.drop(url)
    }
}
