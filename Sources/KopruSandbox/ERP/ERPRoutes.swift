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

    // MARK: Orders

    func createOrder(_ request: SandboxRequest) -> SandboxResponse {
        guard let body = request.json, case .object = body else {
            return Self.error(400, "INVALID_JSON", "body must be a JSON object")
        }
        guard let orderID = body["order_id"]?.string, !orderID.isEmpty else {
            return Self.error(422, "REQUIRED", "order_id is required", field: "order_id")
        }
        guard let email = body["customer_email"]?.string, email.contains("@") else {
            return Self.error(422, "INVALID", "customer_email must be an e-mail address", field: "customer_email")
        }
        guard let total = body["total"]?.decimal else {
            return Self.error(422, "REQUIRED", "total must be a number", field: "total")
        }
        guard let items = body["items"]?.array, !items.isEmpty else {
            return Self.error(422, "REQUIRED", "items must be a non-empty list", field: "items")
        }
        let key = request.header("idempotency-key")
        return state.withLock { state in
            var sum = body["shipping"]?.decimal ?? 0
            for (index, item) in items.enumerated() {
                guard let code = item["sku"]?.string, !code.isEmpty else {
                    return Self.error(422, "REQUIRED", "items[\(index)].sku is required", field: "items[\(index)].sku")
                }
                guard state.stock[code] != nil else {
                    return Self.error(
                        422, "UNKNOWN_PRODUCT", "Unknown product code '\(code)'", field: "items[\(index)].sku"
                    ).keyed(orderID, effect: "refused")
                }
                guard case .number(let qty) = item["qty"], qty > 0, qty == qty.rounded(scale: 0, .halfEven) else {
                    return Self.error(422, "INVALID", "items[\(index)].qty must be a positive whole number", field: "items[\(index)].qty")
                }
                guard let price = item["price"]?.decimal, price >= 0 else {
                    return Self.error(422, "INVALID", "items[\(index)].price must be a number ≥ 0", field: "items[\(index)].price")
                }
                sum += qty * price
            }
            guard abs((sum - total) as Decimal) <= Decimal(string: "0.01")! else {
                return Self.error(
                    422, "TOTAL_MISMATCH", "total \(total) does not match items + shipping \(sum)", field: "total")
            }
            if state.settings.honoursIdempotencyKey, let key, let existing = state.idempotency[key] {
                return .json(409, ["error": ["code": "DUPLICATE", "message": "already received"], "id": .string(existing)])
                    .keyed(orderID, effect: "duplicate")
            }
            let number = String(format: "SO-%06d", state.orders.count + 1)
            state.orders.append(ERPSandbox.CreatedOrder(documentNumber: number, orderID: orderID, body: body))
            if let key { state.idempotency[key] = number }
            return .json(201, ["id": .string(number), "order_id": .string(orderID), "status": "open"])
                .keyed(orderID, effect: "created")
        }
    }

    func getOrder(_ request: SandboxRequest) -> SandboxResponse {
        let orderID = request.parameters["orderID"] ?? ""
        guard let found = state.withLock({ $0.orders.first { $0.orderID == orderID } }) else {
            return Self.error(404, "NOT_FOUND", "no order \(orderID)")
        }
        return .json(200, ["id": .string(found.documentNumber), "order_id": .string(orderID), "status": "open"])
    }

    // MARK: Stock

    /// The whole list, or one page with `?page=&page_size=` (1-based; an empty list past the end).
    func listStocks(_ request: SandboxRequest) -> SandboxResponse {
        let (stock, codes, maxPage) = state.withLock { state in
            if state.sortedCodes == nil { state.sortedCodes = state.stock.keys.sorted() }
            return (state.stock, state.sortedCodes!, state.settings.maxPageSize)
        }
        guard let page = Self.page(of: codes, request, maxPage: maxPage) else {
            return Self.error(400, "INVALID", "page must be ≥ 1 and page_size 1…\(maxPage)")
        }
        let rows = page.map { code -> JSON in ["sku": .string(code), "qty": JSON(stock[code]!)] }
        var headers = ["x-total-count": "\(codes.count)"]
        var response = SandboxResponse.json(200, .array(rows))
        headers["content-type"] = "application/json"
        response.headers = headers
        return response
    }

    /// Köprü's proposal beside `stocks`: `[{"sku","price","currency"}]`, paged the same way.
    func listPrices(_ request: SandboxRequest) -> SandboxResponse {
        let (prices, maxPage) = state.withLock { ($0.prices, $0.settings.maxPageSize) }
        let codes = prices.keys.sorted()
        guard let page = Self.page(of: codes, request, maxPage: maxPage) else {
            return Self.error(400, "INVALID", "page must be ≥ 1 and page_size 1…\(maxPage)")
        }
        return .json(200, .array(page.map { ["sku": .string($0), "price": JSON(prices[$0]!), "currency": "TRY"] }))
    }

    /// The whole list, or the page `?page=&page_size=` asks for (1-based; empty past the end);
    /// nil when the parameters are out of range.
    static func page(of codes: [String], _ request: SandboxRequest, maxPage: Int) -> ArraySlice<String>? {
        guard request.query("page") != nil || request.query("page_size") != nil else { return codes[...] }
        guard let number = Int(request.query("page") ?? "1"), number >= 1,
            let size = Int(request.query("page_size") ?? "100"), (1...maxPage).contains(size)
        else { return nil }
        let start = min((number - 1) * size, codes.count)
        return codes[start..<min(start + size, codes.count)]
    }

    // MARK: Customers

    func createCustomer(_ request: SandboxRequest) -> SandboxResponse {
        guard let body = request.json, case .object = body else {
            return Self.error(400, "INVALID_JSON", "body must be a JSON object")
        }
        guard let customerID = body["customer_id"]?.string, !customerID.isEmpty else {
            return Self.error(422, "REQUIRED", "customer_id is required", field: "customer_id")
        }
        guard let email = body["email"]?.string, email.contains("@") else {
            return Self.error(422, "INVALID", "email must be an e-mail address", field: "email")
        }
        guard let name = body["name"]?.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Self.error(422, "REQUIRED", "name is required", field: "name")
        }
        if let taxID = body["tax_id"]?.string, !taxID.isEmpty {
            guard taxID.allSatisfy(\.isASCIIDigit), [10, 11].contains(taxID.count) else {
                return Self.error(422, "INVALID", "tax_id must be a 10-digit VKN or an 11-digit TCKN", field: "tax_id")
            }
        }
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
