import Foundation
import HTTPTypes
import Hummingbird
import KopruConnectors
import KopruCore
import KopruEngine
import KopruStore

/// `/api/integrations…`: connections of each connector type, their syncs and their logs.
struct IntegrationRoutes: Sendable {
    let store: any Store
    let directory: ConnectionDirectory
    let now: @Sendable () -> Date
    let flows: FlowCatalog
    let kinds: HubKinds
    let checkConnection: @Sendable (_ connection: Connection, _ probe: Bool) async throws -> [String]

    func add(to group: RouterGroup<HubRequestContext>) {
        group.get("integrations") { _, _ in try await self.list() }
        // The trie cannot hold `:type` and `:id` side by side; the segment is the type here.
        group.post("integrations/:id/config") { request, context in try await self.configure(request, context) }
        group.get("integrations/:id") { _, context in try await self.show(context) }
        group.delete("integrations/:id") { _, context in try await self.delete(context) }
        group.post("integrations/:id/sync") { request, context in try await self.sync(request, context) }
        group.get("integrations/:id/logs") { request, context in try await self.logs(request, context) }
        group.post("integrations/:id/tracking") { request, context in try await self.tracking(request, context) }
    }

    private func list() async throws -> Response {
        let circuits = try await store.circuits(prefix: "")
        return .json(["integrations": try await store.connections().map { ConnectionView($0, circuits: circuits) }])
    }

    private func connection(_ context: HubRequestContext) async throws -> Connection {
        let id = context.parameters.get("id") ?? ""
        guard RequestParsing.isIdentifier(id), let connection = try await store.connection(ConnectionID(id)) else {
            throw APIError.notFound("no integration \(id.prefix(64))")
        }
        return connection
    }

    private func show(_ context: HubRequestContext) async throws -> Response {
        let connection = try await connection(context)
        return .json(
            ConnectionView(
                connection, warnings: try await warnings(connection, probe: false),
                circuits: try await store.circuits(prefix: "\(connection.id.rawValue):")))
    }

    /// Creates or updates. Takes `{"id", "name", "active", "settings": {}, "secrets": {}}`, and
    /// also the flat shape of the FinAsis document (`{"is_active": true, "api_key": "…"}`):
    /// a flat key whose name says key, token, secret or password is a secret, any other a setting.
    /// Keys given replace; null removes; keys not given are kept.
    private func configure(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let typeID = context.parameters.get("id") ?? ""
        guard let type = kinds.connector(typeID) else {
            throw APIError.notFound(
                "unknown integration type; one of \(kinds.connectors.map(\.id).joined(separator: ", "))", code: "unknown_type")
        }
        let body = try await RequestParsing.jsonObject(request)
        var id = ConnectionID(type.id)
        if let value = body["id"] {
            let text = try RequestParsing.string(value, field: "id", maxLength: 64)
            guard RequestParsing.isIdentifier(text) else {
                throw APIError.invalid("use lowercase letters, digits, '.', '_' and '-' (at most 64)", field: "id")
            }
            id = ConnectionID(text)
        }
        let existing = try await store.connection(id)
        if let existing, existing.type != type.id {
            throw APIError.conflict("integration \(id.rawValue) exists with type \(existing.type)")
        }
        var connection = existing ?? Connection(id: id, type: type.id, name: type.name)
        var settingChanges: [String: String?] = [:]
        var secretChanges: [String: String?] = [:]
        for (key, value) in body {
            switch key {
            case "id": continue
            case "name": connection.name = try RequestParsing.string(value, field: "name")
            case "active", "is_active": connection.paused = !(try RequestParsing.bool(value, field: key))
            case "settings", "secrets":
                guard case .object(let entries) = value else { throw APIError.invalid("must be an object", field: key) }
                for (name, entry) in entries {
                    try Self.checkKey(name, field: "\(key).\(name)")
                    let text = try RequestParsing.scalar(entry, field: "\(key).\(name)")
                    if key == "secrets" {
                        if text?.isEmpty == true { throw APIError.invalid("must not be empty (null removes it)", field: "secrets.\(name)") }
                        secretChanges[name] = .some(text)
                    } else {
                        settingChanges[name] = .some(text)
                    }
                }
            default:
                try Self.checkKey(key, field: key)
                let text = try RequestParsing.scalar(value, field: key)
                if Self.looksSecret(key) { secretChanges[key] = .some(text) } else { settingChanges[key] = .some(text) }
            }
        }
        for (key, value) in settingChanges { connection.settings[key] = value }
        for (key, value) in secretChanges { connection.secrets[key] = value.map(Secret.init) }
        do { try type.validate(settings: connection.settings) } catch {
            throw APIError.invalid(error.message, field: error.field ?? "settings")
        }
        _ = try WebhookSettings(connection: connection, kind: type)
        do { _ = try RetryPolicy.from(settings: connection.settings) } catch {
            throw APIError.invalid(error.message, field: "settings.\(error.field)")
        }
        do { _ = try BreakerPolicy.from(settings: connection.settings) } catch {
            throw APIError.invalid(error.message, field: "settings.\(error.field)")
        }
        do { _ = try ClockSkew.from(settings: connection.settings) } catch {
            throw APIError.invalid(error.message, field: error.field ?? "settings")
        }
        // The configured flows through this connection must still be runnable with it.
        for flow in flows.flows where flow.source == id || flow.target == id {
            let source = flow.source == id ? connection : try await store.connection(flow.source)
            let target = flow.target == id ? connection : try await store.connection(flow.target)
            if let problem = kinds.problem(running: flow.kind, from: source, to: target) {
                throw APIError.invalid("flow \(flow.name): \(problem.message)", field: "id")
            }
        }
        let warnings = try await warnings(connection, probe: true)
        try await store.saveConnection(connection, now: now())
        directory.invalidate()
        return .json(ConnectionView(connection, warnings: warnings), status: existing == nil ? .created : .ok)
    }

