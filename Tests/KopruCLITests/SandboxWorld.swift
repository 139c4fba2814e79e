import Crypto
import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite

/// Magento, the REST ERP and Horoz served on loopback from this test process, and a YAML file
/// that points real `kopru` processes at them: orders → ERP (with a comment back) and orders →
/// Horoz (label, tracking, the Magento shipment). The sandboxes' ledgers see every request of
/// every hub process, killed ones included.
final class SandboxWorld: Sendable {
    let magento = MagentoSandbox()
    let erp = ERPSandbox()
    let horoz = HorozSandbox()
    let magentoServer: SandboxServer
    let erpServer: SandboxServer
    let horozServer: SandboxServer
    let folder: URL
    let environment: [String: String]
    let log: URL
    let store: SQLiteStore
    static let flows = [
        FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp"),
        FlowDefinition(name: "shipping", kind: .shipping, source: "shop", target: "horoz"),
    ]

    /// `erpSettings`: more YAML lines under the ERP connection's settings; `flows`: more flows.
    init(
        name: String, workers: String = "{concurrency: 32, leaseSeconds: 2, pollMilliseconds: 20, shutdownGraceSeconds: 1, connectionConcurrency: 8}",
        erpSettings: [String] = [], flows: [String] = [], shopSecrets: [String] = []
    ) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The hub must reconcile by itself: the ERP does not deduplicate by Idempotency-Key here.
        erp.configure { $0.honoursIdempotencyKey = false }
        magentoServer = try await SandboxServer(magento.sandbox)
        erpServer = try await SandboxServer(erp.sandbox)
        horozServer = try await SandboxServer(horoz.sandbox)
        let credentials = magento.credentials
        let retry = "retry: {baseMilliseconds: 20, capMilliseconds: 300, maxAttempts: 40}"
        let configFile = folder.appendingPathComponent("kopru.yaml")
        try """
            workers: \(workers)
            connections:
              - id: shop
                type: magento2
                settings:
                  baseURL: \(magentoServer.baseURL.absoluteString)
                  pageSize: 100
                  timeoutSeconds: 10
                  \(retry)
                secrets:
                  consumerKey: \(credentials.consumerKey)
                  consumerSecret: \(credentials.consumerSecret)
                  accessToken: \(credentials.accessToken)
                  accessTokenSecret: \(credentials.accessTokenSecret)
                  \(shopSecrets.joined(separator: "\n      "))
              - id: erp
                type: erp-rest
                settings:
                  baseURL: \(erpServer.baseURL.absoluteString)/api/v2/
                  timeoutSeconds: 10
                  \(retry)
                  \(erpSettings.joined(separator: "\n      "))
                secrets:
                  api_key: erp-sandbox-key
              - id: horoz
                type: horoz
                settings:
                  baseURL: \(horozServer.baseURL.absoluteString)
                  supplierCode: 801452
                  desi: {default: 2}
                  timeoutSeconds: 10
                  \(retry)
                secrets:
                  processKey: \(horoz.settings.processKey)
            flows:
              - {name: orders, kind: orders, from: shop, to: erp}
              - {name: shipping, kind: shipping, from: shop, to: horoz, trackingPollSeconds: 1}
            \(flows.map { "  - \($0)\n" }.joined())
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let database = folder.appendingPathComponent("hub.db").path
        environment = [
            "KOPRU_STORE": "sqlite:\(database)", "KOPRU_MASTER_KEY": key, "KOPRU_CONFIG": configFile.path, "KOPRU_LOG_LEVEL": "warning",
        ]
        log = folder.appendingPathComponent("kopru.log")
        let (status, output) = try await KopruProcess.run(["migrate"], environment: environment, logFile: log)
        guard status == 0 else { throw WorldError(message: "migrate failed: \(output)") }
        store = try SQLiteStore(path: database, secretBox: SecretBox(masterKey: SymmetricKey(data: Data(base64Encoded: key)!)))
    }

    struct WorldError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    func worker(log: URL? = nil) throws -> KopruProcess {
        try KopruProcess(["serve", "--role", "worker"], environment: environment, logFile: log ?? self.log)
    }

    /// Places `count` paid orders of two products, known to the ERP.
    func placeOrders(_ count: Int) -> [(entityID: Int, incrementID: String)] {
        for sku in ["SKU-0001", "SKU-0002"] {
            magento.setStock(sku: sku, quantity: 0)
            erp.setStock(code: sku, quantity: 100_000)
        }
        let address = MagentoSandbox.Address(firstName: "Ayşe", lastName: "Yılmaz", street: "Atatürk Cad. 1", city: "Kadıköy", region: "İstanbul")
        return (1...count).map { index in
            magento.placeOrder(
                MagentoSandbox.NewOrder(
                    email: "musteri\(index)@example.com", address: address,
                    lines: [
                        MagentoSandbox.OrderLine(sku: "SKU-0001", name: "Ürün 1", quantity: 1, price: Decimal(string: "83.325")!),
                        MagentoSandbox.OrderLine(sku: "SKU-0002", name: "Ürün 2", quantity: 2, price: Decimal(string: "19.90")!),
                    ], shipping: Decimal(string: "29.90")!))
        }
    }

    /// What a schedule or a webhook would do: both flows poll now (pending polls coalesce).
    func kickFlows() async throws {
        _ = try await store.enqueue(Self.flows.map { $0.syncJob() }, now: Date())
    }

    func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func shutdown() async {
        await magentoServer.shutdown()
        await erpServer.shutdown()
        await horozServer.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }
}
