import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore
import Yams

/// Everything `kopru` reads from its YAML file (named by `KOPRU_CONFIG`) and the environment.
/// The environment wins. Every key is documented in docs/configuration.md.
package struct HubConfiguration: Equatable {
    package struct ScheduleEntry: Equatable {
        package var name: String
        package var cron: String
        package var timeZone: String
        package var kind: String
        package var connection: String?
        package var payload: String
    }

    package struct ConnectionEntry: Equatable {
        package var id: String
        package var type: String
        package var name: String
        package var settings: [String: String]
        /// Literal values, or `env:NAME` to read one from the environment.
        package var secrets: [String: String]
    }

    /// A flow as written: the keys every flow has, and its kind's own options (`FlowKind.options`).
    package struct FlowEntry: Equatable {
        package var name: String
        package var kind: String
        package var from: String
        package var to: String
        package var schedule: String?
        package var timeZone: String
        /// `retry: {maxAttempts, baseMilliseconds, capMilliseconds}` as `retry.*` keys.
        package var retry: [String: String] = [:]
        package var options: [String: FlowOption.Value] = [:]

        package init(
            name: String, kind: String, from: String, to: String, schedule: String? = nil, timeZone: String = "Europe/Istanbul",
            retry: [String: String] = [:], options: [String: FlowOption.Value] = [:]
        ) {
            (self.name, self.kind, self.from, self.to, self.schedule, self.timeZone) = (name, kind, from, to, schedule, timeZone)
            self.retry = retry
            self.options = options
        }

        /// The keys every flow may set, whatever its kind.
        static let commonKeys: Set<String> = ["name", "kind", "from", "to", "schedule", "timeZone", "retry"]
    }

    /// The installed kinds the file is read against.
    package var kinds = Installed.kinds

    package init() {}

    package var store = "sqlite:./kopru.db"
    package var durability = "full"
    package var httpHost = "127.0.0.1"
    package var httpPort = 8080
    package var webhookBodyLimitBytes = 1 << 20
    package var masterKey: String?
    package var logLevel = "info"
    package var logFormat = "text"
    /// Nil: what suits the store (`WorkerDefaults`).
    package var configuredWorkerConcurrency: Int?
    package var configuredClaimBatch: Int?
    package var workerConcurrency: Int { configuredWorkerConcurrency ?? WorkerDefaults(store: store).concurrency }
    package var claimBatch: Int { configuredClaimBatch ?? WorkerDefaults(store: store).claimBatch }
    package var leaseSeconds = 60.0
    package var pollMilliseconds = 250
    package var connectionConcurrency = 4
    package var connectionConcurrencyOverrides: [String: Int] = [:]
    package var shutdownGraceSeconds = 15.0
    /// A worker on this machine seen dead this long has its jobs taken back; 0: only its leases' expiry.
    package var deadWorkerSeconds = 5.0
    package var eventRetentionDays = 30
    /// Most bytes of each request and response body an external call's log line keeps; 0: none.
    package var callBodyBytes = CallLog.defaultBodyBytes
    package var schedulerTermSeconds = 10.0
    package var schedules: [ScheduleEntry] = []
    package var connections: [ConnectionEntry] = []
    package var flows: [FlowEntry] = []

    /// A configuration problem, naming the key (`workers.concurrency`) or variable.
    package struct Problem: Error, CustomStringConvertible, Equatable {
        package let key: String
        package let message: String
        package var description: String { "configuration: \(key) \(message)" }
    }

    package static let environmentKeys = [
        "KOPRU_STORE", "KOPRU_HTTP_HOST", "KOPRU_HTTP_PORT", "KOPRU_MASTER_KEY", "KOPRU_LOG_LEVEL", "KOPRU_LOG_FORMAT",
        "KOPRU_DURABILITY",
    ]

    package static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HubConfiguration {
        var configuration = HubConfiguration()
        if let path = environment["KOPRU_CONFIG"], !path.isEmpty {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw Problem(key: "KOPRU_CONFIG", message: "names \(path), which cannot be read")
            }
            try configuration.apply(yaml: text)
        }
        try configuration.apply(environment: environment)
        try configuration.validate()
        return configuration
    }

    package mutating func apply(yaml text: String) throws {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw Problem(key: "KOPRU_CONFIG", message: "is not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let map = root as? [String: Any] else { throw Problem(key: "(top level)", message: "must be a mapping") }
        let reader = YAMLReader(map: map, path: "")
        try reader.allow([
            "store", "durability", "http", "masterKey", "log", "workers", "events", "scheduler", "schedules", "connections",
            "flows",
        ])
        store = try reader.string("store") ?? store
        durability = try reader.string("durability") ?? durability
        masterKey = try reader.string("masterKey") ?? masterKey
        if let http = try reader.section("http") {
            try http.allow(["host", "port", "webhookBodyLimitBytes"])
            httpHost = try http.string("host") ?? httpHost
            httpPort = try http.int("port") ?? httpPort
            webhookBodyLimitBytes = try http.int("webhookBodyLimitBytes") ?? webhookBodyLimitBytes
        }
        if let log = try reader.section("log") {
            try log.allow(["level", "format"])
            logLevel = try log.string("level") ?? logLevel
            logFormat = try log.string("format") ?? logFormat
        }
        if let workers = try reader.section("workers") {
            try workers.allow([
                "concurrency", "claimBatch", "leaseSeconds", "pollMilliseconds", "connectionConcurrency",
                "shutdownGraceSeconds", "deadWorkerSeconds",
            ])
            configuredWorkerConcurrency = try workers.int("concurrency") ?? configuredWorkerConcurrency
            configuredClaimBatch = try workers.int("claimBatch") ?? configuredClaimBatch
            leaseSeconds = try workers.double("leaseSeconds") ?? leaseSeconds
            pollMilliseconds = try workers.int("pollMilliseconds") ?? pollMilliseconds
            shutdownGraceSeconds = try workers.double("shutdownGraceSeconds") ?? shutdownGraceSeconds
            deadWorkerSeconds = try workers.double("deadWorkerSeconds") ?? deadWorkerSeconds
            // A number sets every connection's limit; a mapping sets `default` and named connections.
            if workers.map["connectionConcurrency"] is [String: Any], let perConnection = try workers.section("connectionConcurrency") {
                for key in perConnection.map.keys.sorted() {
                    if key == "default" {
                        connectionConcurrency = try perConnection.int(key)!
                    } else {
                        connectionConcurrencyOverrides[key] = try perConnection.int(key)
                    }
                }
            } else {
                connectionConcurrency = try workers.int("connectionConcurrency") ?? connectionConcurrency
            }
        }
        if let events = try reader.section("events") {
            try events.allow(["retentionDays", "callBodyBytes"])
            eventRetentionDays = try events.int("retentionDays") ?? eventRetentionDays
            callBodyBytes = try events.int("callBodyBytes") ?? callBodyBytes
        }
        if let scheduler = try reader.section("scheduler") {
            try scheduler.allow(["termSeconds"])
            schedulerTermSeconds = try scheduler.double("termSeconds") ?? schedulerTermSeconds
        }
        for (index, entry) in try reader.list("schedules").enumerated() {
            try entry.allow(["name", "cron", "timeZone", "job"])
            guard let job = try entry.section("job") else {
                throw Problem(key: "schedules[\(index)].job", message: "is required (kind, connection, payload)")
            }
            try job.allow(["kind", "connection", "payload"])
            let payload = try job.json("payload") ?? "{}"
            schedules.append(
                ScheduleEntry(
                    name: try entry.requiredString("name"), cron: try entry.requiredString("cron"),
                    timeZone: try entry.string("timeZone") ?? "Europe/Istanbul", kind: try job.requiredString("kind"),
                    connection: try job.string("connection"), payload: payload))
        }
        try applyFlows(reader)
    }

    package mutating func applyFlows(_ reader: YAMLReader) throws {
        for entry in try reader.list("connections") {
            try entry.allow(["id", "type", "name", "settings", "secrets"])
            let id = try entry.requiredString("id")
            connections.append(
                ConnectionEntry(
                    id: id, type: try entry.requiredString("type"), name: try entry.string("name") ?? id,
                    settings: try entry.flattened("settings"), secrets: try entry.flattened("secrets")))
        }
        for (index, entry) in try reader.list("flows").enumerated() {
            let kindID = try entry.requiredString("kind")
            guard let kind = kinds.flow(kindID) else {
                throw Problem(
                    key: "flows[\(index)].kind",
                    message: "\"\(kindID)\" is not a flow kind this build runs (one of \(kinds.flows.map(\.id).joined(separator: ", ")))")
            }
            try entry.allow(FlowEntry.commonKeys.union(kind.options.map(\.key)))
            var options: [String: FlowOption.Value] = [:]
            for option in kind.options { options[option.key] = try entry.optionValue(option.key) }
            flows.append(
                FlowEntry(
                    name: try entry.requiredString("name"), kind: kindID, from: try entry.requiredString("from"),
                    to: try entry.requiredString("to"), schedule: try entry.string("schedule"),
                    timeZone: try entry.string("timeZone") ?? "Europe/Istanbul",
                    retry: Dictionary(uniqueKeysWithValues: try entry.flattened("retry").map { ("retry.\($0.key)", $0.value) }),
                    options: options))
        }
    }

    package mutating func apply(environment: [String: String]) throws {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        store = value("KOPRU_STORE") ?? store
        durability = value("KOPRU_DURABILITY") ?? durability
        httpHost = value("KOPRU_HTTP_HOST") ?? httpHost
        if let port = value("KOPRU_HTTP_PORT") {
            guard let parsed = Int(port) else { throw Problem(key: "KOPRU_HTTP_PORT", message: "must be a port number") }
            httpPort = parsed
        }
        masterKey = value("KOPRU_MASTER_KEY") ?? masterKey
        logLevel = value("KOPRU_LOG_LEVEL") ?? logLevel
        logFormat = value("KOPRU_LOG_FORMAT") ?? logFormat
    }

    package func validate() throws {
        guard store.hasPrefix("sqlite:") || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
            throw Problem(key: "store", message: "must be sqlite:PATH or postgres://user:pass@host:port/db")
        }
        guard ["full", "normal"].contains(durability) else {
            throw Problem(key: "durability", message: "must be full or normal (got \(durability))")
        }
        guard (0...65535).contains(httpPort) else { throw Problem(key: "http.port", message: "must be 0-65535 (0: any free port)") }
        guard (1...(64 << 20)).contains(webhookBodyLimitBytes) else {
            throw Problem(key: "http.webhookBodyLimitBytes", message: "must be 1 to 67108864")
        }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw Problem(key: "log.level", message: "must be one of \(levels.joined(separator: ", ")) (got \(logLevel))")
        }
        guard ["text", "json"].contains(logFormat) else {
            throw Problem(key: "log.format", message: "must be text or json (got \(logFormat))")
        }
        for (key, value) in [
            ("workers.concurrency", workerConcurrency), ("workers.claimBatch", claimBatch),
            ("workers.pollMilliseconds", pollMilliseconds), ("workers.connectionConcurrency", connectionConcurrency),
            ("events.retentionDays", eventRetentionDays),
        ] where value <= 0 {
            throw Problem(key: key, message: "must be a positive number (got \(value))")
        }
        guard (0...(1 << 20)).contains(callBodyBytes) else {
            throw Problem(key: "events.callBodyBytes", message: "must be 0 (no bodies) to 1048576 (got \(callBodyBytes))")
        }
        for (connection, value) in connectionConcurrencyOverrides where value <= 0 {
            throw Problem(key: "workers.connectionConcurrency.\(connection)", message: "must be a positive number")
        }
        guard schedulerTermSeconds >= 1 else { throw Problem(key: "scheduler.termSeconds", message: "must be at least 1") }
        guard leaseSeconds >= 0.1 else { throw Problem(key: "workers.leaseSeconds", message: "must be at least 0.1") }
        guard shutdownGraceSeconds >= 0 else { throw Problem(key: "workers.shutdownGraceSeconds", message: "must not be negative") }
        guard deadWorkerSeconds >= 0 else { throw Problem(key: "workers.deadWorkerSeconds", message: "must not be negative") }
        try validateFlows()
        var names = Set<String>()
        let runnable = schedules.isEmpty ? [] : kinds.jobKinds.union([ProbeJob.kind, WebhookReceivedJob.kind])
        for (index, schedule) in schedules.enumerated() {
            guard names.insert(schedule.name).inserted else {
                throw Problem(key: "schedules[\(index)].name", message: "repeats \"\(schedule.name)\"")
            }
            guard runnable.contains(schedule.kind) else {
                throw Problem(
                    key: "schedules[\(index)].job.kind",
                    message: "\"\(schedule.kind)\" is not a job kind this build runs (one of \(runnable.sorted().joined(separator: ", ")))")
            }
            do { _ = try CronExpression(schedule.cron) } catch {
                throw Problem(key: "schedules[\(index)].cron", message: "is not a cron expression: \(error.message)")
            }
            guard TimeZone(identifier: schedule.timeZone) != nil else {
                throw Problem(key: "schedules[\(index)].timeZone", message: "is not a time zone name (e.g. Europe/Istanbul)")
            }
        }
    }

    package func validateFlows() throws {
        var names = Set<String>()
        for (index, flow) in flows.enumerated() {
            let key = "flows[\(index)]"
            guard names.insert(flow.name).inserted else { throw Problem(key: "\(key).name", message: "repeats \"\(flow.name)\"") }
            if let cron = flow.schedule {
                do { _ = try CronExpression(cron) } catch {
                    throw Problem(key: "\(key).schedule", message: "is not a cron expression: \(error.message)")
                }
            }
            guard TimeZone(identifier: flow.timeZone) != nil else { throw Problem(key: "\(key).timeZone", message: "is not a time zone name") }
            if let unknown = flow.retry.keys.first(where: { !RetryPolicy.settingKeys.contains($0) }) {
                throw Problem(key: "\(key).\(unknown)", message: "is not a known key (known here: maxAttempts, baseMilliseconds, capMilliseconds)")
            }
            let definition = try definition(of: flow, at: index)
            let connection = { (id: String) in
                self.connections.first { $0.id == id }.map { Connection(id: ConnectionID($0.id), type: $0.type, name: $0.name) }
            }
            // Connections made through the admin API are checked when `serve` starts.
            if let problem = kinds.problem(running: definition.kind, from: connection(flow.from), to: connection(flow.to)) {
                throw Problem(key: "\(key).\(problem.side == .source ? "from" : "to")", message: problem.message)
            }
        }
        for (index, connection) in connections.enumerated() {
            guard let kind = kinds.connector(connection.type) else {
                throw Problem(
                    key: "connections[\(index)].type",
                    message: "\"\(connection.type)\" is not a connector this build has (one of \(kinds.connectors.map(\.id).joined(separator: ", ")))")
            }
            do { try kind.validate(settings: connection.settings) } catch {
                throw Problem(key: "connections[\(index)].\(error.field ?? "settings")", message: error.message)
            }
            do { _ = try RetryPolicy.from(settings: connection.settings) } catch {
                throw Problem(key: "connections[\(index)].settings.\(error.field)", message: error.message)
            }
            do { _ = try BreakerPolicy.from(settings: connection.settings) } catch {
                throw Problem(key: "connections[\(index)].settings.\(error.field)", message: error.message)
            }
            do { _ = try ClockSkew.from(settings: connection.settings) } catch {
                throw Problem(key: "connections[\(index)].\(error.field ?? "settings")", message: error.message)
            }
        }
    }

    /// The flow `entry` describes, its kind's options applied; a problem names the key.
    package func definition(of entry: FlowEntry, at index: Int) throws -> FlowDefinition {
        guard let kind = kinds.flow(entry.kind) else {
            throw Problem(
                key: "flows[\(index)].kind",
                message: "\"\(entry.kind)\" is not a flow kind this build runs (one of \(kinds.flows.map(\.id).joined(separator: ", ")))")
        }
        var flow = FlowDefinition(name: entry.name, kind: kind, source: ConnectionID(entry.from), target: ConnectionID(entry.to))
        for option in kind.options {
            guard let value = entry.options[option.key] else { continue }
            do { try option.apply(value, &flow) } catch {
                throw Problem(key: "flows[\(index)].\(option.key)", message: error.message)
            }
        }
        if let unknown = entry.options.keys.sorted().first(where: { key in !kind.options.contains { $0.key == key } }) {
            throw Problem(key: "flows[\(index)].\(unknown)", message: "is not an option of a \(kind.id) flow")
        }
        do { flow.retryPolicy = try RetryPolicy.from(settings: entry.retry) } catch {
            throw Problem(key: "flows[\(index)].\(error.field)", message: error.message)
        }
        return flow
    }

    /// The configured flows.
    package func flowCatalog() throws -> FlowCatalog {
        FlowCatalog(try flows.enumerated().map { try definition(of: $1, at: $0) })
    }

    /// The SQLite file, for `sqlite:PATH`.
    package var sqlitePath: String? { store.hasPrefix("sqlite:") ? String(store.dropFirst("sqlite:".count)) : nil }
}

