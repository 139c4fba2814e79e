import Crypto
import Foundation
import KopruCore
import KopruEngine
import KopruStore
import KopruStorePostgres
import KopruStoreSQLite
import Logging

/// Builds the production graph from configuration: the one place that knows every concrete type.
enum Runtime {
    static func bootstrapLogging(_ configuration: HubConfiguration) {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let json = configuration.logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func openStore(_ configuration: HubConfiguration, migrate: Bool = true) async throws -> any Store {
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

    static func keyFile(beside databasePath: String) -> String {
        URL(fileURLWithPath: databasePath).deletingPathExtension().appendingPathExtension("key").path
    }

    /// `KOPRU_MASTER_KEY` if set; else `<database name>.key` beside the database, created 0600.
    /// A `<name>.key.new` left by an interrupted `kopru keys rotate` is settled first: if the
    /// rotation committed (the store records the new key's fingerprint) it replaces the old
    /// file, else it is discarded. Either way the key that opens the secrets is returned.
    static func masterKey(_ configuration: HubConfiguration, beside databasePath: String) async throws -> SymmetricKey {
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

    static func processorConfiguration(_ configuration: HubConfiguration) -> JobProcessorConfiguration {
        JobProcessorConfiguration(
            concurrency: configuration.workerConcurrency, claimBatch: configuration.claimBatch,
            leaseDuration: .milliseconds(Int64(configuration.leaseSeconds * 1000)),
            pollInterval: .milliseconds(configuration.pollMilliseconds),
            defaultConnectionConcurrency: configuration.connectionConcurrency,
            connectionConcurrency: Dictionary(
                uniqueKeysWithValues: configuration.connectionConcurrencyOverrides.map { (ConnectionID($0.key), $0.value) }),
            shutdownGrace: .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000)))
    }

    /// The job kinds this build can run. Connector flows join here as they arrive.
    static func registry(store: any Store) -> JobRegistry {
        JobRegistry([ProbeJob(), WebhookReceivedJob(store: store)])
    }

    static func schedules(_ configuration: HubConfiguration) throws -> [Schedule] {
        try configuration.schedules.map { entry in
            .job(
                name: entry.name, cron: try CronExpression(entry.cron), timeZone: TimeZone(identifier: entry.timeZone)!,
                kind: entry.kind, payload: Data(entry.payload.utf8), connection: entry.connection.map { ConnectionID($0) })
        }
    }
}
