import Foundation
import KopruCore

struct ERPRoutes: Sendable {
    let state: ERPStateBox

    func register(on router: inout SandboxRouter, basePath: String) {
        let base = basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath
        func route(_ method: String, _ path: String, _ name: String, _ handler: @escaping @Sendable (SandboxRequest) -> SandboxResponse) {
            router.add(method, base + path, name: name) { request in
                if let refusal = authorize(request) { return refusal }
                return handler(request)
            }
        }
        route("POST", "/orders", "orders.create", createOrder)
        route("GET", "/orders/:orderID", "orders.get", getOrder)
        route("GET", "/orders", "orders.search", searchOrders)
        route("POST", "/orders/:documentNumber/cancel", "orders.cancel", cancelOrder)
        route("GET", "/stocks", "stocks.list", listStocks)
        route("GET", "/prices", "prices.list", listPrices)
        route("POST", "/customers", "customers.create", createCustomer)
        route("GET", "/customers/:customerID", "customers.get", getCustomer)
        route("GET", "/shipments", "shipments.list", listShipments)
    }

    static func error(_ status: Int, _ code: String, _ message: String, field: String? = nil) -> SandboxResponse {
        var body: [String: JSON] = ["code": .string(code), "message": .string(message)]
        if let field { body["field"] = .string(field) }
        return .json(status, ["error": .object(body)])
    }

    func authorize(_ request: SandboxRequest) -> SandboxResponse? {
        let auth = state.withLock { $0.settings.auth }
        let ok: Bool =
            switch auth {
            case .bearer(let key): request.header("authorization") == "Bearer \(key)"
            case .basic(let user, let password):
                request.header("authorization") == "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"
            case .header(let name, let value): request.header(name) == value
            }
        return ok ? nil : Self.error(401, "UNAUTHORIZED", "missing or invalid credentials")
    }

    // MARK: Customers

    /// Read strictly by the proposal's types: every field a string (a tax number sent as a number
    /// loses its leading zero, so it is refused, not converted).
    func createCustomer(_ request: SandboxRequest) -> SandboxResponse {
        let customerID: String
        let json: StrictJSON
        do {
            json = try StrictJSON.object(request.body)
            customerID = try json.string("customer_id")
            guard !customerID.isEmpty else { throw json.invalid("customer_id", "is required") }
            guard try json.string("email").contains("@") else { throw json.invalid("email", "must be an e-mail address") }
            guard !(try json.string("name")).trimmingCharacters(in: .whitespaces).isEmpty else { throw json.invalid("name", "is required") }
            if let taxID = try json.optionalString("tax_id"), !taxID.isEmpty {
                guard taxID.allSatisfy(\.isASCIIDigit), [10, 11].contains(taxID.count) else {
                    throw json.invalid("tax_id", "must be a 10-digit VKN or an 11-digit TCKN")
                }
            }
            _ = try json.optionalString("phone")
            _ = try json.optionalString("address")
        } catch { return Self.refusal(error) }
        let body = json.value
        return state.withLock { state in
            if let existing = state.customers[customerID] {
                return .json(409, ["error": ["code": "DUPLICATE", "message": "customer exists"], "id": .string(existing.id)])
                    .keyed(customerID, effect: "duplicate")
            }
            let number = String(format: "C-%05d", state.customers.count + 1)
            state.customers[customerID] = (number, body)
            return .json(201, ["id": .string(number), "customer_id": .string(customerID)]).keyed(customerID, effect: "created")
        }
    }

    func getCustomer(_ request: SandboxRequest) -> SandboxResponse {
        let customerID = request.parameters["customerID"] ?? ""
        guard let found = state.withLock({ $0.customers[customerID] }) else {
            return Self.error(404, "NOT_FOUND", "no customer \(customerID)")
        }
        return .json(200, ["id": .string(found.id), "customer_id": .string(customerID)])
    }

    // MARK: Shipments

    func listShipments(_ request: SandboxRequest) -> SandboxResponse {
        var since = Date.distantPast
        if let text = request.query("since") {
            guard let parsed = try? Date.ISO8601FormatStyle().parse(text) else {
                return Self.error(400, "INVALID", "since must be an ISO 8601 date-time", field: "since")
            }
            since = parsed
        }
        let rows = state.withLock { state in
            state.shipments.filter { $0.at >= since }.map { shipment -> JSON in
                [
                    "order_id": .string(shipment.orderID), "status": "shipped", "carrier": .string(shipment.carrier),
                    "tracking_number": .string(shipment.tracking),
                    "shipped_at": .string(shipment.at.formatted(.iso8601)),
                ]
            }
        }
        return .json(200, .array(rows))
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
