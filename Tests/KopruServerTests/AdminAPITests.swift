import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import KopruStoreSQLite
import NIOCore
import Testing

@Suite("Admin API over loopback")
struct AdminAPITests {
    @Test("health, readiness, metrics and the OpenAPI document need no token")
    func openRoutes() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.live { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["status"] as? String == "ready")
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.text.contains("kopru_jobs{status=\"pending\"}"))
            #expect(metrics.text.contains("kopru_dead_letters"))
            let document = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(document.json["openapi"] as? String == "3.1.0")
        }
    }

    @Test("a connection's circuits are in its health, as the store shares them, and in /metrics")
    func circuitsShown() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "ERP"), now: Date())
        let since = Date(timeIntervalSince1970: 1_790_000_000)
        try await hub.store.updateCircuit("erp:default") { _ in
            (CircuitState(phase: .open, failures: 10, since: since, probeAt: since.addingTimeInterval(60), lastError: "HTTP 503"), ())
        }
        try await hub.store.updateCircuit("erpx:default") { _ in (CircuitState.closed(at: since), ()) }
        try await hub.live { client in
            let shown = try await client.execute(uri: "/api/integrations/erp", method: .get, headers: hub.auth)
            let circuits = shown.json["circuits"] as? [[String: Any]]
            #expect(circuits?.count == 1, "only erp's own: \(shown.text)")
            #expect(circuits?.first?["endpoint"] as? String == "default")
            #expect(circuits?.first?["state"] as? String == "open")
            #expect(circuits?.first?["failures"] as? Int == 10)
            #expect(circuits?.first?["lastError"] as? String == "HTTP 503")
            let listed = try await client.execute(uri: "/api/integrations", method: .get, headers: hub.auth)
            #expect(listed.text.contains("\"state\":\"open\""))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.text.contains(#"kopru_circuit_state{connection="erp",endpoint="default",phase="open"} 1"#), "\(metrics.text)")
            #expect(metrics.text.contains(#"kopru_circuit_state{connection="erp",endpoint="default",phase="closed"} 0"#))
        }
    }

    @Test("GET /api/reconciliation: each flow's latest report, filtered by connection or flow")
    func reconciliationReports() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        func report(_ flow: String, _ connection: ConnectionID, missing: String, at: Date) -> EventRecord {
            EventRecord(
                at: at, level: .warning, kind: "reconciliation", connection: connection, subject: "flow:\(flow)", message: "reconciled",
                details: [
                    "flow": flow, "read": "30", "exportable": "25", "delivered": "23", "missing": missing, "missingOrders": "000100007,000100009",
                    "boundTwice": "1", "boundTwiceDocuments": "SO-000004=000100004+000100005", "cutShort": "false",
                ])
        }
        try await hub.store.append([
            report("orders", "shop", missing: "9", at: at), report("orders", "shop", missing: "2", at: at.addingTimeInterval(3600)),
            report("orders2", "shop2", missing: "0", at: at),
        ])
        try await hub.live { client in
            let all = try await client.execute(uri: "/api/reconciliation", method: .get, headers: hub.auth)
            #expect(all.status == .ok)
            let items = all.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["flow"] as? String } == ["orders", "orders2"], "the latest per flow: \(all.text)")
            #expect(items.first?["missing"] as? Int == 2)
            #expect(items.first?["missingOrders"] as? [String] == ["000100007", "000100009"])
            #expect((items.first?["boundTwice"] as? [String: [String]])?["SO-000004"] == ["000100004", "000100005"])
            let one = try await client.execute(uri: "/api/reconciliation?connection=shop2", method: .get, headers: hub.auth)
            #expect((one.json["items"] as? [[String: Any]])?.map { $0["flow"] as? String } == ["orders2"])
            let named = try await client.execute(uri: "/api/reconciliation?flow=orders", method: .get, headers: hub.auth)
            #expect((named.json["items"] as? [[String: Any]])?.count == 1)
        }
    }

    /// The drift report as the API serves it, and `POST /api/reconciliation/{flow}` running one
    /// now: a push only where the kind can push, a flow that is not configured 404.
    @Test func stockDriftReportAndRunningAReconciliationNow() async throws {
        let flows = FlowCatalog([
            FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp"),
            FlowDefinition(name: "stock", kind: .stock, source: "erp", target: "shop"),
            FlowDefinition(name: "customers", kind: .customers, source: "shop", target: "erp"),
        ])
        let hub = try await HubFixture(flows: flows)
        defer { hub.cleanUp() }
        try await hub.store.append([
            EventRecord(
                at: Date(), level: .warning, kind: "reconciliation", connection: "shop", subject: "flow:stock", message: "compared",
                details: [
                    "flow": "stock", "flow_kind": "stock", "read": "151", "drifted": "2", "unsent": "1", "notOnChannel": "1", "pushed": "0",
                    "driftedSKUs": "SKU-0003=4>10,A=B=0>7", "unsentSKUs": "SKU-0007=10>6", "notOnChannelSKUs": "SKU-0200",
                ])
        ])
        try await hub.live { client in
            let list = try await client.execute(uri: "/api/reconciliation?flow=stock", method: .get, headers: hub.auth)
            let item = (list.json["items"] as? [[String: Any]])?.first ?? [:]
            #expect(item["kind"] as? String == "stock" && item["drifted"] as? Int == 2, "\(list.text)")
            let drift = item["drift"] as? [[String: Any]] ?? []
            #expect(drift.map { $0["sku"] as? String } == ["SKU-0003", "A=B"], "a SKU holding = is split at its last one")
            #expect(drift.map { $0["channel"] as? Int } == [4, 0] && drift.map { $0["expected"] as? Int } == [10, 7])
            #expect(item["notOnChannelSKUs"] as? [String] == ["SKU-0200"])
            #expect(item["missing"] == nil, "no order fields on a stock report")

            let push = try await client.execute(
                uri: "/api/reconciliation/stock", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"push": true}"#))
            #expect(push.status == .accepted, "\(push.text)")
            #expect(push.json["kind"] as? String == StockReconcileJob.kind)
            let orders = try await client.execute(uri: "/api/reconciliation/orders", method: .post, headers: hub.auth)
            #expect(orders.status == .accepted && orders.json["kind"] as? String == OrderReconcileJob.kind, "\(orders.text)")
            let refused = try await client.execute(
                uri: "/api/reconciliation/orders", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"push": true}"#))
            #expect(refused.status == .unprocessableContent && refused.error.field == "push", "\(refused.text)")
            let typed = try await client.execute(
                uri: "/api/reconciliation/stock", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"push": "yes"}"#))
            #expect(typed.status == .unprocessableContent && typed.error.field == "push", "\(typed.text)")
            let none = try await client.execute(uri: "/api/reconciliation/customers", method: .post, headers: hub.auth)
            #expect(none.status == .unprocessableContent, "\(none.text)")
            let unknown = try await client.execute(uri: "/api/reconciliation/nope", method: .post, headers: hub.auth)
            #expect(unknown.status == .notFound)
        }
        let queued = try await hub.store.jobs(JobFilter(kind: StockReconcileJob.kind, limit: 10))
        #expect(queued.count == 1 && queued.first?.connection == "shop", "the channel's lane")
        #expect(try queued.first?.decodePayload(StockReconcileJob.Payload.self).push == true)
    }

    @Test("every admin route refuses a missing, malformed, unknown or revoked token with 401")
    func authentication() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let (revoked, hash) = AdminTokens.generate()
        try await hub.store.createToken(APIToken(name: "gone", hash: hash, createdAt: Date()))
        try await hub.store.revokeToken(name: "gone", now: Date())
        let routes: [(HTTPRequest.Method, String)] = [
            (.get, "/api/integrations"), (.post, "/api/integrations/shopify/config"), (.get, "/api/integrations/x"),
            (.delete, "/api/integrations/x"), (.post, "/api/integrations/x/sync"), (.get, "/api/integrations/x/logs"),
            (.get, "/api/jobs"), (.get, "/api/jobs/1"), (.post, "/api/jobs/1/retry"), (.get, "/api/dead-letters"),
            (.post, "/api/dead-letters/1/replay"), (.get, "/api/reconciliation"), (.post, "/api/reconciliation/stock"),
        ]
        let credentials: [HTTPFields] = [
            [:], [.authorization: "Basic abc"], [.authorization: "Bearer kopru_unknown"], [.authorization: "Bearer \(revoked)"],
        ]
        try await hub.live { client in
            for (method, uri) in routes {
                for headers in credentials {
                    let response = try await client.execute(uri: uri, method: method, headers: headers)
                    #expect(response.status == .unauthorized, "\(method) \(uri) \(headers)")
                    #expect(response.error.code != nil)
                }
            }
        }
        let access = hub.logs.all.filter { $0.contains("kopru.access") }
        #expect(access.count == routes.count * credentials.count, "every admin call is in the access log")
    }

    @Test("configure: create, update keeps unsent secrets, FinAsis flat shape, secrets masked")
    func configure() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.live { client in
            let created = try await client.execute(
                uri: "/api/integrations/magento2/config", method: .post, headers: hub.jsonAuth,
                body: ByteBuffer(
                    string: #"{"id":"store-1","name":"Mağaza","settings":{"baseURL":"https://m.example","pageSize":100},"secrets":{"token":"tok-abcdefgh-9876"}}"#))
            #expect(created.status == .created, "\(created.text)")
            #expect((created.json["secrets"] as? [String: String])?["token"] == "********9876")
            #expect((created.json["settings"] as? [String: String])?["pageSize"] == "100")
            let updated = try await client.execute(
                uri: "/api/integrations/magento2/config", method: .post, headers: hub.jsonAuth,
                body: ByteBuffer(string: #"{"id":"store-1","active":false,"settings":{"pageSize":null}}"#))
            #expect(updated.status == .ok)
            #expect(updated.json["active"] as? Bool == false)
            let seed = try await client.execute(
                uri: "/api/integrations/hepsiburada/config", method: .post, headers: hub.jsonAuth,
                body: ByteBuffer(string: #"{"is_active":true,"api_key":"your_api_key_0001","access_token":"short","merchantId":"M1"}"#))
            #expect(seed.status == .created)
            #expect(seed.json["id"] as? String == "hepsiburada")
            #expect((seed.json["secrets"] as? [String: String]) == ["api_key": "********0001", "access_token": "********"])
            #expect((seed.json["settings"] as? [String: String]) == ["merchantId": "M1"])
            let list = try await client.execute(uri: "/api/integrations", method: .get, headers: hub.auth)
            #expect((list.json["integrations"] as? [[String: Any]])?.count == 2)
            let one = try await client.execute(uri: "/api/integrations/store-1", method: .get, headers: hub.auth)
            #expect(one.json["name"] as? String == "Mağaza")
            #expect(!one.text.contains("tok-abcdefgh"))
        }
        let stored = try await hub.store.connection("store-1")
        #expect(stored?.secrets["token"]?.reveal() == "tok-abcdefgh-9876", "secret kept when not resent")
        #expect(stored?.settings == ["baseURL": "https://m.example"])
        #expect(stored?.paused == true)
    }

    @Test("bad input names the field, and nothing stored changes", arguments: [
        (#"{"id":"Bad Id"}"#, "application/json", 422, "id"),
        (#"{"settings":{"nested":{"a":1}}}"#, "application/json", 422, "settings.nested"),
        (#"{"settings":{"webhook.encoding":"rot13"}}"#, "application/json", 422, "settings.webhook.encoding"),
        (#"{"settings":{"webhook.allowedIPs":"300.1.1.1"}}"#, "application/json", 422, "settings.webhook.allowedIPs"),
        (#"{"secrets":{"token":""}}"#, "application/json", 422, "secrets.token"),
        (#"{"active":"yes"}"#, "application/json", 422, "active"),
        (#"{"settings":{"breaker.failures":"0"}}"#, "application/json", 422, "settings.breaker.failures"),
        (#"{"settings":{"breaker.probeSeconds":"soon"}}"#, "application/json", 422, "settings.breaker.probeSeconds"),
        (#"{"name":"#, "application/json", 400, nil),
        (#"[1,2]"#, "application/json", 400, nil),
        (#"{"name":"x"}"#, "text/plain", 415, "Content-Type"),
        (#"{"id":"erp","name":"x"}"#, "application/json", 409, nil),
    ] as [(String, String, Int, String?)])
    func configureRefusals(body: String, contentType: String, status: Int, field: String?) async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(
            Connection(id: "erp", type: "erp-rest", name: "ERP", secrets: ["apiKey": Secret("k-1234567890123")]), now: Date())
        let before = try await hub.snapshot()
        try await hub.live { client in
            let response = try await client.execute(
                uri: "/api/integrations/shopify/config", method: .post,
                headers: [.authorization: "Bearer \(hub.token)", .contentType: contentType], body: ByteBuffer(string: body))
            #expect(Int(response.status.code) == status, "\(response.text)")
            #expect(response.error.field == field)
            #expect(response.error.code != nil)
        }
        #expect(try await hub.snapshot() == before)
    }

    @Test("unknown type 404, oversized body 413")
    func typeAndSize() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.live { client in
            let unknown = try await client.execute(
                uri: "/api/integrations/woocommerce/config", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: "{}"))
            #expect(unknown.status == .notFound)
            #expect(unknown.error.code == "unknown_type")
            let big = try await client.execute(
                uri: "/api/integrations/shopify/config", method: .post, headers: hub.jsonAuth,
                body: ByteBuffer(string: #"{"name":""# + String(repeating: "a", count: 1 << 20) + #""}"#))
            #expect(big.status == .contentTooLarge)
        }
    }

    @Test("sync queues a job (202), logs page with a cursor, delete refuses while jobs are pending")
    func syncLogsDelete() async throws {
        let hub = try await HubFixture(flows: FlowCatalog([FlowDefinition(name: "orders", kind: .orders, source: "shop", target: "erp")]))
        defer { hub.cleanUp() }
        try await hub.store.saveConnection(Connection(id: "shop", type: "shopify", name: "Shop"), now: Date())
        try await hub.store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "ERP"), now: Date())
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        try await hub.store.append(
            (0..<5).map {
                EventRecord(
                    at: t0.addingTimeInterval(Double($0)), level: $0 == 4 ? .error : .info, kind: "external_call", connection: "shop",
                    message: "call \($0)")
            })
        try await hub.live { client in
            let badFlow = try await client.execute(
                uri: "/api/integrations/shop/sync", method: .post, headers: hub.jsonAuth, body: ByteBuffer(string: #"{"flow":"invoices"}"#))
            #expect(badFlow.status == .unprocessableContent)
            #expect(badFlow.error.field == "flow")
            let sync = try await client.execute(
                uri: "/api/integrations/shop/sync", method: .post, headers: hub.jsonAuth,
                body: ByteBuffer(string: #"{"flow":"orders","mode":"full"}"#))
            #expect(sync.status == .accepted)
            let jobID = try #require(sync.json["job"] as? String)
            let job = try await client.execute(uri: "/api/jobs/\(jobID)", method: .get, headers: hub.auth)
            #expect(job.json["kind"] as? String == "sync.orders")
            #expect(job.json["status"] as? String == "pending")

            let page1 = try await client.execute(uri: "/api/integrations/shop/logs?limit=3", method: .get, headers: hub.auth)
            let items1 = try #require(page1.json["items"] as? [[String: Any]])
            #expect(items1.map { $0["message"] as? String } == ["call 4", "call 3", "call 2"])
            let cursor = try #require(page1.json["nextCursor"] as? String)
            let page2 = try await client.execute(uri: "/api/integrations/shop/logs?limit=3&cursor=\(cursor)", method: .get, headers: hub.auth)
            #expect((page2.json["items"] as? [[String: Any]])?.map { $0["message"] as? String } == ["call 1", "call 0"])
            #expect(page2.json["nextCursor"] == nil)
            let errors = try await client.execute(uri: "/api/integrations/shop/logs?level=error", method: .get, headers: hub.auth)
            #expect((errors.json["items"] as? [[String: Any]])?.count == 1)
            let ranged = try await client.execute(
                uri: "/api/integrations/shop/logs?from=2026-09-21T14:13:21Z&to=2026-09-21T14:13:23Z", method: .get, headers: hub.auth)
            #expect((ranged.json["items"] as? [[String: Any]])?.count == 2, "\(ranged.text)")
            let badLevel = try await client.execute(uri: "/api/integrations/shop/logs?level=loud", method: .get, headers: hub.auth)
            #expect(badLevel.status == .badRequest)
            #expect(badLevel.error.field == "level")
            let badTime = try await client.execute(uri: "/api/integrations/shop/logs?from=yesterday", method: .get, headers: hub.auth)
            #expect(badTime.error.field == "from")

            let refused = try await client.execute(uri: "/api/integrations/shop", method: .delete, headers: hub.auth)
            #expect(refused.status == .conflict)
            let claimed = try await hub.store.claim(
                ClaimRequest(owner: "t", limit: 10, leaseDuration: 60, now: Date(), kinds: nil, excludingConnections: []))
            _ = try await hub.store.complete(claimed.map { JobCompletion(lease: $0.lease, outcome: .succeeded, now: Date()) })
            let deleted = try await client.execute(uri: "/api/integrations/shop", method: .delete, headers: hub.auth)
            #expect(deleted.status == .noContent)
            let gone = try await client.execute(uri: "/api/integrations/shop", method: .get, headers: hub.auth)
            #expect(gone.status == .notFound)
        }
    }

    @Test("jobs: list with filters and cursor, retry, dead letters and replay, wrong states 409")
    func jobs() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let now = Date()
        _ = try await hub.store.enqueue(
            (1...4).map { NewJob(kind: "test.kind", idempotencyKey: "k\($0)", payload: Data("{}".utf8), connection: "erp") }, now: now)
        let claimed = try await hub.store.claim(
            ClaimRequest(owner: "t", limit: 1, leaseDuration: 60, now: now, kinds: nil, excludingConnections: []))
        _ = try await hub.store.complete([JobCompletion(lease: claimed[0].lease, outcome: .dead(reason: "ERP said no"), now: now)])
        let deadID = claimed[0].job.id
        try await hub.live { client in
            let page = try await client.execute(uri: "/api/jobs?limit=2&status=pending", method: .get, headers: hub.auth)
            #expect((page.json["items"] as? [[String: Any]])?.count == 2)
            let cursor = try #require(page.json["nextCursor"] as? String)
            let rest = try await client.execute(uri: "/api/jobs?limit=2&status=pending&cursor=\(cursor)", method: .get, headers: hub.auth)
            #expect((rest.json["items"] as? [[String: Any]])?.count == 1)
            let badStatus = try await client.execute(uri: "/api/jobs?status=sleeping", method: .get, headers: hub.auth)
            #expect(badStatus.error.field == "status")
            let dead = try await client.execute(uri: "/api/dead-letters", method: .get, headers: hub.auth)
            let deadItems = try #require(dead.json["items"] as? [[String: Any]])
            #expect(deadItems.count == 1)
            #expect(deadItems.first?["lastError"] as? String == "ERP said no")
            let notDead = try await client.execute(uri: "/api/dead-letters/\(deadID + 1)/replay", method: .post, headers: hub.auth)
            #expect(notDead.status == .conflict)
            let replayed = try await client.execute(uri: "/api/dead-letters/\(deadID)/replay", method: .post, headers: hub.auth)
            #expect(replayed.status == .ok)
            #expect(replayed.json["status"] as? String == "pending")
            let retried = try await client.execute(uri: "/api/jobs/\(deadID + 1)/retry", method: .post, headers: hub.auth)
            #expect(retried.status == .ok)
            #expect(try await client.execute(uri: "/api/jobs/999999", method: .get, headers: hub.auth).status == .notFound)
            #expect(try await client.execute(uri: "/api/jobs/abc", method: .get, headers: hub.auth).status == .notFound)
            #expect(try await client.execute(uri: "/api/jobs/999999/retry", method: .post, headers: hub.auth).status == .notFound)
        }
    }
}
