import ArgumentParser
import Foundation
import KopruApp
import KopruCore
import KopruEngine
import KopruStore
import Logging

/// `kopru reconcile CONNECTION [FLOW] [--push]`: runs, now, the reconciliation of every flow
/// at CONNECTION (or only FLOW) and prints the report. An orders flow whose source is CONNECTION
/// compares what the source holds over its `reconcileHours` with what the hub delivered, and
/// queues what was not; a stock flow whose target is CONNECTION compares the channel's
/// quantities with what the hub would send (the drift report), and with --push sends the
/// difference. A worker in this process does the work, as `kopru sync` does, unless
/// --no-worker. Exit status 1 if a reconciliation failed, 2 if it found what an operator must
/// see: an order bound to a target document another order also has, or stock drift left unsent.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare a connection's orders or stock with what the hub delivered, and send what differs.",
        discussion: """
            Orders flows from CONNECTION read the source over their reconcileHours (24 by default) \
            and look each exportable order up on the target; those not delivered are queued. Stock \
            flows to CONNECTION read the source's stock and the channel's quantities and report \
            each SKU that differs (drifted: changed on the channel after the hub confirmed it; not \
            yet sent; not on the channel); --push sends the sellable quantity for those. The \
            reports are also served by GET /api/reconciliation.

            Examples:
              kopru reconcile shop
              KOPRU_CONFIG=hub.yaml kopru reconcile shop orders-to-erp
              kopru reconcile shop stock-to-shop --push
            """)

    @Argument(help: "The connection id: an orders flow's source or a stock flow's channel.") var connection: String
    @Argument(help: "One flow's name; all its flows that have a reconciliation when left out.") var flow: String?
    @Flag(help: "Stock flows: send the sellable quantity for every SKU that differs.") var push = false
    @Flag(help: "Only queue the work; leave it to running `kopru serve` processes.") var noWorker = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let session = try await FlowCommandSession(global, worker: !noWorker, label: "kopru.reconcile")
        let (store, catalog) = (session.store, session.catalog)
        let id = ConnectionID(connection)
        let flows = catalog.flows.filter { definition in
            guard definition.kind.reconciliation != nil, flow == nil || definition.name == flow else { return false }
            // Orders are reconciled at their source, stock at the channel it is sent to.
            return definition.kind.reconciliation?.pushes == true ? definition.target == id : definition.source == id
        }
        guard !flows.isEmpty else {
            throw ValidationError("no flow\(flow.map { " named \($0)" } ?? "") at connection \(connection) has a reconciliation")
        }
        if push, let other = flows.first(where: { $0.kind.reconciliation?.pushes != true }) {
            throw ValidationError(
                "--push sends a stock flow's difference; \(other.name) is a \(other.kind.id) flow, whose reconciliation queues what is missing itself")
        }
        let jobs = flows.map { $0.kind.reconciliation!.job($0, UUID().uuidString, push) }
        let queued = try await store.enqueue(jobs, now: Date())
        var status: Int32 = 0
        for ((definition, job), result) in zip(zip(flows, jobs), queued) {
            status = max(status, try await follow(definition, kind: job.kind, job: result.id, store: store))
        }
        await session.finish()
        if status != 0 { throw ExitCode(status) }
    }

    private func follow(_ definition: FlowDefinition, kind: String, job: JobID, store: any Store) async throws -> Int32 {
        var job = job
        while true {
            guard let state = try await store.job(job) else { return 1 }
            switch state.status {
            case .succeeded:
                let event = try await store.events(EventFilter(kind: "reconciliation", subject: "flow:\(definition.name)", limit: 1)).first
                guard let event else { return 1 }
                let status = report(definition, event)
                guard let run = event.details["run"], !run.isEmpty else { return status }
                return max(status, try await followPush(definition, run: run, store: store))
            case .superseded:
                // Another request for the same flow took this one's place.
                guard let next = try await store.jobs(JobFilter(statuses: [.pending, .running, .succeeded], kind: kind, limit: 50))
                    .first(where: { $0.orderingKey == "reconcile:\(definition.name)" && $0.id > job })
                else { return 1 }
                job = next.id
            case .dead:
                say("\(definition.name): the reconciliation failed: \(state.lastError ?? "no reason recorded")")
                return 1
            default: try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Until the pushed rows are confirmed or refused (unless no worker runs here); 1 if any
    /// was refused.
    private func followPush(_ definition: FlowDefinition, run: String, store: any Store) async throws -> Int32 {
        guard !noWorker else {
            say("  queued for the running hub (run \(run)): GET /api/sync-runs shows its progress")
            return 0
        }
        while true {
            if let state = try await store.syncRun(run), state.finished {
                say("  pushed: \(state.confirmed) confirmed by the channel, \(state.refused) refused")
                return state.refused == 0 ? 0 : 1
            }
            guard try await store.syncRun(run) != nil else { return 0 }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Prints one report; its exit status.
    private func report(_ definition: FlowDefinition, _ event: EventRecord) -> Int32 {
        say("\(definition.name): \(event.message)")
        let details = event.details
        func list(_ key: String, _ label: String) {
            if let items = details[key], !items.isEmpty { say("  \(label): \(items.split(separator: ",").joined(separator: ", "))") }
        }
        list("missingOrders", "not delivered")
        list("driftedSKUs", "drifted (SKU=channel>expected)")
        list("unsentSKUs", "not yet sent (SKU=channel>expected)")
        list("notOnChannelSKUs", "not on the channel")
        if let twice = details["boundTwiceDocuments"], !twice.isEmpty {
            say("  bound to more than one order: \(twice)")
            return 2
        }
        if details["drifted"].flatMap(Int.init) ?? 0 > 0 && details["push"] != "true" {
            say("  run again with --push to send the sellable quantity for these")
            return 2
        }
        return 0
    }
}
