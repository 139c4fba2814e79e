import Foundation
import KopruCore

/// `POST orders` and the two ways of asking for one (`GET orders/{order_id}`, `GET orders?order_id=`).
/// The body is read strictly, by the types of seed 000's example: `order_id` and
/// `customer_email` strings, `total` a number, `items[].qty` a whole number, `items[].price` a
/// number; a quoted number is refused, as a typed ERP refuses it.
extension ERPRoutes {
    /// The record every answer about an order carries.
    static func record(_ order: ERPSandbox.CreatedOrder) -> JSON {
        ["id": .string(order.documentNumber), "order_id": .string(order.orderID), "status": order.cancelled ? "cancelled" : "open"]
    }

    /// `POST orders/{id}/cancel` (a Köprü proposal, as `customers` is): the document by the ERP's
    /// own number, the body naming the order it belongs to so a wrong binding cannot cancel
    /// another order. A second cancel is a 409, as a booking ERP refuses to cancel twice.
    func cancelOrder(_ request: SandboxRequest) -> SandboxResponse {
        let number = request.parameters["documentNumber"] ?? ""
        let orderID: String
        do {
            let body = try StrictJSON.object(request.body)
            orderID = try body.string("order_id")
            guard !orderID.isEmpty else { throw body.invalid("order_id", "is required") }
            if let reason = try body.optionalString("reason"), reason.count > 255 {
                throw body.invalid("reason", "is longer than 255 characters")
            }
        } catch { return Self.refusal(error) }
        return state.withLock { state in
            guard let index = state.orders.firstIndex(where: { $0.documentNumber == number }) else {
                return Self.error(404, "DOCUMENT_NOT_FOUND", "no document \(number)")
            }
            guard state.orders[index].orderID == orderID else {
                return Self.error(422, "ORDER_MISMATCH", "document \(number) belongs to order \(state.orders[index].orderID)", field: "order_id")
                    .keyed(orderID, effect: "refused")
            }
            guard !state.orders[index].cancelled else {
                return Self.error(409, "ALREADY_CANCELLED", "document \(number) is already cancelled").keyed(orderID, effect: "duplicate")
            }
            state.orders[index].cancelled = true
            return .json(200, Self.record(state.orders[index])).keyed(orderID, effect: "cancelled")
        }
    }

    func createOrder(_ request: SandboxRequest) -> SandboxResponse {
        let body: StrictJSON
        do { body = try StrictJSON.object(request.body) } catch { return Self.refusal(error) }
        let key = request.header("idempotency-key")
        let settings = state.withLock { $0.settings }
        if settings.honoursIdempotencyKey && (key ?? "").isEmpty {
            return Self.error(400, "IDEMPOTENCY_KEY_REQUIRED", "the Idempotency-Key header is required on POST", field: "Idempotency-Key")
        }
        let order: (id: String, total: Decimal, items: [(code: String, qty: Int, price: Decimal)], shipping: Decimal)
        do { order = try Self.readOrder(body, decimals: settings.moneyDecimals) } catch { return Self.refusal(error) }
        return state.withLock { state in
            if state.settings.honoursIdempotencyKey, let key, let first = state.idempotency[key] {
                // The key names one request: the same body is a repeat, another body a mistake.
                guard first.body == body.value else {
                    return Self.error(
                        422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key \(key) was used with another body", field: "Idempotency-Key"
                    ).keyed(order.id, effect: "refused")
                }
                let made = state.orders.first { $0.documentNumber == first.documentNumber }!
                switch state.settings.repeatAnswer {
                case .firstRecord: return .json(200, Self.record(made)).keyed(order.id, effect: "repeat")
                case .conflict:
                    return .json(409, ["error": ["code": "DUPLICATE", "message": "already received"], "id": .string(made.documentNumber)])
                        .keyed(order.id, effect: "duplicate")
                }
            }
            var sum = order.shipping
            for (index, item) in order.items.enumerated() {
                guard state.stock[item.code] != nil else {
                    return Self.error(422, "UNKNOWN_PRODUCT", "Unknown product code '\(item.code)'", field: "items[\(index)].sku")
                        .keyed(order.id, effect: "refused")
                }
                sum += Decimal(item.qty) * item.price
            }
            guard abs((sum - order.total) as Decimal) <= Decimal(string: "0.01")! else {
                return Self.error(422, "TOTAL_MISMATCH", "total \(order.total) does not match items + shipping \(sum)", field: "total")
            }
            let made = ERPSandbox.CreatedOrder(
                documentNumber: String(format: "SO-%06d", state.orders.count + 1), orderID: order.id, body: body.value)
            state.orders.append(made)
            if let key { state.idempotency[key] = (made.documentNumber, body.value) }
            return .json(201, Self.record(made)).keyed(order.id, effect: "created")
        }
    }

