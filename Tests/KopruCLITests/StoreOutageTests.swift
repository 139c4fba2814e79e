import Crypto
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 17.2 with real processes: the hub's own database goes away under load. Intake must never
/// say 2xx for what it did not store, workers must wait rather than fail jobs, and everything
/// must resume by itself once the database is back.
@Suite("Store outages, real process", .serialized)
struct StoreOutageTests {
    static let secret = "store-outage-secret-0123456789"

    /// A filesystem of its own to fill: a small tmpfs, which needs root (CI runs as root).
    static let canMountTmpfs: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-tmpfs-probe-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path) == 0 else { return false }
        return run("/bin/umount", probe.path) == 0
    }()

    @discardableResult
    static func run(_ executable: String, _ arguments: String...) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func hubEnvironment(store: String, port: Int, folder: URL) throws -> [String: String] {
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers: {concurrency: 16, leaseSeconds: 10, pollMilliseconds: 50, shutdownGraceSeconds: 2}
            connections:
              - id: shop
                type: erp-rest
                settings: {baseURL: "https://erp.example.com/api/", webhook: {deliveryIdHeader: X-Delivery-Id}}
                secrets: {webhookSecret: \(Self.secret)}
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        return [
            "KOPRU_STORE": store, "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path, "KOPRU_HTTP_PORT": "\(port)",
            "KOPRU_LOG_LEVEL": "notice",
        ]
    }

    func startHub(_ environment: [String: String], log: URL, sender: WebhookSender) async throws -> KopruProcess {
        let hub = try KopruProcess(["serve", "--role", "all"], environment: environment, logFile: log)
        var ready = URLRequest(url: sender.base.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("readyz"))
        ready.timeoutInterval = 1
        try await eventually("the hub is ready", timeout: .seconds(60)) {
            ((try? await sender.session.data(for: ready))?.1 as? HTTPURLResponse)?.statusCode == 200
        }
        return hub
    }

    /// A hub on `store` taking `count` webhooks from 8 senders that re-deliver until answered 2xx;
    /// returns once 300 are acknowledged, with the senders still going.
    func pour(_ count: Int, store: String, folder: URL) async throws -> (
        hub: KopruProcess, sender: WebhookSender, senders: Task<Void, Never>, log: URL
    ) {
        let port = try freeLoopbackPort()
        let environment = try hubEnvironment(store: store, port: port, folder: folder)
        let log = folder.appendingPathComponent("kopru.log")
        // Longer than intake's 4 s commit deadline, so the 503 it answers then is heard.
        let sender = WebhookSender(port: port, secret: Self.secret, timeout: 8)
        let hub = try await startHub(environment, log: log, sender: sender)
        let senders = sender.deliverAll(count, deadline: .now + .seconds(240))
        try await eventually("300 acknowledged", timeout: .seconds(60)) { sender.acknowledged.count >= 300 }
        return (hub, sender, senders, log)
    }

    @Test(
        "SQLite's disk full under intake and workers: 503 with Retry-After while full (never 2xx, never 500), 2xx again within 30 s of space returning, every acknowledged webhook stored once, every job done once, none dead",
        .enabled(if: canMountTmpfs, "skipped: needs root to mount a small tmpfs to fill")
    )
    func sqliteDiskFull() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-disk-full-\(UUID().uuidString.prefix(8))")
        let disk = folder.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", disk.path) == 0)
        defer {
            Self.run("/bin/umount", "-l", disk.path)
            try? FileManager.default.removeItem(at: folder)
        }
        let database = disk.appendingPathComponent("hub.db").path
        let count = 1_200
        let (hub, sender, senders, log) = try await pour(count, store: "sqlite:\(database)", folder: folder)

        // Fill the disk: dd stops at ENOSPC.
        let filler = disk.appendingPathComponent("filler").path
        Self.run("/bin/dd", "if=/dev/zero", "of=\(filler)", "bs=64k")
        try await eventually("intake answering 503", timeout: .seconds(60)) { (sender.statuses[503] ?? 0) >= 20 }
        // A 2xx while the disk is full is fine if the write found room (SQLite reuses its WAL):
        // what must hold, checked at the end, is that every 2xx was stored.
        try await Task.sleep(for: .seconds(3))

        try FileManager.default.removeItem(atPath: filler)
        let spaceBack = Date()
        try await eventually("2xx again", timeout: .seconds(30)) { (sender.lastAcknowledged ?? .distantPast) > spaceBack }
        let recovery = sender.lastAcknowledged!.timeIntervalSince(spaceBack)
        #expect(recovery < 30, "intake back \(recovery) s after space returned")
        await senders.value

        #expect(sender.acknowledged.count == count, "acknowledged \(sender.acknowledged.count) of \(count)")
        let statuses = sender.statuses
        #expect(statuses.keys.allSatisfy { [200, 503].contains($0) }, "only 200 and 503: \(statuses)")
        #expect(sender.retryAfterValues == ["5"], "every 503 says when to come back: \(sender.retryAfterValues)")
        try await eventually("every job done", timeout: .seconds(60)) {
            (try? sqliteCount(database, "SELECT count(*) FROM jobs WHERE status <> 'succeeded'")) == 0
        }
        hub.signal(SIGTERM)
        #expect(try await hub.waitForExit() == 0, "the hub ran through the outage and stops cleanly")
        let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(logText.contains("store unavailable"), "the outage is in the log")
        #expect(try sqliteCount(database, "SELECT count(*) FROM webhook_events") == count, "each acknowledged webhook stored once")
        #expect(try sqliteCount(database, "SELECT count(DISTINCT delivery_key) FROM webhook_events") == count)
        #expect(try sqliteCount(database, "SELECT count(*) FROM jobs WHERE kind = 'webhook.received'") == count, "one job per webhook")
        #expect(try sqliteCount(database, "SELECT count(*) FROM jobs WHERE status = 'dead'") == 0)
        // Workers waited for the store: no job ran twice or spent an attempt on the outage.
        #expect(try sqliteCount(database, "SELECT count(*) FROM jobs WHERE attempts > 1") == 0, "jobs that ran again")
        #expect(logText.contains("workers resumed"), "the workers paused and resumed")
    }

    @Test(
        "PostgreSQL stopped for 5 s and started again under intake and workers (a fast shutdown, as a restart does): 503s while it is away (never 2xx, never 500), 2xx again within 30 s of its return, every acknowledged webhook stored once, every job done once, none dead",
        .enabled(if: PrivatePostgres.binaries != nil, "skipped: no PostgreSQL server binaries (Debian's postgresql)")
    )
    func postgresRestart() async throws {
        let postgres = try PrivatePostgres()
        defer { postgres.destroy() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-pg-restart-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let count = 1_200
        let (hub, sender, senders, log) = try await pour(count, store: postgres.url, folder: folder)
        try postgres.stop()
        let acknowledgedAtStop = sender.acknowledged.count
        try await Task.sleep(for: .seconds(5))
        #expect(sender.acknowledged.count - acknowledgedAtStop <= 16, "2xx with the database stopped (only answers already committed may arrive)")
        #expect((sender.statuses[503] ?? 0) > 0, "503 while the database is away: \(sender.statuses)")
        try postgres.start()
        let back = Date()
        do {
            try await eventually("2xx again", timeout: .seconds(30)) { (sender.lastAcknowledged ?? .distantPast) > back }
        } catch {
            Issue.record("statuses \(sender.statuses); log:\n\((try? String(contentsOf: log, encoding: .utf8))?.suffix(3000) ?? "")")
            throw error
        }
        let recovery = sender.lastAcknowledged!.timeIntervalSince(back)
        #expect(recovery < 30, "intake back \(recovery) s after the database")
        await senders.value

        #expect(sender.acknowledged.count == count, "acknowledged \(sender.acknowledged.count) of \(count)")
        #expect(sender.statuses.keys.allSatisfy { [200, 503].contains($0) }, "only 200 and 503: \(sender.statuses)")
        do {
            try await eventually("every job done", timeout: .seconds(120)) {
                (try? postgres.value("SELECT count(*) FROM jobs WHERE status <> 'succeeded'")) == "0"
            }
        } catch {
            let jobs = (try? postgres.value("SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM jobs GROUP BY status) s")) ?? "?"
            Issue.record("jobs: \(jobs); log:\n\((try? String(contentsOf: log, encoding: .utf8))?.suffix(3000) ?? "")")
            throw error
        }
        hub.signal(SIGTERM)
        #expect(try await hub.waitForExit() == 0, "the hub ran through the restart and stops cleanly")
        let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(logText.contains("workers resumed"), "the workers paused and resumed")
        #expect(try postgres.value("SELECT count(*) FROM webhook_events") == "\(count)", "each acknowledged webhook stored once")
        #expect(try postgres.value("SELECT count(*) FROM jobs WHERE kind = 'webhook.received'") == "\(count)", "one job per webhook")
        #expect(try postgres.value("SELECT count(*) FROM jobs WHERE attempts > 1") == "0", "jobs that ran again")
    }
}
