import KopruApp
import ArgumentParser
import Foundation
import KopruCore
import KopruEngine
import KopruStore
import Logging

/// `kopru sync CONNECTION FLOW [--full]`: runs the configured flows of that kind that start or
/// end at the connection, now, with a worker in this process (other hub processes on the same
/// store help), and follows them to the end. Stock runs show a progress bar on a terminal and
/// plain lines otherwise, from the same counts `GET /api/sync-runs` returns.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Run a sync now and follow it to the end.",
        discussion: """
            FLOW is orders, stock, customers or shipments. Every configured flow of that kind \
            whose source or target is CONNECTION runs. Stock: --full sends every SKU, not only \
            what changed; progress shows rows confirmed by the target, the rate and the time \
            left. Exit status 1 if a sync job failed or a row was refused.

            Examples:
              kopru sync shop stock --full
              KOPRU_CONFIG=hub.yaml kopru sync erp stock
            """)

    @Argument(help: "The connection id.") var connection: String
    @Argument(help: "The flow kind: orders, stock, prices, customers, shipments or shipping.") var flow: String
    @Flag(help: "Everything, not only what changed.") var full = false
    @Option(help: "Seconds between progress lines when not on a terminal.") var every = 2.0
    @Flag(help: "Only start the sync and follow it; leave the work to running `kopru serve` processes.") var noWorker = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard Installed.kinds.flow(flow) != nil else {
            throw ValidationError("FLOW must be one of \(Installed.flows.map(\.id).joined(separator: ", "))")
        }
        guard every > 0 else { throw ValidationError("--every must be positive") }
    }

    func run() async throws {
        let session = try await FlowCommandSession(global, worker: !noWorker, label: "kopru.sync")
        let (store, catalog) = (session.store, session.catalog)
        let id = ConnectionID(connection)
        let flows = catalog.flows.filter { $0.kind.id == flow && ($0.source == id || $0.target == id) }
        guard !flows.isEmpty else {
            throw ValidationError("no \(flow) flow starts or ends at connection \(connection) (configure one under flows:)")
        }
        var runs: [(flow: FlowDefinition, job: JobID)] = []
        for definition in flows {
            let job = try await store.enqueue([definition.syncJob(mode: full ? "full" : "delta")], now: Date())[0].id
            runs.append((definition, job))
        }
        var failed = false
        for (definition, job) in runs {
            let ok =
                definition.kind == .stock
                ? try await followStock(definition, job: job, store: store)
                : try await followJob(definition, job: job, store: store)
            failed = failed || !ok
        }
        await session.finish()
        if failed { throw ExitCode(1) }
    }

    /// Until the run's every row is confirmed or refused, or its sync job fails.
    private func followStock(_ definition: FlowDefinition, job: JobID, store: any Store) async throws -> Bool {
        let id = "\(definition.name)#\(job)"
        var display = ProgressDisplay(title: "\(definition.name) → \(definition.target.rawValue)", every: every)
        while true {
            let run = try await store.syncRun(id)
            if let run { display.show(run) }
            if let run, run.finished {
                display.finish(run)
                return run.refused == 0
            }
            if let state = try await store.job(job), state.status == .dead {
                display.clear()
                say("\(definition.name): the sync failed: \(state.lastError ?? "no reason recorded")")
                return false
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Until the flow's passes are done: a pass that stopped at its budget enqueued the next
    /// (and a later request may have replaced a waiting one), so the chain is followed through
    /// the flow's ordering key until no pass of it waits or runs.
    private func followJob(_ definition: FlowDefinition, job: JobID, store: any Store) async throws -> Bool {
        var job = job
        var passes = 0
        while true {
            guard let state = try await store.job(job) else { return false }
            switch state.status {
            case .succeeded, .superseded:
                if state.status == .succeeded { passes += 1 }
                let next = try await store.jobs(JobFilter(statuses: [.pending, .running], kind: definition.syncKind, limit: 100))
                    .first { $0.orderingKey == definition.syncJob().orderingKey }
                if let next {
                    job = next.id
                    continue
                }
                let events = try await store.events(EventFilter(kind: "sync_run", limit: 20))
                let line = events.first { $0.subject == "flow:\(definition.name)" }?.message ?? "done"
                say("\(definition.name): \(line)\(passes > 1 ? " (last of \(passes) passes)" : "")")
                return true
            case .dead:
                say("\(definition.name): the sync failed: \(state.lastError ?? "no reason recorded")")
                return false
            default: try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// A progress bar with rate and time left on a terminal; a plain line every few seconds
/// otherwise (logs, CI), so the output reads well in both.
struct ProgressDisplay {
    let title: String
    let every: Double
    let terminal = isatty(STDOUT_FILENO) == 1
    let started = ContinuousClock.now
    var lastLine = ContinuousClock.now
    var drawn = false

    init(title: String, every: Double) {
        self.title = title
        self.every = every
    }

    mutating func show(_ run: SyncRun) {
        if terminal {
            let text = "\r\(bar(run)) \(counts(run))"
            FileHandle.standardOutput.write(Data(text.utf8))
            drawn = true
        } else if (ContinuousClock.now - lastLine).seconds >= every {
            lastLine = .now
            say("\(title): \(counts(run))")
        }
    }

    mutating func finish(_ run: SyncRun) {
        clear()
        let seconds = (ContinuousClock.now - started).seconds
        var line = "\(title): \(run.read) read, \(run.queued) changed, \(run.confirmed) confirmed"
        if run.refused > 0 { line += ", \(run.refused) refused (see `GET /api/integrations/\(run.target.rawValue)/logs`)" }
        say(line + String(format: " in %.1f s", seconds))
    }

    mutating func clear() {
        guard terminal, drawn else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
        drawn = false
    }

    private func bar(_ run: SyncRun) -> String {
        let width = 30
        let share = run.queued == 0 ? (run.readDone ? 1 : 0) : Double(run.confirmed + run.refused) / Double(run.queued)
        let filled = Int((min(1, share) * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    private func counts(_ run: SyncRun) -> String {
        let seconds = max(0.001, (ContinuousClock.now - started).seconds)
        let settled = run.confirmed + run.refused
        let rate = Double(settled) / seconds
        var text = "\(settled)/\(run.queued)\(run.readDone ? "" : "+") sent, \(run.read) read, \(Int(rate))/s"
        if run.readDone, rate > 0, run.queued > settled {
            text += ", ETA \(Int((Double(run.queued - settled) / rate).rounded(.up))) s"
        }
        return text
    }
}