    /// The order's fields by the seed's types, and the rules a booking ERP applies to each.
    static func readOrder(_ body: StrictJSON, decimals: Int) throws(WireTypeError)
        -> (id: String, total: Decimal, items: [(code: String, qty: Int, price: Decimal)], shipping: Decimal)
    {
        func money(_ value: Decimal, _ owner: StrictJSON, _ key: String) throws(WireTypeError) -> Decimal {
            guard value == value.rounded(scale: decimals, .halfEven) else {
                throw owner.invalid(key, "has more than \(decimals) decimal places (\(value.plainString)); the ERP books \(decimals)")
            }
            return value
        }
        let id = try body.string("order_id")
        guard !id.isEmpty else { throw body.invalid("order_id", "is required") }
        guard try body.string("customer_email").contains("@") else { throw body.invalid("customer_email", "must be an e-mail address") }
        let total = try money(try body.number("total"), body, "total")
        let shipping = try money(try body.optionalNumber("shipping") ?? 0, body, "shipping")
        _ = try body.optionalString("currency")
        let lines = try body.array("items")
        guard !lines.isEmpty else { throw body.invalid("items", "must be a non-empty list") }
        var items: [(code: String, qty: Int, price: Decimal)] = []
        for line in lines {
            guard case .object = line.value else { throw WireTypeError(field: line.path, reason: "must be an object") }
            let code = try line.string("sku")
            guard !code.isEmpty else { throw line.invalid("sku", "is required") }
            let qty = try line.wholeNumber("qty")
            guard qty > 0 else { throw line.invalid("qty", "must be a positive whole number") }
            let price = try money(try line.number("price"), line, "price")
            guard price >= 0 else { throw line.invalid("price", "must be a number ≥ 0") }
            items.append((code, qty, price))
        }
        return (id, total, items, shipping)
    }

    /// `GET orders/{order_id}`, served only in `.record` mode; elsewhere the route does not exist.
    func getOrder(_ request: SandboxRequest) -> SandboxResponse {
        let orderID = request.parameters["orderID"] ?? ""
        let (mode, found) = state.withLock { state in (state.settings.orderLookup, state.orders.first { $0.orderID == orderID }) }
        guard mode == .record else { return ERPSandbox.noSuchEndpoint }
        guard let found else { return Self.error(404, "ORDER_NOT_FOUND", "no order \(orderID)") }
        return .json(200, Self.record(found))
    }

    /// `GET orders?order_id=…`, served only in the search modes.
    func searchOrders(_ request: SandboxRequest) -> SandboxResponse {
        let orderID = request.query("order_id")
        let (mode, orders) = state.withLock { ($0.settings.orderLookup, $0.orders) }
        switch mode {
        case .record, .none: return ERPSandbox.noSuchEndpoint
        case .search:
            guard let orderID else { return Self.error(400, "INVALID", "order_id is required", field: "order_id") }
            return .json(200, .array(orders.filter { $0.orderID == orderID }.map(Self.record)))
        case .searchIgnoringFilter: return .json(200, .array(orders.prefix(20).map(Self.record)))
        }
    }

    /// A strict read's refusal in the ERP's error shape, the field named.
    static func refusal(_ error: any Error) -> SandboxResponse {
        guard let error = error as? WireTypeError else { return Self.error(400, "INVALID", "\(error)") }
        return Self.error(error.status, error.status == 400 && error.field.isEmpty ? "INVALID_JSON" : "INVALID", error.message, field: error.field.isEmpty ? nil : error.field)
    }
}