    /// The connector's word on the connection. On a save it probes the target: a setting that
    /// cannot work is a 422 naming it; a target that cannot be reached now is saved with a warning.
    private func warnings(_ connection: Connection, probe: Bool) async throws -> [String] {
        do {
            return try await checkConnection(connection, probe)
        } catch let error as ConnectorError where error.disposition == .permanent {
            guard probe else { return [error.description] }
            throw APIError.invalid(error.message, field: error.field ?? "settings")
        } catch let error as ConnectorError {
            return ["could not check the connection with its system: \(error.description)"]
        } catch {
            // Only the error's kind: a transport error's text may carry the URL with its userinfo.
            return ["could not check the connection with its system (\(type(of: error)))"]
        }
    }

    private static func checkKey(_ key: String, field: String) throws {
        guard !key.isEmpty, key.count <= 100, key.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
            throw APIError.invalid("names are letters, digits, '.', '_' or '-', at most 100", field: field)
        }
    }

    private static func looksSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["key", "token", "secret", "password"].contains { lowered.contains($0) }
    }

    private func delete(_ context: HubRequestContext) async throws -> Response {
        let connection = try await connection(context)
        let unfinished = try await store.jobs(JobFilter(statuses: [.pending, .running], connection: connection.id, limit: 1))
        if !unfinished.isEmpty {
            throw APIError.conflict(
                "integration \(connection.id.rawValue) has jobs pending or running; let them finish first", code: "has_unfinished_jobs")
        }
        try await store.deleteConnection(connection.id)
        directory.invalidate()
        return Response(status: .noContent)
    }

    /// Starts a sync now: `{"flow": "orders", "mode": "delta"|"full"}`. A sync of the same flow
    /// already waiting is replaced by this one (one pending per connection and flow).
    private func sync(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let connection = try await connection(context)
        let body = try await RequestParsing.jsonObject(request, optional: true)
        var mode = "delta"
        if let value = body["mode"] {
            mode = try RequestParsing.string(value, field: "mode", maxLength: 10)
            guard mode == "delta" || mode == "full" else { throw APIError.invalid("must be delta or full", field: "mode") }
        }
        if let value = body["full"], try RequestParsing.bool(value, field: "full") { mode = "full" }
        let (id, kind) = try await queueSync(connection, flow: body["flow"], mode: mode, requestedBy: context.notes.tokenName ?? "-")
        var response = Response.json(["job": "\(id)", "kind": kind, "mode": mode, "status": "pending"], status: .accepted)
        response.headers[.location] = "/api/jobs/\(id)"
        return response
    }

    /// Queues a sync of the named flow kind (or the connection's only one), as the API's sync
    /// route and the dashboard's "sync now" do; returns its job and kind.
    func queueSync(_ connection: Connection, flow value: JSON?, mode: String, requestedBy: String) async throws -> (JobID, String) {
        let flow = try await syncableFlow(value, of: connection)
        let payload = try JSONEncoder.kopru.encode(
            ["connection": connection.id.rawValue, "flow": flow.id, "mode": mode, "requestedBy": requestedBy])
        let job = NewJob(
            kind: flow.syncKind, idempotencyKey: "sync:\(connection.id.rawValue):\(flow.id):\(UUID().uuidString)", payload: payload,
            priority: flow.lane.syncPriority, coalescingKey: "sync:\(connection.id.rawValue):\(flow.id)", connection: connection.id)
        return (try await store.enqueue([job], now: now())[0].id, job.kind)
    }

    /// The flow kind a sync names (or the only one this connection feeds), refused unless this
    /// build runs it, a configured flow of that kind takes from this connection, and the
    /// connectors at both ends can serve it: nothing is queued that no handler would run.
    private func syncableFlow(_ value: JSON?, of connection: Connection) async throws -> FlowKind {
        let configured = flows.flows.filter { $0.source == connection.id }
        let names = Set(configured.map(\.kind.id)).sorted()
        let id: String
        if let value {
            id = try RequestParsing.string(value, field: "flow", maxLength: 64)
        } else {
            guard names.count == 1 else {
                throw APIError.invalid(
                    names.isEmpty
                        ? "no flow takes records from \(connection.id); configure one (flows: in the configuration file)"
                        : "name the flow to sync: one of \(names.joined(separator: ", "))",
                    field: "flow")
            }
            id = names[0]
        }
        guard let flow = kinds.flow(id) else {
            throw APIError.invalid(
                "\(id) is not a flow kind this build runs (one of \(kinds.flows.map(\.id).joined(separator: ", ")))", field: "flow")
        }
        guard let kind = kinds.connector(connection.type) else {
            throw APIError.invalid("this build has no connector for type \(connection.type)", field: "flow")
        }
        if let missing = flow.missing(on: kind, as: .source) { throw APIError.invalid(missing, field: "flow") }
        guard names.contains(flow.id) else {
            throw APIError.invalid(
                "no \(flow.id) flow takes records from \(connection.id); configure one (flows: in the configuration file)"
                    + (names.isEmpty ? "" : "; configured here: \(names.joined(separator: ", "))"),
                field: "flow")
        }
        for definition in configured where definition.kind == flow {
            let target = try await store.connection(definition.target)
            guard let target else {
                throw APIError.invalid("flow \(definition.name) sends to \(definition.target), which is not configured", field: "flow")
            }
            if let problem = kinds.problem(running: flow, from: nil, to: target) {
                throw APIError.invalid("flow \(definition.name): \(problem.message)", field: "flow")
            }
        }
        return flow
    }

    /// A tracking number typed by an operator (the carrier's list was late, or the parcel went
    /// another way): `{"order": "000000123", "trackingNumber": "…", "carrier": "Horoz Lojistik"}`
    /// on the channel connection. It becomes the order's channel shipment through the same job
    /// the carrier's tracking poll uses, under the same key, so the order gets one shipment
    /// whichever comes first; the poll for that order stops.
    private func tracking(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let connection = try await connection(context)
        let body = try await RequestParsing.jsonObject(request)
        let number = try RequestParsing.string(body["order"] ?? .null, field: "order", maxLength: 64)
        let tracking = try RequestParsing.string(body["trackingNumber"] ?? .null, field: "trackingNumber", maxLength: 64)
        guard !number.isEmpty else { throw APIError.invalid("is required: the order number the customer sees", field: "order") }
        guard !tracking.isEmpty, tracking.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw APIError.invalid("is required: letters, digits and '-'", field: "trackingNumber")
        }
        guard let flow = flows.flows.first(where: { $0.kind == .shipping && $0.source == connection.id }) else {
            throw APIError.invalid("no shipping flow takes orders from \(connection.id)", field: "id")
        }
        // Unset: the carrier connection's own title (its `carrierTitle` setting, else its kind's
        // name), read here so a paused or broken carrier connection cannot hold the shipment up.
        let carrier = try await store.connection(flow.target)
        var carrierTitle = carrier.flatMap { $0.settings["carrierTitle"] ?? kinds.connector($0.type)?.name } ?? flow.target.rawValue
        if let value = body["carrier"] { carrierTitle = try RequestParsing.string(value, field: "carrier", maxLength: 64) }
        guard let order = try await store.binding(connection: connection.id, entity: "order", internalID: "\(connection.id.rawValue):\(number)")
        else { throw APIError.notFound("no order \(number.prefix(64)) is known on \(connection.id)") }
        let payload = ShipmentCreateJob.Payload(
            flow: flow.name, orderExternalID: order.externalID,
            notice: ShippedNotice(orderReference: number, carrier: carrierTitle, trackingNumber: tracking, shippedAt: now()),
            channel: connection.id, carrier: flow.target, carrierReference: number)
        let result = try await store.enqueue([try ShipmentCreateJob.trackingJob(payload, channel: connection.id)], now: now())[0]
        guard result.inserted else {
            throw APIError.conflict("order \(number) already has a tracking number recorded or queued (job \(result.id))")
        }
        var response = Response.json(["job": "\(result.id)", "kind": ShipmentCreateJob.kind, "status": "pending"], status: .accepted)
        response.headers[.location] = "/api/jobs/\(result.id)"
        return response
    }

    private func logs(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let connection = try await connection(context)
        let query = request.uri.queryParameters
        var filter = EventFilter(connection: connection.id)
        if let level = query["level"].map(String.init) {
            guard let parsed = EventLevel(rawValue: level) else {
                throw APIError.badRequest(
                    "must be one of \(EventLevel.allCases.map(\.rawValue).joined(separator: ", "))", field: "level", code: "invalid_query")
            }
            filter.minimumLevel = parsed
        }
        filter.kind = query["kind"].map(String.init)
        filter.from = try RequestParsing.date(query["from"].map(String.init), field: "from")
        filter.to = try RequestParsing.date(query["to"].map(String.init), field: "to")
        filter.beforeID = try RequestParsing.int(query["cursor"].map(String.init), field: "cursor", range: 1...Int.max).map(Int64.init)
        filter.limit = try RequestParsing.int(query["limit"].map(String.init), field: "limit", range: 1...500) ?? 100
        let events = try await store.events(filter)
        let next = events.count == filter.limit ? events.last?.id.map { "\($0)" } : nil
        return .json(Page(items: events.map(EventView.init), nextCursor: next))
    }
}
