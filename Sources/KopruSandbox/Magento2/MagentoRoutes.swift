import Crypto
import Foundation
import KopruCore

/// The REST routes of the simulated store. Every route is served with and without a store code
/// (`/rest/V1/...`, `/rest/default/V1/...`); every call but the token route needs auth.
struct MagentoRoutes: Sendable {
    let state: MagentoStateBox
    let now: @Sendable () -> Date

    func register(on router: inout SandboxRouter) {
        func both(
            _ method: String, _ path: String, _ name: String, auth: Bool = true, types: MagentoWireTypes.Schema = [:],
            _ handler: @escaping @Sendable (SandboxRequest) -> SandboxResponse
        ) {
            let guarded: SandboxRouter.Handler = { request in
                if auth, let refusal = state.withLock({ MagentoAuth.refusal(request, state: &$0, now: now()) }) { return refusal }
                if let store = request.parameters["store"], !["default", "all"].contains(store) {
                    return .json(400, ["message": "The store that was requested wasn't found. Verify the store and try again."])
                }
                if let refusal = MagentoWireTypes.refusal(request, schema: types) { return refusal }
                return handler(request)
            }
            router.add(method, "/rest" + path, name: name, guarded)
            router.add(method, "/rest/:store" + path, name: name, guarded)
        }
        both("POST", "/V1/integration/admin/token", "admin.token", auth: false, types: MagentoWireTypes.adminToken, adminToken)
        both("GET", "/V1/orders", "orders.list", listOrders)
        both("GET", "/V1/orders/:id", "orders.get", getOrder)
        both("POST", "/V1/orders/:id/comments", "orders.comment", types: MagentoWireTypes.comment, comment)
        both("POST", "/V1/order/:id/ship", "orders.ship", types: MagentoWireTypes.ship, ship)
        both("POST", "/V1/order/:id/invoice", "orders.invoice", types: MagentoWireTypes.invoice, invoice)
        both("GET", "/V1/shipments", "shipments.list", listShipments)
        both("POST", "/V1/inventory/source-items", "stock.source-items", types: MagentoWireTypes.sourceItemRow, sourceItems)
        both("GET", "/V1/inventory/source-items", "stock.source-items.list", listSourceItems)
        both("GET", "/V1/stockItems/:sku", "stock.legacy.get", getLegacyStockItem)
        both("POST", "/async/bulk/V1/inventory/source-items", "stock.bulk", types: MagentoWireTypes.bulkSourceItems, bulkSourceItems)
        both("GET", "/V1/bulk/:uuid/detailed-status", "bulk.status", bulkStatus)
        both("PUT", "/V1/products/:sku/stockItems/:itemId", "stock.legacy", types: MagentoWireTypes.legacyStockItem, legacyStockItem)
        both("GET", "/V1/customers/search", "customers.search", searchCustomers)
        both("POST", "/V1/products/base-prices", "prices.base", types: MagentoWireTypes.basePrices, basePrices)
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
        // The page is chosen on the searchable fields alone, among the rows a lower bound on
        // `updated_at` leaves (the index's range), and only its orders are rendered: rendering
        // or sorting every order for every page made the simulator, not the hub, what a burst of
        // orders measured.
        let (page, total) = state.withLock { state in
            let candidates = state.orders.committed(updatedFrom: criteria.lowerBound(on: "updated_at"))
            return criteria.apply(
                to: candidates, field: Self.searchable, presortedBy: ["updated_at", "entity_id"],
                defaultPageSize: state.settings.defaultPageSize)
        }
        let items = page.map { JSON.object(Self.render($0)) }
        return .json(200, ["items": .array(items), "total_count": JSON(total), "search_criteria": [:]])
    }

