import Foundation
import KopruEngine
import Testing

@testable import KopruApp
@testable import kopru

@Suite("Configuration")
struct ConfigurationTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws -> HubConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try HubConfiguration.load(environment: environment.merging(["KOPRU_CONFIG": file.path]) { $1 })
    }

    @Test("defaults need no file")
    func defaults() throws {
        let configuration = try HubConfiguration.load(environment: [:])
        #expect(configuration.store == "sqlite:./kopru.db")
        #expect(configuration.durability == "full")
        #expect(configuration.httpPort == 8080)
        #expect(configuration.eventRetentionDays == 30)
    }

    @Test("workers fit the store unless the file says otherwise")
    func workerDefaultsByStore() throws {
        let sqlite = try HubConfiguration.load(environment: [:])
        #expect(sqlite.workerConcurrency == 256 && sqlite.claimBatch == 256)
        let postgres = try HubConfiguration.load(environment: ["KOPRU_STORE": "postgres://kopru@127.0.0.1:5432/kopru"])
        #expect(postgres.workerConcurrency == 256 && postgres.claimBatch == 128)
        let chosen = try load("workers: {claimBatch: 32}", environment: ["KOPRU_STORE": "postgres://kopru@127.0.0.1/kopru"])
        #expect(chosen.workerConcurrency == 256 && chosen.claimBatch == 32)
        #expect(Runtime.processorConfiguration(chosen).claimBatch == 32)
    }

    @Test("every documented key is read; the environment wins")
    func fullFile() throws {
        let configuration = try load(
            """
            store: sqlite:/var/lib/kopru/hub.db
            durability: full
            http: {host: 0.0.0.0, port: 9090}
            log: {level: debug, format: json}
            workers:
              concurrency: 8
              claimBatch: 16
              leaseSeconds: 2.5
              pollMilliseconds: 50
              shutdownGraceSeconds: 3
              connectionConcurrency: {default: 2, erp-logo: 1}
            events: {retentionDays: 7}
            schedules:
              - name: erp-stock
                cron: "0 * * * *"
                timeZone: Europe/Istanbul
                job: {kind: system.probe, connection: erp-logo, payload: {workMilliseconds: 5}}
            """, environment: ["KOPRU_STORE": "sqlite:/tmp/override.db", "KOPRU_LOG_LEVEL": "warning"])
        #expect(configuration.store == "sqlite:/tmp/override.db")
        #expect(configuration.logLevel == "warning")
        #expect(configuration.logFormat == "json")
        #expect(configuration.httpHost == "0.0.0.0" && configuration.httpPort == 9090)
        #expect(configuration.workerConcurrency == 8 && configuration.claimBatch == 16)
        #expect(configuration.leaseSeconds == 2.5 && configuration.pollMilliseconds == 50)
        #expect(configuration.connectionConcurrency == 2 && configuration.connectionConcurrencyOverrides == ["erp-logo": 1])
        #expect(configuration.eventRetentionDays == 7)
        #expect(configuration.schedules.count == 1)
        #expect(configuration.schedules[0].payload == #"{"workMilliseconds":5}"#)
        #expect(configuration.schedules[0].connection == "erp-logo")
    }

    @Test("mistakes are reported with the key that holds them", arguments: [
        ("workers: {concurency: 4}", "workers.concurency"),
        ("workers: {concurrency: 0}", "workers.concurrency"),
        ("workers: {concurrency: many}", "workers.concurrency"),
        ("store: mysql://x", "store"),
        ("log: {level: loud}", "log.level"),
        ("schedules: [{name: a, cron: '61 * * * *', job: {kind: system.probe}}]", "schedules[0].cron"),
        ("schedules: [{name: a, cron: '@daily', timeZone: Mars/Olympus, job: {kind: system.probe}}]", "schedules[0].timeZone"),
        ("schedules: [{name: a, cron: '@daily'}]", "schedules[0].job"),
        ("schedules: [{name: a, cron: '@daily', job: {kind: system.probe}}, {name: a, cron: '@daily', job: {kind: system.probe}}]", "schedules[1].name"),
        ("http: [1, 2]", "http"),
        ("durability: sometimes", "durability"),
        ("http: {webhookBodyLimitBytes: 0}", "http.webhookBodyLimitBytes"),
    ])
    func mistakes(_ yaml: String, _ key: String) {
        let problem = #expect(throws: HubConfiguration.Problem.self) { _ = try load(yaml) }
        #expect(problem?.key == key)
    }

    @Test("a port that is not a number in the environment is named")
    func environmentPort() {
        let problem = #expect(throws: HubConfiguration.Problem.self) {
            _ = try HubConfiguration.load(environment: ["KOPRU_HTTP_PORT": "eighty"])
        }
        #expect(problem?.key == "KOPRU_HTTP_PORT")
    }
}
