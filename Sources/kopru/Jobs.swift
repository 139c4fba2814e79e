import KopruApp
import ArgumentParser
import Foundation
import KopruCore
import KopruStore
import KopruServer

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and steer the durable job queue.",
        discussion: """
            Every outbound effect of the hub (an order sent to the ERP, a stock push, a shipment) is \
            a job. A job that fails for good waits in the dead letters with its reason; fix the \
            cause (a mapping, a credential) and replay it: it keeps its idempotency key, so the \
            target never receives it twice.
            """,
        subcommands: [List.self, Show.self, Retry.self, Dead.self, Replay.self, Probe.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")

        @Option(help: "Only jobs with this status: pending, running, succeeded, dead, superseded.")
        var status: String?
        @Option(help: "Only jobs of this kind.") var kind: String?
        @Option(help: "Only jobs for this connection.") var connection: String?
        @Option(help: "How many.") var limit = 50
        @Option(help: "Page on from below this job id.") var before: Int64?
        @Flag(help: "Print JSON instead of a table.") var json = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            var statuses: Set<JobStatus>?
            if let status {
                guard let parsed = JobStatus(rawValue: status) else {
                    throw ValidationError(
                        "--status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                statuses = [parsed]
            }
            let store = try await openStore(global)
            let jobs = try await store.jobs(
                JobFilter(statuses: statuses, kind: kind, connection: connection.map { ConnectionID($0) }, beforeID: before, limit: limit))
            json ? printJSON(jobs.map(JobView.init)) : printTable(jobs)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job, with its payload and last error.")
        @Argument(help: "The job id.") var id: Int64
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await openStore(global)
            guard let job = try await store.job(id) else { throw ValidationError("no job \(id)") }
            printJSON(JobView(job))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a pending job now (skipping its backoff), or replay a dead one.")
        @Argument(help: "The job id.") var id: Int64
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await openStore(global)
            let job = try await store.retryNow(id, now: Date())
            print("job \(job.id) (\(job.kind)) is pending and will run now")
        }
    }

    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the dead letters: jobs that failed for good, with why.")
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Print JSON instead of a table.") var json = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await openStore(global)
            let jobs = try await store.jobs(JobFilter(statuses: [.dead], limit: limit))
            json ? printJSON(jobs.map(JobView.init)) : printTable(jobs)
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters back to the queue with the same idempotency key.",
            discussion: "Give job ids, or --all to replay every dead letter (optionally of one --kind).")
        @Argument(help: "Job ids.") var ids: [Int64] = []
        @Flag(help: "Replay every dead letter.") var all = false
        @Option(help: "With --all: only this kind.") var kind: String?
        @Flag(
            name: .customLong("not-at-target"),
            help: "You checked the target and the effect is not there: send without asking it first.")
        var notAtTarget = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if ids.isEmpty && !all { throw ValidationError("name job ids to replay, or pass --all") }
            if !ids.isEmpty && all { throw ValidationError("give job ids or --all, not both") }
        }

        func run() async throws {
            let store = try await openStore(global)
            var targets = ids
            if all {
                var before: Int64?
                while true {
                    let page = try await store.jobs(JobFilter(statuses: [.dead], kind: kind, beforeID: before, limit: 500))
                    targets += page.map(\.id)
                    guard let last = page.last, page.count == 500 else { break }
                    before = last.id
                }
            }
            for id in targets {
                let job = try await store.replayDeadLetter(id, now: Date(), checkedAbsent: notAtTarget)
                print("replayed job \(job.id) (\(job.kind), key \(job.idempotencyKey))")
            }
            if targets.isEmpty { print("no dead letters to replay") }
        }
    }

    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enqueue probe jobs that check the queue end to end.",
            discussion: """
                Each probe, when a worker runs it, writes one 'probe' line to the event log in the \
                same transaction as its completion. Run `kopru serve --role worker` and watch them \
                drain with `kopru jobs list --kind system.probe`.
                """)
        @Option(help: "How many probes.") var count = 1
        @Option(help: "How long each probe works, in milliseconds.") var workMs = 0
        @Option(help: "A prefix for the probes' idempotency keys (re-running with the same prefix enqueues nothing new).")
        var prefix = "probe-\(Int(Date().timeIntervalSince1970))"
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            guard count > 0, workMs >= 0 else { throw ValidationError("--count must be positive and --work-ms not negative") }
            let store = try await openStore(global)
            var inserted = 0
            let payload = try JSONEncoder.kopru.encode(ProbeJob.Payload(workMilliseconds: workMs))
            for start in stride(from: 0, to: count, by: 1000) {
                let batch = (start..<min(start + 1000, count)).map {
                    NewJob(kind: ProbeJob.kind, idempotencyKey: "\(prefix)-\($0)", payload: payload)
                }
                inserted += try await store.enqueue(batch, now: Date()).filter(\.inserted).count
            }
            print("enqueued \(inserted) probe job(s)\(inserted < count ? " (\(count - inserted) already existed)" : "")")
        }
    }
}

private func openStore(_ global: GlobalOptions) async throws -> any Store {
    let configuration = try global.load()
    Runtime.bootstrapLogging(configuration)
    return try await Runtime.openStore(configuration)
}

/// A job as the CLI prints it.
func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder.kopru
    encoder.outputFormatting.insert(.prettyPrinted)
    print(String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self))
}

private func printTable(_ jobs: [Job]) {
    guard !jobs.isEmpty else {
        print("no jobs")
        return
    }
    let formatter = ISO8601DateFormatter()
    let rows = [["ID", "STATUS", "KIND", "TRIES", "RUN AT", "CONNECTION", "KEY", "LAST ERROR"]]
        + jobs.map { job in
            [
                "\(job.id)", job.status.rawValue, job.kind, "\(job.attempts)", formatter.string(from: job.runAt),
                job.connection?.rawValue ?? "-", TurkishText.truncated(job.idempotencyKey, toCharacters: 32),
                TurkishText.truncated(job.lastError ?? "", toCharacters: 60),
            ]
        }
    let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max()! }
    for row in rows {
        print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
