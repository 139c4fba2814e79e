import Crypto
import Foundation
import KopruCore
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// `kopru sync erp stock --full` as a real process, killed with SIGKILL part-way through a
/// push; a second `kopru sync` finishes the job. The sandboxes live in this test process, so
/// their ledgers see every request of both hub processes.
@Suite("Stock sync crash", .serialized)
struct StockSyncCrashTests {
    @Test("a SIGKILL mid-sync: the rerun sends no confirmed row again and loses none")
    func sigkillMidSync() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-stock-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let magento = MagentoSandbox()
        let erp = ERPSandbox()
        let skus = (1...6_000).map { String(format: "SKU-%05d", $0) }
        var levels: [String: Int] = [:]
        for (index, sku) in skus.enumerated() {
            magento.setStock(sku: sku, quantity: 0)
            levels[sku] = index % 40 + 1
        }
        erp.setStock(levels)
        magento.configure { _, settings in settings.inputLimit = 50 }
        // Slow enough to be caught in the middle: 120 requests of 50 rows, 15-25 ms each.
        magento.sandbox.setFaults(FaultPlan(latencyMilliseconds: 15...25), on: "stock.source-items")
        let magentoServer = try await SandboxServer(magento.sandbox)
        let erpServer = try await SandboxServer(erp.sandbox)
        defer {
            Task {
                await magentoServer.shutdown()
                await erpServer.shutdown()
            }
        }
        let credentials = magento.credentials
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers:
              concurrency: 8
              leaseSeconds: 1
              pollMilliseconds: 10
              connectionConcurrency:
                default: 2
            connections:
              - id: shop
                type: magento2
                settings:
                  baseURL: \(magentoServer.baseURL.absoluteString)
                  stock.mode: source-items
                  inputLimit: 50
                secrets:
                  consumerKey: \(credentials.consumerKey)
                  consumerSecret: \(credentials.consumerSecret)
                  accessToken: \(credentials.accessToken)
                  accessTokenSecret: \(credentials.accessTokenSecret)
              - id: erp
                type: erp-rest
                settings:
                  baseURL: \(erpServer.baseURL.absoluteString)/api/v2/
                  pagination: page
                  pagination.pageSize: 1000
                secrets:
                  api_key: erp-sandbox-key
            flows:
              - name: stock
                kind: stock
                from: erp
                to: shop
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let database = folder.appendingPathComponent("hub.db").path
        let environment = ["KOPRU_STORE": "sqlite:\(database)", "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path]
        let log = folder.appendingPathComponent("kopru.log")

        let first = try KopruProcess(["sync", "erp", "stock", "--full", "--every", "0.2"], environment: environment, logFile: log)
        let deadline = ContinuousClock.now + .seconds(60)
        while magento.stockRowsApplied < 1_500, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        first.signal(SIGKILL)
        _ = try await first.waitForExit()
        let appliedAtKill = magento.stockRowsApplied
        try #require(
            appliedAtKill >= 1_500 && appliedAtKill < skus.count,
            "killed mid-push (\(appliedAtKill) rows applied): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")

        // What the hub had recorded as confirmed when it died.
        let store = try SQLiteStore(path: database, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))
        let confirmed = try await store.snapshots(connection: "shop", entity: "stock", keys: skus)
        #expect(confirmed.count >= 1_000, "the first process confirmed rows before it died (\(confirmed.count))")
        let ledgerAtKill = magento.sandbox.ledger.count
        // A request may have been on the wire at the kill: what landed after it is not ours to judge.
        try await Task.sleep(for: .milliseconds(100))
        let settled = magento.sandbox.ledger.count

        let (status, output) = try await KopruProcess.run(["sync", "erp", "stock", "--every", "0.2"], environment: environment, logFile: log)
        #expect(status == 0, "second sync failed: \(output)")
        #expect(output.contains("confirmed"), "progress lines and a summary: \(output)")

        for sku in skus { #expect(magento.stock(sku: sku)?.quantity == levels[sku], "\(sku) lost") }
        var resent = Set<String>()
        for entry in magento.sandbox.ledger.all.dropFirst(max(ledgerAtKill, settled)) where entry.route == "stock.source-items" {
            for row in (try? JSON.parse(entry.body))?["sourceItems"]?.array ?? [] {
                if let sku = row["sku"]?.string, confirmed[sku] != nil { resent.insert(sku) }
            }
        }
        #expect(resent.isEmpty, "\(resent.count) confirmed rows sent again, e.g. \(resent.sorted().prefix(5))")
    }
}
