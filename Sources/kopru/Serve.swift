import ArgumentParser
import Foundation
import KopruApp
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import Logging
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub.",
        discussion: """
            --role all (the default) runs everything in one process. --role web runs the HTTP \
            server: the admin API, webhook intake, /healthz, /readyz, /metrics and /openapi.json. \
            --role worker runs the job workers (which carry out every outbound effect) and the \
            scheduler (which starts flows on their cron schedules). Several processes can share one \
            PostgreSQL store in any mix of roles. Stops gracefully on SIGTERM or SIGINT: the server \
            stops accepting, no new jobs are claimed, running ones finish within \
            workers.shutdownGraceSeconds, the rest go back to the queue.

            Examples:
              kopru serve
              KOPRU_HTTP_PORT=9000 kopru serve --role web
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
        HubMetrics.bootstrap()
        let logger = Logger(label: "kopru")
        let store = try await Runtime.openStore(configuration)
        try await Runtime.applyConnections(configuration, to: store)
        let catalog = try Runtime.flowCatalog(configuration)
        try await Runtime.checkFlows(catalog, kinds: configuration.kinds, store: store)
        // First in the group, so it stops last: the calls of the jobs finishing at shutdown are written.
        let callLog = CallLog(store: store, bodyBytes: configuration.callBodyBytes)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: callLog)]
        if role != .worker {
            let checks = HubConnectors(configuration, callLog: callLog)
            var dependencies = HubServerDependencies(
                store: store, kinds: configuration.kinds, webhooks: .init(bodyLimit: configuration.webhookBodyLimitBytes),
                flows: catalog, checkConnection: { try await checks.check($0, probe: $1) })
            dependencies.sessionKey = .derived(fromMasterKey: try await Runtime.storeMasterKey(configuration))
            let host = configuration.httpHost
            let application = buildApplication(dependencies, host: host, port: configuration.httpPort) { port in
                // Scripts (and the benchmark) read this line to learn the port when it was 0.
                logger.notice("listening", metadata: ["address": "http://\(host):\(port)"])
            }
            services.append(.init(service: application))
        }
        if role != .web {
            let processorConfiguration = Runtime.processorConfiguration(configuration)
            let processor = JobProcessor(
                store: store, registry: Runtime.registry(store: store, catalog: catalog, connectors: HubConnectors(configuration, callLog: callLog)), configuration: processorConfiguration,
                logger: Logger(label: "kopru.jobs"))
            let scheduler = Scheduler(
                store: store, schedules: try Runtime.schedules(configuration), holder: processorConfiguration.workerID,
                term: .milliseconds(Int64(configuration.schedulerTermSeconds * 1000)))
            let retention = EventRetention(store: store, retention: .seconds(configuration.eventRetentionDays * 86_400))
            services += [
                .init(service: processor),
                .init(service: scheduler, successTerminationBehavior: .ignore),
                .init(service: retention),
            ]
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("kopru \(Kopru.version) serving", metadata: ["role": "\(role.rawValue)", "store": "\(store.summary)"])
        try await group.run()
    }
}
