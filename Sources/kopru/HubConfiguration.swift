import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import Yams

/// Everything `kopru` reads from its YAML file (named by `KOPRU_CONFIG`) and the environment.
/// The environment wins. Every key is documented in docs/configuration.md.
struct HubConfiguration: Equatable {
    struct ScheduleEntry: Equatable {
        var name: String
        var cron: String
        var timeZone: String
        var kind: String
        var connection: String?
        var payload: String
    }

    struct ConnectionEntry: Equatable {
        var id: String
        var type: String
        var name: String
        var settings: [String: String]
        /// Literal values, or `env:NAME` to read one from the environment.
        var secrets: [String: String]
    }

    struct FlowEntry: Equatable {
        var name: String
        var kind: String
        var from: String
        var to: String
        var schedule: String?
        var timeZone: String
        var overlapSeconds: Int
        var notes: Bool
        var exportStatuses: [String]
        var buffer = 0
        var skuMap: [String: String] = [:]
        var bulkPollMilliseconds = 10_000
        var priceRule: String?
        var returnStatuses: [String] = ["returned", "refunded"]
        var trackingPollSeconds = 900
        /// `retry: {maxAttempts, baseMilliseconds, capMilliseconds}` as `retry.*` keys.
        var retry: [String: String] = [:]
    }

    var store = "sqlite:./kopru.db"
    var durability = "full"
    var httpHost = "127.0.0.1"
    var httpPort = 8080
    var webhookBodyLimitBytes = 1 << 20
    var masterKey: String?
    var logLevel = "info"
    var logFormat = "text"
    var workerConcurrency = 32
    var claimBatch = 64
    var leaseSeconds = 60.0
    var pollMilliseconds = 250
    var connectionConcurrency = 4
    var connectionConcurrencyOverrides: [String: Int] = [:]
    var shutdownGraceSeconds = 15.0
    var eventRetentionDays = 30
    /// Most bytes of each request and response body an external call's log line keeps; 0: none.
    var callBodyBytes = CallLog.defaultBodyBytes
    var schedulerTermSeconds = 10.0
    var schedules: [ScheduleEntry] = []
    var connections: [ConnectionEntry] = []
    var flows: [FlowEntry] = []

    /// A configuration problem, naming the key (`workers.concurrency`) or variable.
    struct Problem: Error, CustomStringConvertible, Equatable {
        let key: String
        let message: String
        var description: String { "configuration: \(key) \(message)" }
    }

    static let environmentKeys = [
        "KOPRU_STORE", "KOPRU_HTTP_HOST", "KOPRU_HTTP_PORT", "KOPRU_MASTER_KEY", "KOPRU_LOG_LEVEL", "KOPRU_LOG_FORMAT",
        "KOPRU_DURABILITY",
    ]

    static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HubConfiguration {
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

    mutating func apply(yaml text: String) throws {
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
                "shutdownGraceSeconds",
            ])
            workerConcurrency = try workers.int("concurrency") ?? workerConcurrency
            claimBatch = try workers.int("claimBatch") ?? claimBatch
            leaseSeconds = try workers.double("leaseSeconds") ?? leaseSeconds
            pollMilliseconds = try workers.int("pollMilliseconds") ?? pollMilliseconds
            shutdownGraceSeconds = try workers.double("shutdownGraceSeconds") ?? shutdownGraceSeconds
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

    mutating func applyFlows(_ reader: YAMLReader) throws {
        for entry in try reader.list("connections") {
            try entry.allow(["id", "type", "name", "settings", "secrets"])
            let id = try entry.requiredString("id")
            connections.append(
                ConnectionEntry(
                    id: id, type: try entry.requiredString("type"), name: try entry.string("name") ?? id,
                    settings: try entry.flattened("settings"), secrets: try entry.flattened("secrets")))
        }
        for entry in try reader.list("flows") {
            try entry.allow([
                "name", "kind", "from", "to", "schedule", "timeZone", "overlapSeconds", "notes", "exportStatuses", "buffer", "skuMap",
                "bulkPollMilliseconds", "priceRule", "returnStatuses", "trackingPollSeconds", "retry",
            ])
            flows.append(
                FlowEntry(
                    name: try entry.requiredString("name"), kind: try entry.requiredString("kind"),
                    from: try entry.requiredString("from"), to: try entry.requiredString("to"),
                    schedule: try entry.string("schedule"), timeZone: try entry.string("timeZone") ?? "Europe/Istanbul",
                    overlapSeconds: try entry.int("overlapSeconds") ?? 300, notes: (try entry.string("notes") ?? "true") == "true",
                    exportStatuses: try entry.stringList("exportStatuses") ?? ["accepted"], buffer: try entry.int("buffer") ?? 0,
                    skuMap: try entry.flattened("skuMap"), bulkPollMilliseconds: try entry.int("bulkPollMilliseconds") ?? 10_000,
                    priceRule: try entry.string("priceRule"), returnStatuses: try entry.stringList("returnStatuses") ?? ["returned", "refunded"],
                    trackingPollSeconds: try entry.int("trackingPollSeconds") ?? 900,
                    retry: Dictionary(uniqueKeysWithValues: try entry.flattened("retry").map { ("retry.\($0.key)", $0.value) })))
        }
    }

