import KopruApp
import ArgumentParser
import Foundation
import KopruCore
import KopruSandbox
import ServiceLifecycle
import UnixSignals

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve one simulated external system on loopback.",
        discussion: """
            Serves the system's real paths (Magento: /rest/{store}/V1/..., the REST ERP: \
            /api/v2/..., Horoz: /<methodName>) with a sample catalogue, until stopped. It enforces the contract: auth, \
            signatures, validation, pagination. Prints its address and the credentials it \
            accepts as one JSON object on stdout.

            Systems: magento2, erp-rest, horoz.
            Faults: ROUTE:KEY=VALUE,...;ROUTE:... with keys latency=MIN-MAX (ms), 5xx, 429, \
            timeout, drop, commit-fail (shares 0-1), retry-after (s), down (true/false); route * \
            for all. Routes: magento2 orders.list, orders.comment, orders.ship, stock.bulk, ...; \
            erp-rest orders.create, orders.get, stocks.list, customers.create, shipments.list; \
            horoz createPaysSupplierShipping, createBarcode, listShippingDetails, listCounties, ...

            Examples:
              kopru sandbox magento2 --port 9001
              kopru sandbox erp-rest --faults 'orders.create:5xx=0.3,timeout=0.1'
              kopru sandbox magento2 --credentials '{"bearerIntegrationTokens":true}'
              kopru sandbox horoz --port 9003 --credentials '{"processKey":"k","supplierCode":801452}'
            """)

    @Argument(help: "magento2, erp-rest or horoz.")
    var system: String

    @Option(help: "Port on 127.0.0.1 (0: any free port).")
    var port = 0

    @Option(help: "JSON: what the system accepts (magento2: adminUsername, adminPassword, consumerKey, consumerSecret, accessToken, accessTokenSecret, bearerIntegrationTokens; erp-rest: api_key; horoz: processKey, supplierCode).")
    var credentials: String?

    @Option(help: "Faults to inject (see above).")
    var faults: String?

    @Option(help: "Sample catalogue size.")
    var skus = 100

    @Option(help: "Sample orders to place at start (magento2).")
    var orders = 5

    func validate() throws {
        guard ["magento2", "erp-rest", "horoz"].contains(system) else {
            throw ValidationError("no sandbox for \(system) yet (have: magento2, erp-rest, horoz)")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        if let faults { do { _ = try FaultPlan.parse(faults) } catch { throw ValidationError("\(error)") } }
    }

    func run() async throws {
        var shop = SampleShop(skus: skus)
        let sandbox: Sandbox
        var accepted: JSON
        let overrides = try credentials.map { text -> JSON in
            guard let json = try? JSON.parse(Data(text.utf8)), case .object = json else {
                throw ValidationError("--credentials must be a JSON object")
            }
            return json
        }
        if system == "magento2" {
            var values = MagentoSandbox.Credentials()
            if let overrides {
                var merged = try JSON.parse(JSONEncoder().encode(values)).object ?? [:]
                merged.merge(overrides.object ?? [:]) { $1 }
                values = try JSONDecoder().decode(MagentoSandbox.Credentials.self, from: JSON.object(merged).data)
            }
            let magento = MagentoSandbox(credentials: values)
            for item in shop.items { magento.setStock(sku: item.sku, quantity: 0) }
            for _ in 0..<orders { magento.placeOrder(shop.order()) }
            sandbox = magento.sandbox
            accepted = try JSON.parse(JSONEncoder().encode(values))
        } else if system == "horoz" {
            var settings = HorozSandbox.Settings()
            settings.processKey = overrides?["processKey"]?.string ?? settings.processKey
            if let code = overrides?["supplierCode"]?.int { settings.supplierCodes = [code] }
            guard !settings.processKey.isEmpty, settings.processKey.count <= 100 else {
                throw ValidationError("processKey must be 1-100 characters")
            }
            let horoz = HorozSandbox(settings: settings)
            sandbox = horoz.sandbox
            accepted = [
                "processKey": .string(settings.processKey), "supplierCodes": .array(settings.supplierCodes.sorted().map { JSON($0) }),
                "counties": JSON(horoz.countyCount),
            ]
        } else {
            var settings = ERPSandbox.Settings()
            let key = overrides?["api_key"]?.string ?? "erp-sandbox-key"
            settings.auth = .bearer(key)
            let erp = ERPSandbox(settings: settings)
            for item in shop.items { erp.setStock(code: item.sku, quantity: shop.int(0...50)) }
            sandbox = erp.sandbox
            accepted = ["api_key": .string(key), "auth": "bearer", "baseURL_path": "/api/v2/"]
        }
        if let faults { sandbox.setFaults(try FaultPlan.parse(faults)) }
        let server = try await SandboxServer(sandbox, port: port)
        let summary: JSON = [
            "system": .string(system), "url": .string(server.baseURL.absoluteString), "credentials": accepted,
            "routes": .array(Array(Set(sandbox.routeNames)).sorted().map { .string($0) }),
        ]
        say(String(decoding: summary.data, as: UTF8.self))
        for await _ in await UnixSignalsSequence(trapping: [.sigint, .sigterm]) { break }
        await server.shutdown()
    }
}
