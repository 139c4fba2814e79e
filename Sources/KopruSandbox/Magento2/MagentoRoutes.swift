import Crypto
import Foundation
import KopruCore

/// The REST routes of the simulated store. Every route is served with and without a store code
/// (`/rest/V1/...`, `/rest/default/V1/...`); every call but the token route needs auth.
struct MagentoRoutes: Sendable {
    let state: MagentoStateBox
    let now: @Sendable () -> Date

    func register(on router: inout SandboxRouter) {
        func both(_ method: String, _ path: String, _ name: String, auth: Bool = true, _ handler: @escaping @Sendable (SandboxRequest) -> SandboxResponse) {
            let guarded: SandboxRouter.Handler = { request in
                if auth, let refusal = state.withLock({ MagentoAuth.refusal(request, state: &$0, now: now()) }) { return refusal }
                if let store = request.parameters["store"], !["default", "all"].contains(store) {
                    return .json(400, ["message": "The store that was requested wasn't found. Verify the store and try again."])
                }
                return handler(request)
            }
            router.add(method, "/rest" + path, name: name, guarded)
            router.add(method, "/rest/:store" + path, name: name, guarded)
        }
        both("POST", "/V1/integration/admin/token", "admin.token", auth: false, adminToken)
        both("GET", "/V1/orders", "orders.list", listOrders)
        both("GET", "/V1/orders/:id", "orders.get", getOrder)
        both("POST", "/V1/orders/:id/comments", "orders.comment", comment)
        both("POST", "/V1/order/:id/ship", "orders.ship", ship)
        both("GET", "/V1/shipments", "shipments.list", listShipments)
        both("POST", "/V1/inventory/source-items", "stock.source-items", sourceItems)
        both("POST", "/async/bulk/V1/inventory/source-items", "stock.bulk", bulkSourceItems)
        both("GET", "/V1/bulk/:uuid/detailed-status", "bulk.status", bulkStatus)
        both("PUT", "/V1/products/:sku/stockItems/:itemId", "stock.legacy", legacyStockItem)
        both("GET", "/V1/customers/search", "customers.search", searchCustomers)
        both("POST", "/V1/products/base-prices", "prices.base", basePrices)
    }

    static func error(_ status: Int, _ message: String, _ parameters: [String] = []) -> SandboxResponse {
        var body: [String: JSON] = ["message": .string(message)]
        if !parameters.isEmpty { body["parameters"] = .array(parameters.map { .string($0) }) }
        return .json(status, .object(body))
    }

    // MARK: Auth

    func adminToken(_ request: SandboxRequest) -> SandboxResponse {
        guard let body = request.json, let username = body["username"]?.string, let password = body["password"]?.string else {
            return Self.error(400, "One or more input exceptions have occurred.")
        }
        return state.withLock { state in
            guard username == state.credentials.adminUsername, password == state.credentials.adminPassword else {
                return Self.error(
                    401, "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.")
            }
            let token = SHA256.hash(data: Data("\(username):\(UUID())".utf8)).hexString
            state.adminTokens[token] = now()
            return .json(200, .string(token))
        }
    }

    // MARK: Orders

    static let orderFields: Set<String> = ["entity_id", "increment_id", "state", "status", "created_at", "updated_at", "customer_email"]

    func listOrders(_ request: SandboxRequest) -> SandboxResponse {
        let criteria: SearchCriteria
        do {
            criteria = try SearchCriteria(
                query: request.queryItems, allowedFields: Self.orderFields, maxPageSize: state.withLock { $0.settings.maxPageSize })
        } catch { return Self.error(400, error.message) }
        for filter in criteria.groups.joined() where ["updated_at", "created_at"].contains(filter.field) {
            guard MagentoTime.isValid(filter.value) || ["null", "notnull", "in", "nin"].contains(filter.condition) else {
                return Self.error(400, "Invalid date \"\(filter.value)\": use YYYY-MM-DD HH:MM:SS (UTC)")
            }
        }
        let (records, defaultSize) = state.withLock { state in
            (state.orders.values.filter(\.committed).map { Self.render($0) }, state.settings.defaultPageSize)
        }
        let (items, total) = criteria.apply(to: records, defaultPageSize: defaultSize)
        return .json(200, ["items": .array(items.map { .object($0) }), "total_count": JSON(total), "search_criteria": [:]])
    }

