import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
import KopruCore
import KopruEngine
#endif
import Testing

@testable import KopruApp
@testable import kopru

/// `kopru demo` and `kopru sandbox` as a user runs them: real processes, no configuration.
@Suite("Demo and sandboxes", .serialized)
struct DemoAndSandboxTests {
    func temporaryLog() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kopru-cli-\(UUID().uuidString).log")
    }

    @Test("kopru demo runs with no setup, drains, and reports every order exactly once")
    func demo() async throws {
        let log = temporaryLog()
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try KopruProcess(["demo", "--duration", "6", "--skus", "300", "--every", "2"], environment: [:], logFile: log)
        let status = try await child.waitForExit(timeout: .seconds(150))
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output)")
        #expect(output.contains("Köprü demo"))
        #expect(output.contains("dashboard  http://127.0.0.1:") && output.contains("sign in with kopru_"), "the demo offers its dashboard")
        #expect(output.contains("orders in"))
        #expect(output.contains("exactly once: all"), "\(output)")
        #expect(!output.contains("NOT exactly once"))
    }

    /// The JSON line `kopru sandbox` prints on start: its address and the credentials it accepts.
    static func sandboxSummary(_ log: URL) async throws -> [String: Any]? {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("{") }) {
                return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("kopru sandbox serves Magento's real paths and refuses a wrong token")
    func sandbox() async throws {
        let log = temporaryLog()
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try KopruProcess(
            ["sandbox", "magento2", "--orders", "3", "--credentials", #"{"bearerIntegrationTokens":true}"#], environment: [:],
            logFile: log)
        defer { child.signal(SIGTERM) }
        let info = try #require(try await Self.sandboxSummary(log))
        let url = try #require(info["url"] as? String)
        let token = try #require((info["credentials"] as? [String: Any])?["accessToken"] as? String)
        func get(_ bearer: String) async throws -> (Int, Data) {
            var request = URLRequest(url: URL(string: url + "/rest/default/V1/orders?searchCriteria%5BpageSize%5D=10")!)
            request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        }
        let (status, data) = try await get(token)
        #expect(status == 200)
        let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(body?["total_count"] as? Int == 3)
        #expect(try await get("wrong").0 == 401)
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(10)) != nil)
    }

    @Test("kopru sandbox horoz serves /<methodName> with the key it was given")
    func horozSandbox() async throws {
        let log = temporaryLog()
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try KopruProcess(
            ["sandbox", "horoz", "--credentials", #"{"processKey":"anahtar-42"}"#], environment: [:], logFile: log)
        defer { child.signal(SIGTERM) }
        let info = try #require(try await Self.sandboxSummary(log))
        let url = try #require(info["url"] as? String)
        #expect((info["credentials"] as? [String: Any])?["counties"] as? Int == 971)
        func get(_ method: String, key: String) async throws -> [String: Any]? {
            var request = URLRequest(url: URL(string: url + "/" + method)!)
            request.setValue(key, forHTTPHeaderField: "processKey")
            let (data, _) = try await URLSession.shared.data(for: request)
            return try JSONSerialization.jsonObject(with: data) as? [String: Any]
        }
        #expect(try await get("serviceControl", key: "anahtar-42")?["responseCode"] as? String == "STA-100")
        #expect(try await get("serviceControl", key: "wrong")?["responseCode"] as? String == "ERR-20001")
        let counties = try await get("listCounties", key: "anahtar-42")?["listCountiesOutput"] as? [String: Any]
        #expect(counties?["responseCode"] as? String == "STA-100")
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(10)) != nil)
    }

    @Test("demo and sandbox options parse and are checked")
    func parsing() throws {
        let demo = try #require(try Kopru.parseAsRoot(["demo", "--duration", "5", "--skus", "50", "--port", "0"]) as? Demo)
        #expect(demo.duration == 5 && demo.skus == 50)
        #expect(try Kopru.parseAsRoot(["demo"]) is Demo)
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["demo", "--skus", "0"]) }
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["demo", "--duration", "-1"]) }
        let sandbox = try #require(try Kopru.parseAsRoot(["sandbox", "erp-rest", "--faults", "orders.create:5xx=0.5"]) as? SandboxCommand)
        #expect(sandbox.system == "erp-rest")
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["sandbox", "sap-b1"]) }
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["sandbox", "erp-rest", "--faults", "orders.create:5xx=9"]) }
    }

    @Test("flows and connections in the YAML file are read and checked, naming the key")
    func flowConfiguration() throws {
        var configuration = HubConfiguration()
        try configuration.apply(
            yaml: """
                connections:
                  - id: erp
                    type: erp-rest
                    settings: {baseURL: "https://erp.example.com/api/v2/", skuMap: {TRM-500: "STK-1"}, pagination: page}
                    secrets: {api_key: "env:ERP_KEY"}
                flows:
                  - {name: orders, kind: orders, from: shop, to: erp}
                  - {name: stock, kind: stock, from: erp, to: shop, schedule: "*/15 * * * *", buffer: 2, skuMap: {STK-1: TRM-500}}
                  - {name: prices, kind: prices, from: erp, to: shop, priceRule: "markup=15%,ending=.90,min=99.90"}
                """)
        try configuration.validate()
        #expect(configuration.connections.first?.settings["skuMap.TRM-500"] == "STK-1")
        #expect(configuration.flows.map(\.name) == ["orders", "stock", "prices"])
        let catalog = try Runtime.flowCatalog(configuration)
        #expect(catalog.flows[1].buffer == 2 && catalog.flows[1].skuMap == ["STK-1": "TRM-500"])
        #expect(catalog.flows[2].priceRule == (try PriceRule(parsing: "markup=15%,ending=.90,min=99.90")))
        let schedules = try Runtime.flowSchedules(configuration)
        #expect(schedules.map(\.name) == ["flow:orders", "flow:orders:reconcile", "flow:stock", "flow:stock:reconcile", "flow:prices"])
        var badRule = HubConfiguration()
        try badRule.apply(yaml: "flows:\n  - {name: p, kind: prices, from: a, to: b, priceRule: \"markup=lots\"}\n")
        #expect(throws: HubConfiguration.Problem.self) { try badRule.validate() }
        var bad = HubConfiguration()
        #expect(
            throws: HubConfiguration.Problem(
                key: "flows[0].kind",
                message: "\"invoices\" is not a flow kind this build runs (one of orders, stock, prices, customers, shipments, shipping)")
        ) { try bad.apply(yaml: "flows:\n  - {name: x, kind: invoices, from: a, to: b}\n") }
    }
}
