import Foundation
import Hummingbird
import KopruCore
import KopruStore

/// `GET /api/reconciliation`: each order flow's latest reconciliation (`reconcile.orders`), from
/// the event it logged: what the source held over the window, what was delivered, what was not
/// (and was queued for export), and target documents bound to more than one order.
struct ReconciliationRoutes: Sendable {
    let store: any Store

    func add(to group: RouterGroup<HubRequestContext>) {
        group.get("reconciliation") { request, _ in try await self.latest(request) }
    }

    struct ReconciliationView: Encodable, Sendable {
        var flow: String
        var connection: String?
        var at: Date
        var since: String?
        var read: Int
        var exportable: Int
        var delivered: Int
        var missing: Int
        var missingOrders: [String]
        var boundTwice: [String: [String]]
        var cutShort: Bool
        var message: String

        init(_ event: EventRecord) {
            let details = event.details
            func count(_ key: String) -> Int { details[key].flatMap(Int.init) ?? 0 }
            flow = details["flow"] ?? String(event.subject?.dropFirst("flow:".count) ?? "")
            connection = event.connection?.rawValue
            at = event.at
            since = details["since"]
            (read, exportable, delivered, missing) = (count("read"), count("exportable"), count("delivered"), count("missing"))
            missingOrders = (details["missingOrders"] ?? "").split(separator: ",").map(String.init)
            var twice: [String: [String]] = [:]
            for pair in (details["boundTwiceDocuments"] ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { twice[String(parts[0])] = parts[1].split(separator: "+").map(String.init) }
            }
            boundTwice = twice
            cutShort = details["cutShort"] == "true"
            message = event.message
        }
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