    mutating func apply(environment: [String: String]) throws {
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

    func validate() throws {
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
        try validateFlows()
        var names = Set<String>()
        for (index, schedule) in schedules.enumerated() {
            guard names.insert(schedule.name).inserted else {
                throw Problem(key: "schedules[\(index)].name", message: "repeats \"\(schedule.name)\"")
            }
            do { _ = try CronExpression(schedule.cron) } catch {
                throw Problem(key: "schedules[\(index)].cron", message: "is not a cron expression: \(error.message)")
            }
            guard TimeZone(identifier: schedule.timeZone) != nil else {
                throw Problem(key: "schedules[\(index)].timeZone", message: "is not a time zone name (e.g. Europe/Istanbul)")
            }
        }
    }

    func validateFlows() throws {
        var names = Set<String>()
        for (index, flow) in flows.enumerated() {
            let key = "flows[\(index)]"
            guard names.insert(flow.name).inserted else { throw Problem(key: "\(key).name", message: "repeats \"\(flow.name)\"") }
            guard FlowDefinition.Kind(rawValue: flow.kind) != nil else {
                throw Problem(key: "\(key).kind", message: "must be one of \(FlowDefinition.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let cron = flow.schedule {
                do { _ = try CronExpression(cron) } catch {
                    throw Problem(key: "\(key).schedule", message: "is not a cron expression: \(error.message)")
                }
            }
            guard TimeZone(identifier: flow.timeZone) != nil else { throw Problem(key: "\(key).timeZone", message: "is not a time zone name") }
            guard flow.overlapSeconds >= 0 else { throw Problem(key: "\(key).overlapSeconds", message: "must not be negative") }
            if let rule = flow.priceRule {
                do { _ = try PriceRule(parsing: rule) } catch {
                    throw Problem(key: "\(key).priceRule", message: "\(error.message) (e.g. markup=15%,ending=.90,min=99.90 or fixed=349.90)")
                }
            }
            guard flow.buffer >= 0 else { throw Problem(key: "\(key).buffer", message: "must not be negative (units held back)") }
            guard flow.bulkPollMilliseconds >= 1 else { throw Problem(key: "\(key).bulkPollMilliseconds", message: "must be positive") }
            guard flow.trackingPollSeconds >= 1 else { throw Problem(key: "\(key).trackingPollSeconds", message: "must be positive") }
            if let unknown = flow.retry.keys.first(where: { !RetryPolicy.settingKeys.contains($0) }) {
                throw Problem(key: "\(key).\(unknown)", message: "is not a known key (known here: maxAttempts, baseMilliseconds, capMilliseconds)")
            }
            do { _ = try RetryPolicy.from(settings: flow.retry) } catch {
                throw Problem(key: "\(key).\(error.field)", message: error.message)
            }
            for (field, status) in flow.exportStatuses.map({ ("exportStatuses", $0) }) + flow.returnStatuses.map({ ("returnStatuses", $0) })
            where OrderStatus(rawValue: status) == nil {
                throw Problem(
                    key: "\(key).\(field)",
                    message: "\"\(status)\" is not a status (known: \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        for (index, connection) in connections.enumerated() {
            guard ConnectorType.named(connection.type) != nil else {
                throw Problem(key: "connections[\(index)].type", message: "is not a connector type")
            }
            do { _ = try RetryPolicy.from(settings: connection.settings) } catch {
                throw Problem(key: "connections[\(index)].settings.\(error.field)", message: error.message)
            }
        }
    }

    /// The SQLite file, for `sqlite:PATH`.
    var sqlitePath: String? { store.hasPrefix("sqlite:") ? String(store.dropFirst("sqlite:".count)) : nil }
}

/// Typed reads from a YAML mapping, with errors that name the full key.
struct YAMLReader {
    let map: [String: Any]
    let path: String

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func allow(_ names: Set<String>) throws {
        for name in map.keys where !names.contains(name) {
            throw HubConfiguration.Problem(
                key: key(name), message: "is not a known key (known here: \(names.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = map[name], !(value is NSNull) else { return nil }
        if let text = value as? String { return text }
        if value is Int || value is Double || value is Bool { return "\(value)" }
        throw HubConfiguration.Problem(key: key(name), message: "must be a string")
    }

    func requiredString(_ name: String) throws -> String {
        guard let value = try string(name), !value.isEmpty else {
            throw HubConfiguration.Problem(key: key(name), message: "is required")
        }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let value = map[name] else { return nil }
        if let number = value as? Int { return number }
        if let text = value as? String, let number = Int(text) { return number }
        throw HubConfiguration.Problem(key: key(name), message: "must be a whole number")
    }

    func double(_ name: String) throws -> Double? {
        guard let value = map[name] else { return nil }
        if let number = value as? Double { return number }
        if let number = value as? Int { return Double(number) }
        if let text = value as? String, let number = Double(text) { return number }
        throw HubConfiguration.Problem(key: key(name), message: "must be a number")
    }

    func section(_ name: String) throws -> YAMLReader? {
        guard let value = map[name] else { return nil }
        guard let inner = value as? [String: Any] else {
            throw HubConfiguration.Problem(key: key(name), message: "must be a mapping")
        }
        return YAMLReader(map: inner, path: key(name))
    }

    func list(_ name: String) throws -> [YAMLReader] {
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
    func flattened(_ name: String) throws -> [String: String] {
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

    func stringList(_ name: String) throws -> [String]? {
        guard let value = map[name] else { return nil }
        guard let items = value as? [Any] else { throw HubConfiguration.Problem(key: key(name), message: "must be a list") }
        return items.map { "\($0)" }
    }

    /// A nested value re-encoded as JSON (a job payload).
    func json(_ name: String) throws -> String? {
        guard let value = map[name] else { return nil }
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        else { throw HubConfiguration.Problem(key: key(name), message: "must be a mapping or list") }
        return String(decoding: data, as: UTF8.self)
    }
}
