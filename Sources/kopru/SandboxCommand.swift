import KopruApp
import ArgumentParser
import Foundation
import KopruCore
import KopruSandbox
import ServiceLifecycle
import UnixSignals

/// The installed sandboxes, for the help text.
private let sandboxSystemHelp = "The system: " + Installed.sandboxes.map(\.connectorType).joined(separator: ", ") + "."
private let sandboxCredentialsHelp =
    "JSON: what the system accepts ("
    + Installed.sandboxes.map { $0.connectorType + ": " + $0.credentialKeys.joined(separator: ", ") }.joined(separator: "; ") + ")."

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve one simulated external system on loopback.",
        discussion: """
            Serves the system's real paths (Magento: /rest/{store}/V1/..., the REST ERP: \
            /api/v2/..., Horoz: /<methodName>) with a sample catalogue, until stopped. It enforces the contract: auth, \
            signatures, validation, pagination. Prints its address and the credentials it \
            accepts as one JSON object on stdout.

            Systems: the installed connectors' sandboxes (see SYSTEM below).
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

    @Argument(help: ArgumentHelp(sandboxSystemHelp))
    var system: String

    @Option(help: "Port on 127.0.0.1 (0: any free port).")
    var port = 0

    @Option(help: ArgumentHelp(sandboxCredentialsHelp))
    var credentials: String?

    @Option(help: "Faults to inject (see above).")
    var faults: String?

    @Option(help: "Sample catalogue size.")
    var skus = 100

    @Option(help: "Sample orders to place at start (where the system takes orders).")
    var orders = 5

    func validate() throws {
        guard Installed.sandbox(for: system) != nil else {
            throw ValidationError("no sandbox for \(system) yet (have: \(Installed.sandboxes.map(\.connectorType).joined(separator: ", ")))")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        if let faults { do { _ = try FaultPlan.parse(faults) } catch { throw ValidationError("\(error)") } }
    }

    func run() async throws {
        var shop = SampleShop(skus: skus)
        let overrides = try credentials.map { text -> JSON in
            guard let json = try? JSON.parse(Data(text.utf8)), case .object = json else {
                throw ValidationError("--credentials must be a JSON object")
            }
            return json
        }
        guard let type = Installed.sandbox(for: system) else { throw ValidationError("no sandbox for \(system)") }
        let sandbox: Sandbox
        let accepted: JSON
        do { (sandbox, accepted) = try type.standalone(overrides, &shop, orders) } catch { throw ValidationError("\(error)") }
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