    /// One of an order's `orderFields` as `render` shows it.
    static func searchable(_ order: MagentoSandbox.Order, _ field: String) -> JSON? {
        switch field {
        case "entity_id": JSON(order.entityID)
        case "increment_id": .string(order.incrementID)
        case "state": .string(order.state)
        case "status": .string(order.status)
        case "created_at": .string(order.createdAt)
        case "updated_at": .string(order.updatedAt)
        case "customer_email": .string(order.email)
        default: nil
        }
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
            if order.histories.isEmpty { state.commentedOrders += 1 }
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
                    guard let itemID = item["order_item_id"]?.int.map({ Self.topItem($0, in: order) }), let qty = item["qty"]?.int,
                        qty > 0, let line = order.lines.first(where: { $0.itemID == itemID }), line.shipped + qty <= line.line.quantity
                    else { return Self.error(400, "Shipment Document Validation Error(s):\nThe shipment contains an item that is not in the order or exceeds its quantity.") }
                    requested[itemID] = qty
                }
            } else {
                for line in order.lines { requested[line.itemID] = line.line.quantity - line.shipped }
            }
            for index in order.lines.indices { order.lines[index].shipped += requested[order.lines[index].itemID] ?? 0 }
            Self.completeIfDone(&order)
            if let text = body["comment"]?["comment"]?.string, !text.isEmpty, body["appendComment"]?.bool ?? false {
                if order.histories.isEmpty { state.commentedOrders += 1 }
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

    /// A configurable's child stands for its parent: the parent item carries the quantities.
    static func topItem(_ itemID: Int, in order: MagentoSandbox.Order) -> Int {
        order.lines.contains { $0.line.parentName != nil && $0.itemID + 1 == itemID } ? itemID - 1 : itemID
    }

    /// Magento moves an order to `complete` by itself once every item is both invoiced and
    /// shipped; shipped but not invoiced stays `processing`.
    static func completeIfDone(_ order: inout MagentoSandbox.Order) {
        let done = order.lines.allSatisfy { $0.shipped >= $0.line.quantity && $0.invoiced >= $0.line.quantity }
        if done, ["new", "processing"].contains(order.state) {
            order.state = "complete"
            order.status = "complete"
        }
    }

    /// `POST /V1/order/{id}/invoice`: invoices the items asked for, or everything still open.
    /// Not idempotent: a second call for a fully invoiced order is refused.
    func invoice(_ request: SandboxRequest) -> SandboxResponse {
        guard let id = Int(request.parameters["id"] ?? "") else { return Self.error(404, "Request does not match any route.") }
        let body = request.json ?? [:]
        let stamp = MagentoTime.format(now())
        return state.withLock { state in
            guard var order = state.orders[id], order.committed else {
                return Self.error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
            }
            let open = order.lines.contains { $0.line.quantity > $0.invoiced }
            guard open, ["new", "processing"].contains(order.state) else {
                return Self.error(400, "The order does not allow an invoice to be created.")
            }
            var requested: [Int: Int] = [:]
            if let items = body["items"]?.array, !items.isEmpty {
                for item in items {
                    guard let itemID = item["order_item_id"]?.int.map({ Self.topItem($0, in: order) }), let qty = item["qty"]?.int,
                        qty > 0, let line = order.lines.first(where: { $0.itemID == itemID }), line.invoiced + qty <= line.line.quantity
                    else { return Self.error(400, "The invoice contains one or more items that are not part of the original order.") }
                    requested[itemID] = qty
                }
            } else {
                for line in order.lines { requested[line.itemID] = line.line.quantity - line.invoiced }
            }
            for index in order.lines.indices { order.lines[index].invoiced += requested[order.lines[index].itemID] ?? 0 }
            Self.completeIfDone(&order)
            order.updatedAt = stamp
            state.orders[id] = order
            let invoiceID = state.invoices.count + 1
            state.invoices.append((invoiceID, id))
            return .json(200, JSON(invoiceID), businessKey: order.incrementID, effect: "invoiced")
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
        let totals = MagentoSandbox.Totals(order)
        let pricing = order.pricing
        /// An amount and its `base_` twin (converted and rounded on its own, as Magento stores it).
        func amounts(_ fields: [(String, Decimal)], into object: inout [String: JSON]) {
            for (name, value) in fields {
                object[name] = .number(value)
                object["base_" + name] = .number((value * pricing.baseRate).rounded(scale: 2, .halfAwayFromZero))
            }
        }
        var items: [JSON] = []
        for (entry, row) in zip(order.lines, totals.rows) {
            let line = entry.line
            var item: [String: JSON] = [
                "item_id": JSON(entry.itemID), "order_id": JSON(order.entityID), "sku": .string(line.sku),
                "name": .string(line.parentName ?? line.name), "qty_ordered": JSON(line.quantity), "qty_shipped": JSON(entry.shipped),
                "qty_invoiced": JSON(entry.invoiced), "tax_percent": .number(line.taxPercent),
                "discount_percent": .number(pricing.couponPercent), "product_type": line.parentName == nil ? "simple" : "configurable",
                "store_id": JSON(pricing.storeID),
            ]
            amounts(
                [
                    ("price", row.price), ("price_incl_tax", row.priceInclTax), ("original_price", row.priceInclTax),
                    ("row_total", row.rowTotal), ("row_total_incl_tax", row.rowTotalInclTax), ("tax_amount", row.taxAmount),
                    ("discount_amount", row.discountAmount), ("discount_tax_compensation_amount", row.discountTaxCompensation),
                ], into: &item)
            if let weight = line.weight { item["weight"] = .number(weight) }
            items.append(.object(item))
            guard line.parentName != nil else { continue }
            // The chosen simple product: same SKU and quantity, no money of its own.
            var child: [String: JSON] = [
                "item_id": JSON(entry.itemID + 1), "order_id": JSON(order.entityID), "parent_item_id": JSON(entry.itemID),
                "sku": .string(line.sku), "name": .string(line.name), "qty_ordered": JSON(line.quantity),
                "qty_shipped": JSON(entry.shipped), "qty_invoiced": JSON(entry.invoiced), "product_type": "simple",
                "tax_percent": .number(line.taxPercent), "store_id": JSON(pricing.storeID),
                "parent_item": ["item_id": JSON(entry.itemID), "sku": .string(line.sku), "product_type": "configurable"],
            ]
            amounts(
                ["price", "price_incl_tax", "original_price", "row_total", "row_total_incl_tax", "tax_amount", "discount_amount",
                 "discount_tax_compensation_amount"].map { ($0, 0) }, into: &child)
            if let weight = line.weight { child["weight"] = .number(weight) }
            items.append(.object(child))
        }
        let address = order.address
        let rendered: JSON = [
            "firstname": .string(address.firstName), "lastname": .string(address.lastName), "street": [.string(address.street)],
            "city": .string(address.city), "region": .string(address.region), "postcode": .string(address.postcode),
            "country_id": "TR", "telephone": .string(address.telephone), "vat_id": JSON(address.vatID),
            "address_type": "billing",
        ]
        var result: [String: JSON] = [
            "entity_id": JSON(order.entityID), "increment_id": .string(order.incrementID), "state": .string(order.state),
            "status": .string(order.status), "created_at": .string(order.createdAt), "updated_at": .string(order.updatedAt),
            "customer_email": .string(order.email), "customer_firstname": .string(address.firstName),
            "customer_lastname": .string(address.lastName), "store_id": JSON(pricing.storeID),
            "order_currency_code": .string(pricing.currency), "base_currency_code": .string(pricing.baseCurrency),
            "global_currency_code": .string(pricing.baseCurrency), "store_currency_code": .string(pricing.baseCurrency),
            "base_to_order_rate": .number(pricing.baseRate), "coupon_code": JSON(pricing.couponCode),
            "items": .array(items), "billing_address": rendered,
            "payment": ["method": .string(order.paymentMethod)],
            "extension_attributes": [
                "shipping_assignments": [["shipping": ["address": rendered, "method": "flatrate_flatrate"]]]
            ],
            "status_histories": .array(order.histories.reversed().map { history in
                ["entity_id": JSON(history.id), "parent_id": JSON(order.entityID), "comment": .string(history.comment),
                 "status": JSON(history.status), "created_at": .string(history.createdAt)]
            }),
        ]
        let shipping = totals.shipping
        amounts(
            [
                ("subtotal", totals.subtotal), ("subtotal_incl_tax", totals.subtotalInclTax), ("tax_amount", totals.tax),
                ("discount_amount", totals.discount), ("discount_tax_compensation_amount", totals.discountTaxCompensation),
                ("shipping_amount", shipping.rowTotal), ("shipping_incl_tax", shipping.priceInclTax),
                ("shipping_tax_amount", shipping.taxAmount), ("shipping_discount_amount", shipping.discountAmount),
                ("shipping_discount_tax_compensation_amount", shipping.discountTaxCompensation),
                ("grand_total", totals.grandTotal - pricing.giftCardAmount),
            ], into: &result)
        if pricing.giftCardAmount != 0 { amounts([("gift_cards_amount", pricing.giftCardAmount)], into: &result) }
        return result
    }
}
