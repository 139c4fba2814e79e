import KopruApp
import ArgumentParser
import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruServer
import KopruStore
import KopruStoreSQLite
import Logging
import ServiceLifecycle
import UnixSignals

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub on sandboxes, with no setup: Magento 2 ⇄ ERP (seed 000).",
        discussion: """
            Starts a simulated Magento 2 store and a REST ERP on loopback with a sample \
            catalogue, an embedded SQLite store in a temporary directory, the hub's HTTP server \
            and workers, and four flows: Magento orders → ERP (with a comment back on the \
            order), ERP stock → Magento (changed SKUs only, asynchronous bulk), new Magento \
            customers → ERP, ERP shipments → Magento shipments with tracking. Orders, stock \
            changes and shipments are generated continuously; the ERP fails some requests on \
            purpose (5xx, timeouts, answers lost after the order was saved). A summary is printed \
            every few seconds. With --duration the demo stops generating after that many seconds, \
            lets the queue drain, checks that every order reached the ERP exactly once and exits \
            non-zero if not.

            Examples:
              kopru demo
              kopru demo --duration 30 --skus 5000 --orders-per-second 20
            """)

    @Option(help: "Seconds to generate traffic before draining and stopping (default: until Ctrl-C).")
    var duration: Double?

    @Option(help: "Catalogue size.")
    var skus = 1000

    @Option(name: .customLong("orders-per-second"), help: "Orders placed per second in the sandbox store.")
    var ordersPerSecond = 5.0

    @Option(help: "Port for the hub's HTTP server (0: any free port).")
    var port = 0

    @Option(help: "Seconds between summaries.")
    var every = 3.0

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard skus >= 1, skus <= 1_000_000 else { throw ValidationError("--skus must be 1…1000000") }
        guard ordersPerSecond > 0, ordersPerSecond <= 1000 else { throw ValidationError("--orders-per-second must be in (0, 1000]") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    }

    func run() async throws {
        var hubConfiguration = HubConfiguration()
        hubConfiguration.logLevel = ProcessInfo.processInfo.environment["KOPRU_LOG_LEVEL"] ?? "error"
        Runtime.bootstrapLogging(hubConfiguration)
        let world = try await DemoWorld(skus: skus)
        defer { Task { await world.shutdown() } }
        let callLog = CallLog(store: world.store)
        let processor = JobProcessor(
            store: world.store,
            registry: Runtime.registry(
                store: world.store, catalog: world.catalog,
                connectors: HubConnectors(transport: AsyncHTTPClientTransport(), callLog: callLog)),
            configuration: JobProcessorConfiguration(
                concurrency: 32, pollInterval: .milliseconds(50), defaultConnectionConcurrency: 8),
            logger: Logger(label: "kopru.jobs"))
        // A token for the dashboard, made for this demo's store alone (it goes with the store).
        let (dashboardToken, dashboardHash) = AdminTokens.generate()
        try await world.store.createToken(APIToken(name: "demo", hash: dashboardHash, createdAt: Date()))
        let address = AsyncStream<Int>.makeStream()
        let application = buildApplication(HubServerDependencies(store: world.store, kinds: Installed.kinds, flows: world.catalog), host: "127.0.0.1", port: port) { port in
            address.continuation.yield(port)
        }
        let group = ServiceGroup(services: [callLog, application, processor], logger: Logger(label: "kopru.demo"))
        let running = Task { try await group.run() }
        var ports = address.stream.makeAsyncIterator()
        let hubPort = await ports.next() ?? port
        say(
            """
            Köprü demo — Magento 2 ⇄ ERP on sandboxes
              hub        http://127.0.0.1:\(hubPort)  (try /healthz, /metrics)
              dashboard  http://127.0.0.1:\(hubPort)/  sign in with \(dashboardToken)
              magento2   \(world.magentoServer.baseURL)  (sandbox, \(skus) SKUs)
              erp-rest   \(world.erpServer.baseURL)/api/v2/  (sandbox; fails 15 % with 5xx, 3 % timeouts, 3 % lost answers)
              store      \(world.directory.path)/hub.db
            """)
        let started = ContinuousClock.now
        let traffic = Task { await world.generate(ordersPerSecond: ordersPerSecond) }
        let summaries = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(every * 1000)))
                guard !Task.isCancelled else { break }
                say(await world.summary(processor: processor, since: started))
            }
        }
        if let duration {
            try? await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
        } else {
            for await _ in await UnixSignalsSequence(trapping: [.sigint, .sigterm]) { break }
        }
        traffic.cancel()
        _ = await traffic.value
        say("stopping traffic; letting the queue drain…")
        let drained = await world.drain(timeout: .seconds(90))
        summaries.cancel()
        say(await world.summary(processor: processor, since: started))
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        let verdict = world.verdict()
        say(verdict.message)
        if !drained || !verdict.ok { throw ExitCode.failure }
    }
}

