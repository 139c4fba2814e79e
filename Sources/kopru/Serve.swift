import ArgumentParser
import Foundation
import KopruEngine
import Logging
import KopruStore
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub.",
        discussion: """
            --role worker runs the job workers (which carry out every outbound effect) and the \
            scheduler (which starts flows on their cron schedules). --role all runs everything this \
            build has; the admin API and webhook intake (--role web) arrive with the HTTP server. \
            Stops gracefully on SIGTERM or SIGINT: no new jobs are claimed, running ones finish \
            within workers.shutdownGraceSeconds, the rest go back to the queue.
            """)

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case all, web, worker
    }

    @Option(help: "Which part of the hub to run: all, web or worker.")
    var role: Role = .all

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let configuration = try global.load()
        Runtime.bootstrapLogging(configuration)
        let logger = Logger(label: "kopru")
        if role == .web {
            throw ValidationError("--role web (admin API and webhook intake) is not in this build yet; use --role worker")
        }
        let store = try await Runtime.openStore(configuration)
        let processorConfiguration = Runtime.processorConfiguration(configuration)
        let processor = JobProcessor(
            store: store, registry: Runtime.registry(), configuration: processorConfiguration,
            logger: Logger(label: "kopru.jobs"))
        let scheduler = Scheduler(
            store: store, schedules: try Runtime.schedules(configuration), holder: processorConfiguration.workerID,
            term: .milliseconds(Int64(configuration.schedulerTermSeconds * 1000)))
        let retention = EventRetention(store: store, retention: .seconds(configuration.eventRetentionDays * 86_400))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: processor),
                    .init(service: scheduler, successTerminationBehavior: .ignore),
                    .init(service: retention),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "kopru \(Kopru.version) serving", metadata: ["role": "\(role.rawValue)", "store": "\(store.summary)"])
        try await group.run()
    }
}
