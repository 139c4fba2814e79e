import Foundation
import KopruApp
import KopruEngine
import KopruStore
import Logging

/// What `kopru sync` and `kopru reconcile` share: the configuration loaded (quieter logs), the
/// store opened with the file's connections applied, the flows, and, unless the work is left to
/// running `kopru serve` processes, a worker in this process whose calls are in the
/// connections' logs as under `serve`.
struct FlowCommandSession {
    let configuration: HubConfiguration
    let store: any Store
    let catalog: FlowCatalog
    private let callLog: CallLog
    private let callLogWriter: Task<Void, any Error>
    private let processor: JobProcessor?
    private let worker: Task<Void, any Error>?

    init(_ global: GlobalOptions, worker runsWorker: Bool, label: String) async throws {
        var configuration = try global.load()
        if configuration.logLevel == "info" { configuration.logLevel = "warning" }
        Runtime.bootstrapLogging(configuration)
        let store = try await Runtime.openStore(configuration)
        try await Runtime.applyConnections(configuration, to: store)
        let catalog = try Runtime.flowCatalog(configuration)
        let callLog = CallLog(store: store, bodyBytes: configuration.callBodyBytes)
        (self.configuration, self.store, self.catalog, self.callLog) = (configuration, store, catalog, callLog)
        callLogWriter = Task { try await callLog.run() }
        if runsWorker {
            let running = JobProcessor(
                store: store,
                registry: Runtime.registry(store: store, catalog: catalog, connectors: HubConnectors(configuration, callLog: callLog)),
                configuration: Runtime.processorConfiguration(configuration), logger: Logger(label: label))
            processor = running
            worker = Task { try await running.run() }
        } else {
            (processor, worker) = (nil, nil)
        }
    }

    /// Stops the worker, then writes the last of the call log.
    func finish() async {
        processor?.stop()
        _ = try? await worker?.value
        callLog.stop()
        _ = try? await callLogWriter.value
    }
}
