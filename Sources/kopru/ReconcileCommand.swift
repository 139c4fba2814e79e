import ArgumentParser
import Foundation
import KopruApp
import KopruCore
import KopruEngine
import KopruStore
import Logging

/// `kopru reconcile CONNECTION [FLOW]`: compares what the order flows from CONNECTION's source
/// hold over their `reconcileHours` with what the hub delivered, now, and prints the report;
/// orders not delivered are queued for export (a worker in this process sends them, as
/// `kopru sync` does, unless --no-worker). Exit status 1 if a reconciliation failed, 2 if an
/// order is bound to a target document another order also has.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare a source's orders with what was delivered, and send what was not.",
        discussion: """
            Every configured orders flow whose source is CONNECTION (or only FLOW, by name) reads \
            the source over its reconcileHours (24 by default) and looks each exportable order up \
            on the target. The report is also served by GET /api/reconciliation.

            Examples:
              kopru reconcile shop
              KOPRU_CONFIG=hub.yaml kopru reconcile shop orders-to-erp
            """)

    @Argument(help: "The source connection id.") var connection: String
    @Argument(help: "One flow's name; all its orders flows when left out.") var flow: String?
    @Flag(help: "Only queue the work; leave it to running `kopru serve` processes.") var noWorker = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let session = try await FlowCommandSession(global, worker: !noWorker, label: "kopru.reconcile")
        let (store, catalog) = (session.store, session.catalog)
        let flows = catalog.flows.filter { $0.kind == .orders && $0.source == ConnectionID(connection) && (flow == nil || $0.name == flow) }
        guard !flows.isEmpty else {
            throw ValidationError("no orders flow\(flow.map { " named \($0)" } ?? "") starts at connection \(connection)")
        }
        let jobs = try await store.enqueue(flows.map { OrderReconcileJob.job(flow: $0) }, now: Date())
        var status: Int32 = 0
        for (definition, job) in zip(flows, jobs) {
            status = max(status, try await follow(definition, job: job.id, store: store))
        }
        await session.finish()
        if status != 0 { throw ExitCode(status) }
    }

    private func follow(_ definition: FlowDefinition, job: JobID, store: any Store) async throws -> Int32 {
        var job = job
        while true {
            guard let state = try await store.job(job) else { return 1 }
            switch state.status {
            case .succeeded:
                let event = try await store.events(EventFilter(kind: "reconciliation", subject: "flow:\(definition.name)", limit: 1)).first
                guard let event else { return 1 }
                say("\(definition.name): \(event.message)")
                if let missing = event.details["missingOrders"], !missing.isEmpty { say("  not delivered: \(missing)") }
                if let twice = event.details["boundTwiceDocuments"], !twice.isEmpty {
                    say("  bound to more than one order: \(twice)")
                    return 2
                }
                return 0
            case .superseded:
                // Another request for the same flow took this one's place.
                guard let next = try await store.jobs(JobFilter(statuses: [.pending, .running, .succeeded], kind: OrderReconcileJob.kind, limit: 50))
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
}
