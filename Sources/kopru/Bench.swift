import ArgumentParser
import Foundation
import KopruApp
import KopruCore
import KopruEngine
import KopruStore
import KopruStoreSQLite
import Logging

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (build with -c release first).",
        discussion: "Each prints a human summary, or with --json one JSON object on stdout.",
        subcommands: [Queue.self, Webhooks.self, Stock.self, Orders.self, Soak.self, Dashboard.self])

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Jobs per second through the durable queue on SQLite, with a no-op handler.",
            discussion: """
                Enqueues --jobs jobs in batches of --enqueue-batch (one transaction each), then runs \
                them through the real job processor (batch claims, group-committed completions) and \
                reports the median of --runs runs. Also times single-job enqueues (one transaction \
                per job, as webhook intake does). The database is a temporary file, removed after.
                """)

        @Option(help: "Jobs per run.") var jobs = 20_000
        @Option(help: "Runs; the median is reported.") var runs = 3
        @Option(help: "SQLite durability: full (what the hub ships with) or normal.") var durability = "full"
        @Option(help: "Jobs running at once.") var concurrency = 256
        @Option(help: "Jobs per claim transaction.") var claimBatch = 256
        @Option(help: "Jobs per enqueue transaction.") var enqueueBatch = 1000
        @Option(help: "Single-job enqueues to time (one transaction each).") var singleEnqueues = 500
        @Option(help: "Folder for the temporary database (default: the system's temporary folder).") var directory: String?
        @Option(
            parsing: .upToNextOption,
            help: "Run the jobs in this many real `kopru serve --role worker` processes instead of in-process; several counts measure each (e.g. --processes 1 2 3).")
        var processes: [Int] = []
        @Option(help: "With --processes: postgres://… to measure PostgreSQL (a scratch database is made beside it and dropped); default a temporary SQLite file.")
        var store: String?
        @Flag(help: "Print one JSON object.") var json = false

        struct Run {
            var enqueuePerSecond: Double
            var singleEnqueuePerSecond: Double
            var processPerSecond: Double
        }

        func run() async throws {
            guard let mode = SQLiteStore.Durability(rawValue: durability) else {
                throw ValidationError("--durability must be full or normal")
            }
            guard jobs > 0, runs > 0, concurrency > 0, claimBatch > 0, enqueueBatch > 0, singleEnqueues >= 0 else {
                throw ValidationError("counts must be positive")
            }
            quietBenchLogging()
            if !processes.isEmpty { return try await runProcesses() }
            if store != nil { throw ValidationError("--store goes with --processes") }
            var results: [Run] = []
            for index in 1...runs {
                let result = try await once(mode)
                results.append(result)
                if !json {
                    print(
                        "run \(index): enqueue \(Int(result.enqueuePerSecond)) jobs/s, single enqueue \(Int(result.singleEnqueuePerSecond)) jobs/s, claim+complete \(Int(result.processPerSecond)) jobs/s"
                    )
                }
            }
            let enqueue = median(results.map(\.enqueuePerSecond))
            let single = median(results.map(\.singleEnqueuePerSecond))
            let process = median(results.map(\.processPerSecond))
            let storeName = "sqlite (WAL, synchronous=\(mode.rawValue.uppercased()))"
            if json {
                let object: [String: Any] = [
                    "jobs": jobs, "runs": runs, "enqueue_per_s": rounded(enqueue), "enqueue_single_per_s": rounded(single),
                    "process_per_s": rounded(process), "store": storeName, "durability": mode.rawValue,
                    "concurrency": concurrency, "claim_batch": claimBatch, "enqueue_batch": enqueueBatch,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(
                    "median of \(runs): enqueue \(Int(enqueue)) jobs/s (batches of \(enqueueBatch)), single enqueue \(Int(single)) jobs/s, claim+complete \(Int(process)) jobs/s — \(jobs) jobs, \(storeName)"
                )
            }
        }

        private func runProcesses() async throws -> Void {
            guard processes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--processes takes positive counts") }
            if let store, !store.hasPrefix("postgres") { throw ValidationError("--store must be a postgres:// URL") }
            let bench = ProcessBench(
                jobs: jobs, concurrency: concurrency, claimBatch: claimBatch, postgresURL: store,
                directory: directory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory)
            var byProcesses: [String: Double] = [:]
            var enqueue: [Double] = []
            var storeName = ""
            for count in processes {
                var rates: [Double] = []
                for run in 1...runs {
                    let result = try await bench.run(processes: count)
                    rates.append(result.processPerSecond)
                    enqueue.append(result.enqueuePerSecond)
                    storeName = result.store
                    if !json { print("\(count) process(es), run \(run): \(Int(result.processPerSecond)) jobs/s") }
                }
                byProcesses["\(count)"] = rounded(median(rates))
                if !json { print("\(count) process(es): median \(Int(median(rates))) jobs/s — \(jobs) jobs, \(storeName)") }
            }
            if json {
                let object: [String: Any] = [
                    "jobs": jobs, "runs": runs, "store": storeName, "durability": store == nil ? "full" : "synchronous_commit=on",
                    "enqueue_per_s": rounded(median(enqueue)), "process_per_s": byProcesses["\(processes[0])"]!,
                    "process_per_s_by_processes": byProcesses, "concurrency": concurrency, "claim_batch": claimBatch,
                    "handler": "system.probe (no work; one event-log row per job in its completion)",
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }

        private func once(_ mode: SQLiteStore.Durability) async throws -> Run {
            let base = directory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
            let folder = base.appendingPathComponent("kopru-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let store = try SQLiteStore(path: folder.appendingPathComponent("bench.db").path, secretBox: .ephemeral(), durability: mode)
            try await store.migrate()
            let clock = ContinuousClock()
            let payload = Data(#"{"sku":"TSHIRT-M","qty":12}"#.utf8)

            let enqueueTime = try await clock.measure {
                for start in stride(from: 0, to: jobs, by: enqueueBatch) {
                    let batch = (start..<min(start + enqueueBatch, jobs)).map {
                        NewJob(kind: "bench.noop", idempotencyKey: "job-\($0)", payload: payload)
                    }
                    _ = try await store.enqueue(batch, now: Date())
                }
            }

            let processor = JobProcessor(
                store: store,
                registry: JobRegistry([ClosureJobHandler(kind: "bench.noop") { _ in .done }]),
                configuration: JobProcessorConfiguration(
                    workerID: "bench", concurrency: concurrency, claimBatch: claimBatch, leaseDuration: .seconds(120),
                    pollInterval: .milliseconds(1), defaultConnectionConcurrency: concurrency, shutdownGrace: .seconds(10)),
                logger: Logger(label: "kopru.bench"))
            let started = clock.now
            let worker = Task { try await processor.run() }
            while processor.statistics.succeeded < jobs { try await Task.sleep(for: .milliseconds(1)) }
            let processTime = clock.now - started
            processor.stop()
            try await worker.value
            let counts = try await store.jobCounts()
            guard counts[.succeeded] == jobs, counts.values.reduce(0, +) == jobs else {
                throw ValidationError("benchmark invariant broken: \(counts)")
            }

            let singleTime = try await clock.measure {
                for index in 0..<singleEnqueues {
                    _ = try await store.enqueue([NewJob(kind: "bench.single", idempotencyKey: "s-\(index)", payload: payload)], now: Date())
                }
            }
            return Run(
                enqueuePerSecond: Double(jobs) / enqueueTime.seconds,
                singleEnqueuePerSecond: singleEnqueues == 0 ? 0 : Double(singleEnqueues) / singleTime.seconds,
                processPerSecond: Double(jobs) / processTime.seconds)
        }

        private func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        private func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
    }
}
