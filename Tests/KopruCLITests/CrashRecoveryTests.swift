import Crypto
import Foundation
import KopruStore
import KopruStoreSQLite
import Testing

/// Invariant 2 with a real process: kill the hub at random moments, restart it, and every job's
/// effect is recorded exactly once.
@Suite("Crash recovery", .serialized)
struct CrashRecoveryTests {
    @Test("2,000 jobs survive five SIGKILLs: all done, each effect recorded exactly once, none left running")
    func sigkillFiveTimes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers:
              concurrency: 8
              claimBatch: 8
              leaseSeconds: 1
              pollMilliseconds: 20
              shutdownGraceSeconds: 5
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let database = folder.appendingPathComponent("hub.db").path
        let environment = [
            "KOPRU_STORE": "sqlite:\(database)", "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path,
            "KOPRU_LOG_LEVEL": "warning",
        ]
        let log = folder.appendingPathComponent("kopru.log")
        let jobCount = 2000

        let (enqueueStatus, enqueueOutput) = try await KopruProcess.run(
            ["jobs", "probe", "--count", "\(jobCount)", "--work-ms", "20", "--prefix", "crash"], environment: environment,
            logFile: log)
        try #require(enqueueStatus == 0, "enqueue failed: \(enqueueOutput)")

        let store = try SQLiteStore(path: database, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))
        func succeeded() async throws -> Int { try await store.jobCounts()[.succeeded] ?? 0 }

        var generator = SystemRandomNumberGenerator()
        var killedAt: [Int] = []
        for _ in 1...5 {
            let before = try await succeeded()
            let worker = try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log)
            // Kill only once this incarnation has made progress, then at a random moment after.
            let progressDeadline = ContinuousClock.now + .seconds(30)
            while try await succeeded() <= before, ContinuousClock.now < progressDeadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...400, using: &generator)))
            worker.signal(SIGKILL)
            _ = try await worker.waitForExit()
            killedAt.append(try await succeeded())
        }
        let doneBeforeLastRun = try await succeeded()
        #expect(doneBeforeLastRun < jobCount, "the kills landed after all work was done: \(killedAt)")

        let survivor = try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log)
        let deadline = ContinuousClock.now + .seconds(120)
        while try await succeeded() < jobCount, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        survivor.signal(SIGTERM)
        let status = try await survivor.waitForExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "graceful stop should exit 0; log:\n\(output.suffix(2000))")

        let counts = try await store.jobCounts()
        #expect(counts == [.succeeded: jobCount], "every job done, none pending or running: \(counts); kills at \(killedAt)")
        let effects = try await store.events(EventFilter(kind: "probe", limit: jobCount * 2))
        #expect(effects.count == jobCount, "each effect recorded exactly once (\(effects.count) recorded)")
        #expect(Set(effects.compactMap(\.subject)).count == jobCount, "every job's effect present")
        let interrupted = try await store.jobs(JobFilter(statuses: [.succeeded], limit: jobCount))
            .filter { $0.lastError?.contains("lease expired") == true }
        #expect(!interrupted.isEmpty, "some kill interrupted a running job (kills at \(killedAt) jobs done)")
    }

    /// Pass: the killed worker's three jobs finish within 60 s although their leases last 600 s,
    /// each counted as an interrupted attempt with an uncertain outcome, while the live worker's
    /// three, running all along, are never taken from it (one attempt, certain).
    @Test("a SIGKILLed worker's jobs are taken back by a live worker on the same machine, not after their 600 s leases; a live worker's never are")
    func deadWorkerReclaimedAtOnce() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-dead-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers: {concurrency: 3, claimBatch: 3, leaseSeconds: 600, pollMilliseconds: 20, deadWorkerSeconds: 1}
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let database = folder.appendingPathComponent("hub.db").path
        let environment = [
            "KOPRU_STORE": "sqlite:\(database)", "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path,
            "KOPRU_LOG_LEVEL": "notice",
        ]
        let log = folder.appendingPathComponent("kopru.log")
        let (status, output) = try await KopruProcess.run(
            ["jobs", "probe", "--count", "6", "--work-ms", "8000", "--prefix", "held"], environment: environment, logFile: log)
        try #require(status == 0, "enqueue failed: \(output)")
        let store = try SQLiteStore(path: database, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))
        func running(_ count: Int) async throws -> Set<JobID> {
            let deadline = ContinuousClock.now + .seconds(30)
            while try await store.jobCounts()[.running] != count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let jobs = try await store.jobs(JobFilter(statuses: [.running], limit: 10))
            try #require(jobs.count == count, "\(count) jobs should be running")
            return Set(jobs.map(\.id))
        }

        let doomed = try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log)
        let doomedJobs = try await running(3)
        let survivor = try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log)
        let survivorJobs = try await running(6).subtracting(doomedJobs)
        // Both alive for three of their looks (each second, 1 s grace): neither may take the other's jobs.
        try await Task.sleep(for: .seconds(3))
        let bothAlive = try await store.jobs(JobFilter(statuses: [.running], limit: 10))
        try #require(bothAlive.count == 6 && bothAlive.allSatisfy { $0.attempts == 0 }, "no live worker's job taken back")
        doomed.signal(SIGKILL)
        _ = try await doomed.waitForExit()
        let held = try await store.jobs(JobFilter(statuses: [.running], limit: 10))
        try #require(held.allSatisfy { $0.leaseExpiresAt! > Date().addingTimeInterval(500) }, "leases run for minutes yet")

        let deadline = ContinuousClock.now + .seconds(60)
        while try await store.jobCounts()[.succeeded] != 6, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        survivor.signal(SIGTERM)
        _ = try await survivor.waitForExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let jobs = try await store.jobs(JobFilter(limit: 10))
        #expect(jobs.map(\.status) == Array(repeating: .succeeded, count: 6), "log:\n\(text.suffix(3000))")
        let taken = jobs.filter { doomedJobs.contains($0.id) }
        #expect(taken.allSatisfy { $0.attempts == 2 && $0.outcomeUncertain }, "\(taken.map { ($0.attempts, $0.outcomeUncertain) })")
        let kept = jobs.filter { survivorJobs.contains($0.id) }
        #expect(kept.count == 3 && kept.allSatisfy { $0.attempts == 1 && !$0.outcomeUncertain }, "the live worker's jobs stay its own")
        #expect(text.components(separatedBy: "took back the jobs of workers that are no longer running").count == 2, "taken back once")
        let effects = try await store.events(EventFilter(kind: "probe", limit: 10))
        #expect(effects.count == 6, "each probe's effect once: the killed attempts had not recorded theirs")
    }

    @Test("SIGTERM stops claiming, and jobs still running after the grace period go back to the queue unspent")
    func sigtermReleases() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-term-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers: {concurrency: 3, claimBatch: 3, leaseSeconds: 30, pollMilliseconds: 10, shutdownGraceSeconds: 0.2}
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let database = folder.appendingPathComponent("hub.db").path
        let environment = ["KOPRU_STORE": "sqlite:\(database)", "KOPRU_CONFIG": configFile.path, "KOPRU_LOG_LEVEL": "notice"]
        let log = folder.appendingPathComponent("kopru.log")
        let (status, output) = try await KopruProcess.run(
            ["jobs", "probe", "--count", "5", "--work-ms", "60000", "--prefix", "slow"], environment: environment, logFile: log)
        try #require(status == 0, "enqueue failed: \(output)")
        // The key file was created beside the database by the first command, with mode 0600.
        let keyFile = folder.appendingPathComponent("hub.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let key = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let store = try SQLiteStore(path: database, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))

        let worker = try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await store.jobCounts()[.running] != 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try #require(try await store.jobCounts()[.running] == 3, "three probes should be running")
        worker.signal(SIGTERM)
        let exit = try await worker.waitForExit(timeout: .seconds(20))
        #expect(exit == 0, "log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let jobs = try await store.jobs(JobFilter(limit: 10))
        #expect(jobs.count == 5)
        #expect(jobs.allSatisfy { $0.status == .pending && $0.attempts == 0 }, "\(jobs.map { ($0.status, $0.attempts) })")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("job released at shutdown"))
    }
}
