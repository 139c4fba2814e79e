import Foundation
import HTTPTypes
import Hummingbird
import KopruCore
import KopruEngine
import KopruStore

/// `GET /api/reconciliation`: each flow's latest reconciliation, from the event it logged. For
/// an orders flow (`reconcile.orders`): what the source held over the window, what was
/// delivered, what was not (and was queued for export), and target documents bound to more
/// than one order. For a stock flow (`reconcile.stock`, the drift report): SKUs whose quantity
/// on the channel differs from what the hub would send. `POST /api/reconciliation/{flow}` runs
/// one now; with `{"push": true}` a stock flow also sends the difference.
struct ReconciliationRoutes: Sendable {
    let store: any Store
    let flows: FlowCatalog
    let now: @Sendable () -> Date

    func add(to group: RouterGroup<HubRequestContext>) {
        group.get("reconciliation") { request, _ in try await self.latest(request) }
        group.post("reconciliation/:flow") { request, context in try await self.start(request, context) }
    }

    struct ReconciliationView: Encodable, Sendable {
        var flow: String
        var kind: String
        var connection: String?
        var at: Date
        var read: Int
        var message: String
        // Orders.
        var since: String?
        var exportable: Int?
        var delivered: Int?
        var missing: Int?
        var missingOrders: [String]?
        var boundTwice: [String: [String]]?
        var cutShort: Bool?
        // Stock.
        var drifted: Int?
        var unsent: Int?
        var notOnChannel: Int?
        var pushed: Int?
        var drift: [StockDifference]?
        var notYetSent: [StockDifference]?
        var notOnChannelSKUs: [String]?
        /// The channel's connector cannot read stock back: nothing was compared.
        var unreadable: Bool?
        /// The sync run a push's rows are counted in (`GET /api/sync-runs`).
        var run: String?

        struct StockDifference: Encodable, Sendable {
            var sku: String
            var channel: Int
            var expected: Int
        }

        init(_ event: EventRecord) {
            let details = event.details
            func count(_ key: String) -> Int { details[key].flatMap(Int.init) ?? 0 }
            func list(_ key: String) -> [String] { (details[key] ?? "").split(separator: ",").map(String.init) }
            flow = details["flow"] ?? String(event.subject?.dropFirst("flow:".count) ?? "")
            kind = details["flow_kind"] ?? "orders"
            connection = event.connection?.rawValue
            at = event.at
            read = count("read")
            message = event.message
            if kind == "stock" {
                (drifted, unsent, notOnChannel, pushed) = (count("drifted"), count("unsent"), count("notOnChannel"), count("pushed"))
                func differences(_ key: String) -> [StockDifference] {
                    list(key).compactMap { item in
                        // `sku=channel>expected`; a SKU may itself hold `=`, so split at the last one.
                        guard let equals = item.lastIndex(of: "="), let arrow = item[equals...].firstIndex(of: ">"),
                            let channel = Int(item[item.index(after: equals)..<arrow]), let expected = Int(item[item.index(after: arrow)...])
                        else { return nil }
                        return StockDifference(sku: String(item[..<equals]), channel: channel, expected: expected)
                    }
                }
                (drift, notYetSent, notOnChannelSKUs) = (differences("driftedSKUs"), differences("unsentSKUs"), list("notOnChannelSKUs"))
                unreadable = details["unreadable"] == "true"
                run = details["run"].flatMap { $0.isEmpty ? nil : $0 }
                return
            }
            since = details["since"]
            (exportable, delivered, missing) = (count("exportable"), count("delivered"), count("missing"))
            missingOrders = list("missingOrders")
            var twice: [String: [String]] = [:]
            for pair in list("boundTwiceDocuments") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { twice[String(parts[0])] = parts[1].split(separator: "+").map(String.init) }
            }
            boundTwice = twice
            cutShort = details["cutShort"] == "true"
        }
    }

    /// Queues one reconciliation of a configured flow now: 202 with its job, which the job
    /// routes follow. A flow whose kind has none, or `push` for a kind that cannot push, is 422.
    private func start(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let name = context.parameters.get("flow") ?? ""
        guard let flow = flows.flows.first(where: { $0.name == name }) else {
            throw APIError.notFound("no flow \(name.prefix(64)) is configured", code: "flow_unknown")
        }
        guard let reconciliation = flow.kind.reconciliation else {
            throw APIError.invalid("a \(flow.kind.id) flow has no reconciliation", field: "flow")
        }
        let body = try await RequestParsing.jsonObject(request, optional: true)
        let push = try body["push"].map { try RequestParsing.bool($0, field: "push") } ?? false
        if push && !reconciliation.pushes {
            throw APIError.invalid(
                "a \(flow.kind.id) reconciliation has no difference to push: it sends what is missing by itself", field: "push")
        }
        let job = reconciliation.job(flow, UUID().uuidString, push)
        let result = try await store.enqueue([job], now: now())[0]
        var response = Response.json(["job": "\(result.id)", "kind": job.kind, "flow": flow.name, "status": "pending"], status: .accepted)
        response.headers[.location] = "/api/jobs/\(result.id)"
        return response
    }

    private func latest(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let connection = query["connection"].map { ConnectionID(String($0)) }
        let flow = query["flow"].map(String.init)
        let events = try await store.events(
            EventFilter(connection: connection, kind: "reconciliation", subject: flow.map { "flow:\($0)" }, limit: 500))
        var seen = Set<String>()
        var items: [ReconciliationView] = []
        for event in events where seen.insert(event.subject ?? "").inserted { items.append(ReconciliationView(event)) }
        return .json(ReconciliationList(items: items.sorted { $0.flow < $1.flow }))
    }

    struct ReconciliationList: Encodable, Sendable {
        var items: [ReconciliationView]
    }
}
