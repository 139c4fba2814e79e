import Crypto
import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore
import KopruStorePostgres
import KopruStoreSQLite
import Logging

/// Builds the production graph from configuration: the one place that knows every concrete type.
package enum Runtime {
    package static func bootstrapLogging(_ configuration: HubConfiguration) {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let json = configuration.logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    package static func openStore(_ configuration: HubConfiguration, migrate: Bool = true) async throws -> any Store {
        let store: any Store
        if let path = configuration.sqlitePath {
            let durability = SQLiteStore.Durability(rawValue: configuration.durability) ?? .full
            let key = try await masterKey(configuration, beside: path)
            store = try SQLiteStore(path: path, secretBox: SecretBox(masterKey: key), durability: durability)
        } else {
            // Every process on one database must decrypt the same secrets: no per-machine key file.
            guard let base64 = configuration.masterKey else {
                throw HubConfiguration.Problem(
                    key: "KOPRU_MASTER_KEY",
                    message: "is required with a PostgreSQL store: every hub process sharing the database must use the same key")
            }
            store = try PostgresStore(url: configuration.store, secretBox: SecretBox(masterKey: try MasterKey.decode(base64: base64)))
        }
        if migrate {
            try await store.migrate()
            try await store.checkMasterKey()
        }
        return store
    }

    /// The master key the store's secrets are sealed with (call after `openStore`, which
    /// settles an interrupted rotation), for keys derived from it.
    package static func storeMasterKey(_ configuration: HubConfiguration) async throws -> SymmetricKey {
        if let path = configuration.sqlitePath { return try await masterKey(configuration, beside: path) }
        return try MasterKey.decode(base64: configuration.masterKey ?? "")
    }

    package static func keyFile(beside databasePath: String) -> String {
        URL(fileURLWithPath: databasePath).deletingPathExtension().appendingPathExtension("key").path
    }

    /// `KOPRU_MASTER_KEY` if set; else `<database name>.key` beside the database, created 0600.
    /// A `<name>.key.new` left by an interrupted `kopru keys rotate` is settled first: if the
    /// rotation committed (the store records the new key's fingerprint) it replaces the old
    /// file, else it is discarded. Either way the key that opens the secrets is returned.
    package static func masterKey(_ configuration: HubConfiguration, beside databasePath: String) async throws -> SymmetricKey {
        if let base64 = configuration.masterKey { return try MasterKey.decode(base64: base64) }
        let keyFile = keyFile(beside: databasePath)
        let pending = keyFile + ".new"
        if FileManager.default.fileExists(atPath: pending) {
            let newKey = try MasterKey.loadOrCreate(keyFile: pending)
            let probe = try SQLiteStore(path: databasePath, secretBox: .ephemeral())
            let recorded = try? await probe.masterKeyFingerprint()
            if recorded == SecretBox(masterKey: newKey).fingerprint {
                guard rename(pending, keyFile) == 0 else {
                    throw MasterKey.LoadError(description: "cannot move \(pending) over \(keyFile) (errno \(errno))")
                }
                return newKey
            }
            try FileManager.default.removeItem(atPath: pending)
        }
        return try MasterKey.loadOrCreate(keyFile: keyFile)
    }

    package static func processorConfiguration(_ configuration: HubConfiguration) -> JobProcessorConfiguration {
        JobProcessorConfiguration(
            concurrency: configuration.workerConcurrency, claimBatch: configuration.claimBatch,
            leaseDuration: .milliseconds(Int64(configuration.leaseSeconds * 1000)),
            pollInterval: .milliseconds(configuration.pollMilliseconds),
            defaultConnectionConcurrency: configuration.connectionConcurrency,
            connectionConcurrency: Dictionary(
                uniqueKeysWithValues: configuration.connectionConcurrencyOverrides.map { (ConnectionID($0.key), $0.value) }),
            shutdownGrace: .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000)),
            deadWorkerGrace: configuration.deadWorkerSeconds > 0 ? .milliseconds(Int64(configuration.deadWorkerSeconds * 1000)) : nil)
    }

    /// The configured flows (the configuration was validated when loaded).
    package static func flowCatalog(_ configuration: HubConfiguration) throws -> FlowCatalog {
        try configuration.flowCatalog()
    }

    /// The job kinds this build can run: the flows' jobs, and the webhook job, which makes the
    /// flows fed by the sending connection poll now.
    package static func registry(
        store: any Store, catalog: FlowCatalog = FlowCatalog([]), connectors: HubConnectors = HubConnectors()
    ) -> JobRegistry {
        JobRegistry(
            [ProbeJob(), WebhookReceivedJob(store: store, followUp: { catalog.jobs(afterWebhookFrom: $0) })]
                + JobRegistry.flows(catalog, kinds: connectors.kinds.flows, connectors: connectors.resolver(store: store), store: store))
    }

    /// Connections declared in the configuration file are written to the store at start, so the
    /// file is the truth for them; secrets given as `env:NAME` are read from the environment.
    package static func applyConnections(
        _ configuration: HubConfiguration, to store: any Store, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws {
        for (index, entry) in configuration.connections.enumerated() {
            var secrets: [String: Secret] = [:]
            for (name, value) in entry.secrets {
                if value.hasPrefix("env:") {
                    let variable = String(value.dropFirst(4))
                    guard let found = environment[variable], !found.isEmpty else {
                        throw HubConfiguration.Problem(key: "connections[\(index)].secrets.\(name)", message: "names \(variable), which is not set")
                    }
                    secrets[name] = Secret(found)
                } else {
                    secrets[name] = Secret(value)
                }
            }
            let paused = try await store.connection(ConnectionID(entry.id))?.paused ?? false
            try await store.saveConnection(
                Connection(id: ConnectionID(entry.id), type: entry.type, name: entry.name, settings: entry.settings, secrets: secrets, paused: paused),
                now: Date())
        }
    }

    /// Each flow's safety-net schedule: its own, or its kind's default (seed 000: every minute
    /// for orders, every 5 minutes for customers and shipments, hourly for stock).
    package static func flowSchedules(_ configuration: HubConfiguration) throws -> [Schedule] {
        let catalog = try flowCatalog(configuration)
        return try zip(configuration.flows, catalog.flows).flatMap { entry, flow in
            // The flow's own sync job (its ordering and coalescing keys): a scheduled pass waits
            // for a running webhook pass instead of reading the same feed beside it.
            let name = "flow:\(entry.name)"
            let timeZone = TimeZone(identifier: entry.timeZone)!
            var schedules = [
                Schedule(name: name, cron: try CronExpression(entry.schedule ?? flow.kind.defaultSchedule), timeZone: timeZone) { slot in
                    var job = flow.syncJob()
                    job.idempotencyKey = "schedule:\(name)@\(slot.millisecondsSince1970)"
                    return job
                }
            ]
            if let reconciliation = flow.kind.reconciliation, let cron = flow.reconcileSchedule {
                schedules.append(
                    Schedule(name: "\(name):reconcile", cron: try CronExpression(cron), timeZone: timeZone) { slot in
                        reconciliation.job(flow, "schedule@\(slot.millisecondsSince1970)", false)
                    })
            }
            return schedules
        }
    }

    /// Flows whose connections were made through the admin API are checked here, at start:
    /// a flow no connector can run is a configuration error naming it.
    package static func checkFlows(_ catalog: FlowCatalog, kinds: HubKinds, store: any Store) async throws {
        for (index, flow) in catalog.flows.enumerated() {
            let source = try await store.connection(flow.source)
            let target = try await store.connection(flow.target)
            if let problem = kinds.problem(running: flow.kind, from: source, to: target) {
                throw HubConfiguration.Problem(key: "flows[\(index)].\(problem.side == .source ? "from" : "to")", message: problem.message)
            }
        }
    }

    package static func schedules(_ configuration: HubConfiguration) throws -> [Schedule] {
        try flowSchedules(configuration) + configuration.schedules.map { entry in
            .job(
                name: entry.name, cron: try CronExpression(entry.cron), timeZone: TimeZone(identifier: entry.timeZone)!,
                kind: entry.kind, payload: Data(entry.payload.utf8), connection: entry.connection.map { ConnectionID($0) })
        }
    }
}
