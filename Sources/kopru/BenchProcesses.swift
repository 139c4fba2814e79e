import Crypto
import Foundation
import KopruApp
import KopruCore
import KopruEngine
import KopruStore
import KopruStorePostgres
import KopruStoreSQLite

/// `kopru bench queue --processes N…`: real `kopru serve --role worker` processes sharing one
/// store, running `system.probe` jobs that do no work but still write their event-log line in
/// the completion transaction.
struct ProcessBench {
    var jobs: Int
    var concurrency: Int
    var claimBatch: Int
    /// `postgres://…` (a scratch database is made beside it) or nil for a temporary SQLite file.
    var postgresURL: String?
    var directory: URL

    struct Result {
        var store: String
        var enqueuePerSecond: Double
        var processPerSecond: Double
    }

    func run(processes: Int) async throws -> Result {
        let folder = directory.appendingPathComponent("kopru-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let postgresURL else {
            return try await run(processes: processes, storeURL: "sqlite:\(folder.appendingPathComponent("bench.db").path)", folder: folder)
        }
        let scratch = try await ScratchDatabase.create(from: postgresURL)
        do {
            let result = try await run(processes: processes, storeURL: scratch, folder: folder)
            try await ScratchDatabase.drop(scratch)
            return result
        } catch {
            try? await ScratchDatabase.drop(scratch)
            throw error
        }
    }

    private func run(processes: Int, storeURL: String, folder: URL) async throws -> Result {
        let keyBytes = SymmetricKey(size: .bits256)
        let key = keyBytes.withUnsafeBytes { Data($0).base64EncodedString() }
        let store: any Store
        var postgres: PostgresStore?
        if storeURL.hasPrefix("sqlite:") {
            store = try SQLiteStore(path: String(storeURL.dropFirst("sqlite:".count)), secretBox: SecretBox(masterKey: keyBytes))
        } else {
            postgres = try PostgresStore(url: storeURL, secretBox: SecretBox(masterKey: keyBytes))
            store = postgres!
        }
        defer { postgres?.shutdown() }
        try await store.migrate()

        let clock = ContinuousClock()
        let payload = Data(#"{"workMilliseconds":0}"#.utf8)
        let enqueueTime = try await clock.measure {
            for start in stride(from: 0, to: jobs, by: 1000) {
                _ = try await store.enqueue(
                    (start..<min(start + 1000, jobs)).map { NewJob(kind: "system.probe", idempotencyKey: "bench-\($0)", payload: payload) },
                    now: Date())
            }
        }

        let config = folder.appendingPathComponent("kopru.yaml")
        try "workers: {concurrency: \(concurrency), claimBatch: \(claimBatch), pollMilliseconds: 20}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["KOPRU_STORE"] = storeURL
        environment["KOPRU_MASTER_KEY"] = key
        environment["KOPRU_CONFIG"] = config.path
        environment["KOPRU_LOG_LEVEL"] = "error"
        var children: [Process] = []
        defer { for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        for _ in 0..<processes {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            child.arguments = ["serve", "--role", "worker"]
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            children.append(child)
        }
        // Timed from the first completed job, so process start-up is not counted.
        while try await store.jobs(JobFilter(statuses: [.succeeded], limit: 1)).isEmpty {
            try await Task.sleep(for: .milliseconds(2))
        }
        let started = clock.now
        while try await !store.jobs(JobFilter(statuses: [.pending, .running], limit: 1)).isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        let elapsed = clock.now - started
        for child in children { kill(child.processIdentifier, SIGTERM) }
        for child in children { child.waitUntilExit() }
        let counts = try await store.jobCounts()
        let logged = try await store.events(EventFilter(kind: "probe", limit: jobs + 1)).count
        guard counts == [.succeeded: jobs], logged == jobs else {
            throw BenchError(description: "benchmark invariant broken: \(counts), \(logged) effects")
        }
        return Result(
            store: store.summary, enqueuePerSecond: Double(jobs) / enqueueTime.seconds,
            processPerSecond: Double(jobs) / elapsed.seconds)
    }
}

