import Foundation
import KopruCore
import KopruEngine
import KopruStore
import Testing

@testable import KopruApp

/// Issue 15: the configuration file is read against the installed kinds, so a flow no
/// connector can run, an option its kind does not have, or a setting its connector cannot use
/// is an error naming the key, at load, not a job that never runs.
@Suite("Configuration read against the kinds")
struct KindsConfigurationTests {
    func load(_ yaml: String) throws -> HubConfiguration {
        var configuration = HubConfiguration()
        try configuration.apply(yaml: yaml)
        try configuration.validate()
        return configuration
    }

    static let connections = """
        connections:
          - {id: shop, type: magento2, settings: {baseURL: "https://shop.example.com"}}
          - {id: erp, type: erp-rest, settings: {baseURL: "https://erp.example.com/api/"}}
          - {id: horoz, type: horoz, settings: {baseURL: "https://horoz.example.com/", supplierCode: 801452}}

        """

    @Test("a flow whose connector lacks a capability it needs is refused, naming the side and the capability")
    func missingCapability() throws {
        #expect(
            throws: HubConfiguration.Problem(
                key: "flows[0].from", message: "a connection of type horoz cannot be the source of a stock flow: it has no stockSource")
        ) { try load(Self.connections + "flows:\n  - {name: s, kind: stock, from: horoz, to: shop}\n") }
        #expect(
            throws: HubConfiguration.Problem(
                key: "flows[0].to", message: "a connection of type erp-rest cannot be the target of a shipping flow: it has no shipmentSink")
        ) { try load(Self.connections + "flows:\n  - {name: s, kind: shipping, from: shop, to: erp}\n") }
        let good = try load(Self.connections + "flows:\n  - {name: s, kind: shipping, from: shop, to: horoz}\n")
        #expect(try good.flowCatalog().flows.first?.kind == .shipping)
    }

    @Test("an option belongs to its flow kind: another kind's option is an unknown key")
    func optionsBelongToTheirKind() throws {
        #expect {
            try load(Self.connections + "flows:\n  - {name: o, kind: orders, from: shop, to: erp, buffer: 2}\n")
        } throws: { error in
            let problem = error as? HubConfiguration.Problem
            return problem?.key == "flows[0].buffer" && problem?.message.contains("exportStatuses") == true
        }
        #expect(throws: HubConfiguration.Problem(key: "flows[0].buffer", message: "must not be negative")) {
            try load(Self.connections + "flows:\n  - {name: s, kind: stock, from: erp, to: shop, buffer: -1}\n")
        }
        let stock = try load(Self.connections + "flows:\n  - {name: s, kind: stock, from: erp, to: shop, buffer: 3}\n")
        #expect(try stock.flowCatalog().flows[0].buffer == 3)
    }

    @Test("a connection's settings are checked by its kind when the file loads")
    func settingsCheckedByKind() throws {
        #expect(
            throws: HubConfiguration.Problem(
                key: "connections[0].settings.timeoutSeconds", message: "must be a whole number (got \"ten\")")
        ) { try load("connections:\n  - {id: erp, type: erp-rest, settings: {baseURL: \"https://erp.example.com/\", timeoutSeconds: ten}}\n") }
        #expect(
            throws: HubConfiguration.Problem(key: "connections[0].settings.supplierCode", message: "is required for a horoz connection")
        ) { try load("connections:\n  - {id: h, type: horoz, settings: {baseURL: \"https://horoz.example.com/\"}}\n") }
    }

    @Test("a schedule's job kind must be one this build runs")
    func scheduledJobKindsAreChecked() throws {
        #expect {
            try load("schedules:\n  - {name: p, cron: \"* * * * *\", job: {kind: sync.products}}\n")
        } throws: { error in
            let problem = error as? HubConfiguration.Problem
            return problem?.key == "schedules[0].job.kind" && problem?.message.contains("sync.orders") == true
        }
        _ = try load("schedules:\n  - {name: p, cron: \"* * * * *\", job: {kind: sync.stock, connection: erp}}\n")
    }

    @Test("flows over connections made through the admin API are checked when serve starts")
    func flowsCheckedAgainstStoredConnections() async throws {
        let store = MemoryStore()
        try await store.saveConnection(Connection(id: "shop", type: "magento2", name: "Shop"), now: Date())
        try await store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "ERP"), now: Date())
        let wrong = FlowCatalog([FlowDefinition(name: "p", kind: .prices, source: "shop", target: "erp")])
        await #expect(
            throws: HubConfiguration.Problem(
                key: "flows[0].from", message: "a connection of type magento2 cannot be the source of a prices flow: it has no priceSource")
        ) { try await Runtime.checkFlows(wrong, kinds: Installed.kinds, store: store) }
        let right = FlowCatalog([FlowDefinition(name: "p", kind: .prices, source: "erp", target: "shop")])
        try await Runtime.checkFlows(right, kinds: Installed.kinds, store: store)
    }

    @Test("each flow kind's default schedule and lane come from its descriptor")
    func schedulesFromTheKinds() throws {
        let configuration = try load(
            Self.connections + "flows:\n  - {name: o, kind: orders, from: shop, to: erp}\n  - {name: s, kind: stock, from: erp, to: shop}\n")
        let schedules = try Runtime.flowSchedules(configuration)
        // The orders flow's poll and its reconciliation, the stock flow's sync and its drift report.
        #expect(schedules.map(\.name) == ["flow:o", "flow:o:reconcile", "flow:s", "flow:s:reconcile"])
        #expect(schedules[1].cron == (try CronExpression("45 * * * *")))
        #expect(schedules[3].cron == (try CronExpression("30 3 * * *")), "the drift report reads the whole channel: nightly")
        let off = try load(Self.connections + "flows:\n  - {name: o, kind: orders, from: shop, to: erp, reconcileSchedule: \"off\"}\n")
        #expect(try Runtime.flowSchedules(off).map(\.name) == ["flow:o"])
        let catalog = try configuration.flowCatalog()
        #expect(catalog.flows[0].syncJob().priority == 5 && catalog.flows[1].syncJob().priority == StockPriority.sync)
    }
}