/// Typed reads from a YAML mapping, with errors that name the full key.
package struct YAMLReader {
    package let map: [String: Any]
    package let path: String

    package func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    package func allow(_ names: Set<String>) throws {
        for name in map.keys where !names.contains(name) {
            throw HubConfiguration.Problem(
                key: key(name), message: "is not a known key (known here: \(names.sorted().joined(separator: ", ")))")
        }
    }

    package func string(_ name: String) throws -> String? {
        guard let value = map[name], !(value is NSNull) else { return nil }
        if let text = value as? String { return text }
        if value is Int || value is Double || value is Bool { return "\(value)" }
        throw HubConfiguration.Problem(key: key(name), message: "must be a string")
    }

    package func requiredString(_ name: String) throws -> String {
        guard let value = try string(name), !value.isEmpty else {
            throw HubConfiguration.Problem(key: key(name), message: "is required")
        }
        return value
    }

    package func int(_ name: String) throws -> Int? {
        guard let value = map[name] else { return nil }
        if let number = value as? Int { return number }
        if let text = value as? String, let number = Int(text) { return number }
        throw HubConfiguration.Problem(key: key(name), message: "must be a whole number")
    }

    package func double(_ name: String) throws -> Double? {
        guard let value = map[name] else { return nil }
        if let number = value as? Double { return number }
        if let number = value as? Int { return Double(number) }
        if let text = value as? String, let number = Double(text) { return number }
        throw HubConfiguration.Problem(key: key(name), message: "must be a number")
    }

    package func section(_ name: String) throws -> YAMLReader? {
        guard let value = map[name] else { return nil }
        guard let inner = value as? [String: Any] else {
            throw HubConfiguration.Problem(key: key(name), message: "must be a mapping")
        }
        return YAMLReader(map: inner, path: key(name))
    }

    package func list(_ name: String) throws -> [YAMLReader] {
        guard let value = map[name] else { return [] }
        guard let items = value as? [Any] else { throw HubConfiguration.Problem(key: key(name), message: "must be a list") }
        return try items.enumerated().map { index, item in
            guard let inner = item as? [String: Any] else {
                throw HubConfiguration.Problem(key: "\(key(name))[\(index)]", message: "must be a mapping")
            }
            return YAMLReader(map: inner, path: "\(key(name))[\(index)]")
        }
    }

    /// A mapping of settings, nested maps joined with dots (`stock: {mode: bulk}` → `stock.mode`).
    package func flattened(_ name: String) throws -> [String: String] {
        guard let value = map[name] else { return [:] }
        guard let inner = value as? [String: Any] else { throw HubConfiguration.Problem(key: key(name), message: "must be a mapping") }
        var result: [String: String] = [:]
        func walk(_ node: [String: Any], _ prefix: String) throws {
            for (childKey, child) in node {
                let path = prefix.isEmpty ? childKey : "\(prefix).\(childKey)"
                if let nested = child as? [String: Any] {
                    try walk(nested, path)
                } else if child is String || child is Int || child is Double || child is Bool {
                    result[path] = "\(child)"
                } else {
                    throw HubConfiguration.Problem(key: "\(key(name)).\(path)", message: "must be a text, number or mapping")
                }
            }
        }
        try walk(inner, "")
        return result
    }

    package func stringList(_ name: String) throws -> [String]? {
        guard let value = map[name] else { return nil }
        guard let items = value as? [Any] else { throw HubConfiguration.Problem(key: key(name), message: "must be a list") }
        return items.map { "\($0)" }
    }

    /// A flow option as written: one value, a list or a mapping.
    func optionValue(_ name: String) throws -> FlowOption.Value? {
        guard let value = map[name], !(value is NSNull) else { return nil }
        if value is [Any] { return .list(try stringList(name) ?? []) }
        if value is [String: Any] { return .map(try flattened(name)) }
        return .text(try string(name) ?? "")
    }

    /// A nested value re-encoded as JSON (a job payload).
    package func json(_ name: String) throws -> String? {
        guard let value = map[name] else { return nil }
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        else { throw HubConfiguration.Problem(key: key(name), message: "must be a mapping or list") }
        return String(decoding: data, as: UTF8.self)
    }
}
