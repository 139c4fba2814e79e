import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KopruApp
import KopruConnectors
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import KopruStoreSQLite
import NIOCore
import Testing

/// Issue 15: the admin API reads the kinds, so it accepts nothing that no handler runs.
@Suite("Connector and flow kinds through the admin API")
struct KindsThroughTheAPITests {
    /// Flow kinds a user may name that no installed kind runs (yet): they must be refused.
    static let notInstalled = ["products", "payments", "invoices"]

    @Test("every connector kind × every flow kind: a sync is refused with the reason, or queues a job a handler runs")
    func everySyncRunsOrIsRefused() async throws {
        // One connection per installed kind, and a configured flow of every kind it can feed, to
        // a connection that can take it where one is installed.
        var flows: [FlowDefinition] = []
        for kind in Installed.connectors {
            for flow in Installed.flows where flow.missing(on: kind, as: .source) == nil {
                guard let target = Installed.connectors.first(where: { flow.missing(on: $0, as: .target) == nil }) else { continue }
                flows.append(FlowDefinition(name: "\(kind.id)-\(flow.id)", kind: flow, source: ConnectionID(kind.id), target: ConnectionID(target.id)))
            }
        }
        #expect(flows.count >= Installed.flows.count, "every flow kind has a pairing here")
        let configured = flows
        let hub = try await HubFixture(kinds: Installed.kinds, flows: FlowCatalog(flows))
        defer { hub.cleanUp() }
        for kind in Installed.connectors {
            try await hub.store.saveConnection(Connection(id: ConnectionID(kind.id), type: kind.id, name: kind.name), now: Date())
        }
        let handled = Runtime.registry(store: hub.store, catalog: hub.flows).kinds
        let accepted = try await hub.live { client in
            var accepted = 0
            for kind in Installed.connectors {
                for flow in Installed.flows.map(\.id) + Self.notInstalled {
                    let response = try await client.execute(
                        uri: "/api/integrations/\(kind.id)/sync", method: .post, headers: hub.jsonAuth,
                        body: ByteBuffer(string: #"{"flow":"\#(flow)"}"#))
                    let runnable = configured.contains { $0.source.rawValue == kind.id && $0.kind.id == flow }
                    if runnable {
                        #expect(response.status == .accepted, "\(kind.id) \(flow)")
                        accepted += 1
                    } else {
                        #expect(response.status == .unprocessableContent, "\(kind.id) \(flow): \(response.status)")
                        #expect(response.error.field == "flow")
                    }
                }
            }
            return accepted
        }
        #expect(accepted > 0)
        let queued = try await hub.store.jobs(JobFilter(limit: 1_000))
        #expect(queued.count == accepted, "a refused sync left a job behind")
        for job in queued { #expect(handled.contains(job.kind), "\(job.kind) has no handler") }
    }

    @Test("a products sync is refused with the reason, and no job is left pending")
    func productsIsRefused() async throws {
        let hub = try await HubFixture(
            kinds: Installed.kinds, flows: FlowCatalog([FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp")]))
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(Connection(id: "shop", type: "magento2", name: "Shop"), now: Date())
        try await hub.live { client in
            let products = try await client.execute(
                uri: "/api/integrations/shop/sync", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"flow":"products"}"#))
            #expect(products.status == .unprocessableContent)
            #expect(products.error.field == "flow")
            #expect(products.error.message.contains("products is not a flow kind this build runs"), "\(products.error.message)")
            // A kind the build runs, but Magento cannot be its source: it names what is missing.
            let prices = try await client.execute(
                uri: "/api/integrations/shop/sync", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"flow":"prices"}"#))
            #expect(prices.status == .unprocessableContent)
            #expect(prices.error.message.contains("has no priceSource"), "\(prices.error.message)")
            // A kind Magento can feed, but no flow of it is configured from this connection.
            let customers = try await client.execute(
                uri: "/api/integrations/shop/sync", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"flow":"customers"}"#))
            #expect(customers.status == .unprocessableContent)
            #expect(customers.error.message.contains("no customers flow takes records from shop"), "\(customers.error.message)")
        }
        #expect(try await hub.store.jobs(JobFilter(limit: 10)).isEmpty)
        // And the connection can be deleted: nothing is pending against it.
        try await hub.live { client in
            let deleted = try await client.execute(uri: "/api/integrations/shop", method: .delete, headers: hub.auth)
            #expect(deleted.status == .noContent)
        }
    }

    @Test("saving a connection that would leave a configured flow unrunnable is refused")
    func savingKeepsFlowsRunnable() async throws {
        let hub = try await HubFixture(
            kinds: Installed.kinds, flows: FlowCatalog([FlowDefinition(name: "stock", kind: .stock, source: "erp", target: "shop")]))
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(Connection(id: "shop", type: "magento2", name: "Shop"), now: Date())
        try await hub.live { client in
            // "erp" made a carrier: the stock flow from it could not run.
            let carrier = try await client.execute(
                uri: "/api/integrations/horoz/config", method: .post, headers: hub.jsonAuth,
                body: ByteBuffer(string: #"{"id":"erp","settings":{"baseURL":"https://horoz.example.com/","supplierCode":"801452"}}"#))
            #expect(carrier.status == .unprocessableContent && carrier.error.field == "id")
            #expect(carrier.error.message.contains("flow stock"), "\(carrier.error.message)")
        }
        #expect(try await hub.store.connection("erp") == nil)
    }

    @Test("connection settings are checked by their kind when saved, naming the key")
    func settingsCheckedByKind() async throws {
        let hub = try await HubFixture(kinds: Installed.kinds)
        defer { hub.cleanUp() }
        try await hub.live { client in
            func save(_ type: String, _ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/integrations/\(type)/config", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: body))
            }
            // The REST ERP's profile read a timeout it could not parse as its default 10 s.
            let timeout = try await save("erp-rest", #"{"settings":{"baseURL":"https://erp.example.com/api/","timeoutSeconds":"ten"}}"#)
            #expect(timeout.status == .unprocessableContent)
            #expect(timeout.error.field == "settings.timeoutSeconds")
            let lookup = try await save("erp-rest", #"{"settings":{"baseURL":"https://erp.example.com/api/","lookup":"maybe"}}"#)
            #expect(lookup.error.field == "settings.lookup")
            let url = try await save("horoz", #"{"settings":{"baseURL":"not a url","supplierCode":"801452"}}"#)
            #expect(url.error.field == "settings.baseURL")
            let required = try await save("horoz", #"{"settings":{"baseURL":"https://horoz.example.com/"}}"#)
            #expect(required.error.field == "settings.supplierCode")
            let unknown = try await save("shopify", #"{"settings":{}}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.error.message.contains("magento2, erp-rest, horoz"), "\(unknown.error.message)")
        }
        #expect(try await hub.store.connections().isEmpty, "a refused save stored something")
    }

    @Test("a webhook is checked by its connection's kind, not by one built-in rule")
    func webhookVerifiedByKind() async throws {
        let hub = try await HubFixture(kinds: HubKinds(connectors: [BasicAuthKind.kind], flows: []))
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(
            Connection(id: "market", type: BasicAuthKind.kind.id, name: "Market", secrets: ["webhookPassword": Secret("s3cret-pass")]),
            now: Date())
        try await hub.live { client in
            func post(_ authorization: String?) async throws -> TestResponse {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let authorization { headers[.authorization] = authorization }
                return try await client.execute(uri: "/webhooks/market", method: .post, headers: headers, body: ByteBuffer(string: #"{"order":1}"#))
            }
            let good = "Basic " + Data("kopru:s3cret-pass".utf8).base64EncodedString()
            #expect(try await post(good).status == .ok)
            let wrong = try await post("Basic " + Data("kopru:guess".utf8).base64EncodedString())
            #expect(wrong.status == .unauthorized && wrong.error.code == "signature_invalid")
            // An HMAC signature, which the built-in rule would have wanted, is not what this kind asks for.
            let (hmacHeaders, body) = HubFixture.signed(#"{"order":2}"#)
            let hmac = try await client.execute(uri: "/webhooks/market", method: .post, headers: hmacHeaders, body: body)
            #expect(hmac.status == .unauthorized && hmac.error.code == "signature_missing")
        }
        #expect(try await hub.store.jobs(JobFilter(limit: 10)).count == 1)
    }
}

/// A marketplace that calls the merchant with Basic authentication and signs nothing (as
/// Hepsiburada does): its kind brings its own verifier.
enum BasicAuthKind {
    struct Verifier: WebhookVerifier {
        let expected: String

        func verify(_ request: WebhookRequest) throws(WebhookRefusal) {
            guard let sent = request.header("Authorization") else { throw .signatureMissing("Authorization") }
            guard !expected.isEmpty, sent == expected else { throw .signatureInvalid("Authorization") }
        }
    }

    static let kind = ConnectorKind(
        id: "basic-market", name: "Basic market", capabilities: [.orderFeed],
        webhooks: WebhookVerification { _, secrets throws(ConnectorError) in
            let password = secrets["webhookPassword"]?.reveal() ?? ""
            return Verifier(expected: password.isEmpty ? "" : "Basic " + Data("kopru:\(password)".utf8).base64EncodedString())
        },
        endpointLimits: { _ in EndpointLimits(fallback: EndpointClass(name: "default", limit: nil) { _, _ in true }) },
        build: { _ in StubConnector() })
}