    func getOrder(_ request: SandboxRequest) -> SandboxResponse {
        guard let id = Int(request.parameters["id"] ?? ""),
            let order = state.withLock({ state in state.orders[id].flatMap { $0.committed ? $0 : nil } })
        else { return Self.error(404, "The entity that was requested doesn't exist. Verify the entity and try again.") }
        return .json(200, .object(Self.render(order)))
    }

    static let statusesByState: [String: Set<String>] = [
        "new": ["pending"], "pending_payment": ["pending_payment"], "processing": ["processing", "fraud", "erp_sent"],
        "complete": ["complete"], "closed": ["closed"], "canceled": ["canceled"], "holded": ["holded"],
        "payment_review": ["payment_review", "fraud"],
    ]

    func comment(_ request: SandboxRequest) -> SandboxResponse {
        guard let id = Int(request.parameters["id"] ?? "") else { return Self.error(404, "Request does not match any route.") }
        guard let history = request.json?["statusHistory"], case .object = history else {
            return Self.error(400, "\"statusHistory\" is required. Enter and try again.")
        }
        guard let text = history["comment"]?.string, !text.isEmpty else {
            return Self.error(400, "\"comment\" is required. Enter and try again.")
        }
        let stamp = MagentoTime.format(now())
        return state.withLock { state in
            guard var order = state.orders[id], order.committed else {
                return Self.error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
            }
            let status = history["status"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            if let status, !(Self.statusesByState[order.state]?.contains(status) ?? false) {
                return Self.error(400, "Status \"%1\" is not assigned to the order state \"%2\".", [status, order.state])
            }
            order.histories.append((state.nextHistoryID, text, status, stamp))
            state.nextHistoryID += 1
            if let status { order.status = status }
            order.updatedAt = stamp
            state.orders[id] = order
            return .json(200, true, businessKey: order.incrementID, effect: "commented")
        }
    }

    func ship(_ request: SandboxRequest) -> SandboxResponse {
        guard let id = Int(request.parameters["id"] ?? ""), let body = request.json else {
            return Self.error(400, "One or more input exceptions have occurred.")
        }
        let tracks = body["tracks"]?.array ?? []
        for track in tracks {
            for field in ["track_number", "title", "carrier_code"] where (track[field]?.string ?? "").isEmpty {
                return Self.error(400, "\"%fieldName\" is required. Enter and try again.", [field])
            }
        }
        let stamp = MagentoTime.format(now())
        return state.withLock { state in
            guard var order = state.orders[id], order.committed else {
                return Self.error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
            }
            let open = order.lines.contains { $0.line.quantity > $0.shipped }
            guard open, ["new", "processing"].contains(order.state) else {
                return Self.error(400, "The order does not allow a shipment to be created.")
            }
            var requested: [Int: Int] = [:]
            if let items = body["items"]?.array, !items.isEmpty {
                for item in items {
                    guard let itemID = item["order_item_id"]?.int, let qty = item["qty"]?.int, qty > 0,
                        let line = order.lines.first(where: { $0.itemID == itemID }), line.shipped + qty <= line.line.quantity
                    else { return Self.error(400, "Shipment Document Validation Error(s):\nThe shipment contains an item that is not in the order or exceeds its quantity.") }
                    requested[itemID] = qty
                }
            } else {
                for line in order.lines { requested[line.itemID] = line.line.quantity - line.shipped }
            }
            for index in order.lines.indices { order.lines[index].shipped += requested[order.lines[index].itemID] ?? 0 }
            if order.lines.allSatisfy({ $0.shipped >= $0.line.quantity }) {
                order.state = "complete"
                order.status = "complete"
            }
            if let text = body["comment"]?["comment"]?.string, !text.isEmpty, body["appendComment"]?.bool ?? false {
                order.histories.append((state.nextHistoryID, text, nil, stamp))
                state.nextHistoryID += 1
            }
            order.updatedAt = stamp
            state.orders[id] = order
            let shipmentID = state.shipments.count + 1
            state.shipments.append(
                (shipmentID, id, tracks, requested.map { ["order_item_id": JSON($0.key), "qty": JSON($0.value)] }))
            return .json(200, JSON(shipmentID), businessKey: order.incrementID, effect: "shipped")
        }
    }

    func listShipments(_ request: SandboxRequest) -> SandboxResponse {
        let criteria: SearchCriteria
        do {
            criteria = try SearchCriteria(query: request.queryItems, allowedFields: ["order_id", "entity_id"], maxPageSize: 300)
        } catch { return Self.error(400, error.message) }
        let records = state.withLock { state in
            state.shipments.map { shipment -> [String: JSON] in
                [
                    "entity_id": JSON(shipment.id), "order_id": JSON(shipment.orderID),
                    "tracks": .array(shipment.tracks.map { track in
                        ["order_id": JSON(shipment.orderID), "parent_id": JSON(shipment.id),
                         "track_number": track["track_number"] ?? .null, "title": track["title"] ?? .null,
                         "carrier_code": track["carrier_code"] ?? .null]
                    }),
                    "items": .array(shipment.items),
                ]
            }
        }
        let (items, total) = criteria.apply(to: records, defaultPageSize: 20)
        return .json(200, ["items": .array(items.map { .object($0) }), "total_count": JSON(total)])
    }

    static func render(_ order: MagentoSandbox.Order) -> [String: JSON] {
        var subtotal: Decimal = 0
        let items = order.lines.map { entry -> JSON in
            let line = entry.line
            let row = line.price * Decimal(line.quantity)
            subtotal += row
            var item: [String: JSON] = [
                "item_id": JSON(entry.itemID), "order_id": JSON(order.entityID), "sku": .string(line.sku),
                "name": .string(line.name), "qty_ordered": JSON(line.quantity), "qty_shipped": JSON(entry.shipped),
                "price_incl_tax": .number(line.price), "price": .number(line.price / (1 + line.taxPercent / 100)),
                "tax_percent": .number(line.taxPercent), "discount_amount": 0, "row_total_incl_tax": .number(row),
                "product_type": "simple",
            ]
            if let weight = line.weight { item["weight"] = .number(weight) }
            return .object(item)
        }
        let address = order.address
        let rendered: JSON = [
            "firstname": .string(address.firstName), "lastname": .string(address.lastName), "street": [.string(address.street)],
            "city": .string(address.city), "region": .string(address.region), "postcode": .string(address.postcode),
            "country_id": "TR", "telephone": .string(address.telephone), "vat_id": JSON(address.vatID),
            "address_type": "billing",
        ]
        return [
            "entity_id": JSON(order.entityID), "increment_id": .string(order.incrementID), "state": .string(order.state),
            "status": .string(order.status), "created_at": .string(order.createdAt), "updated_at": .string(order.updatedAt),
            "customer_email": .string(order.email), "customer_firstname": .string(address.firstName),
            "customer_lastname": .string(address.lastName), "order_currency_code": "TRY", "base_currency_code": "TRY",
            "subtotal_incl_tax": .number(subtotal), "shipping_incl_tax": .number(order.shipping),
            "discount_amount": 0, "grand_total": .number(subtotal + order.shipping),
            "base_grand_total": .number(subtotal + order.shipping), "items": .array(items), "billing_address": rendered,
            "payment": ["method": .string(order.paymentMethod)],
            "extension_attributes": [
                "shipping_assignments": [["shipping": ["address": rendered, "method": "flatrate_flatrate"]]]
            ],
            "status_histories": .array(order.histories.reversed().map { history in
                ["entity_id": JSON(history.id), "parent_id": JSON(order.entityID), "comment": .string(history.comment),
                 "status": JSON(history.status), "created_at": .string(history.createdAt)]
            }),
        ]
    }
}
