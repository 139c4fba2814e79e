import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient

/// A REST ERP (Logo, Netsis, Mikro behind a REST façade, or a home-grown one) spoken through a
/// `RESTERPProfile`: orders in, stock out, customers in, shipped orders out.
public struct RESTERPConnector: OrderSink, OrderCancelSink, StockSource, PriceSource, CustomerSink, ShipmentFeed {
    public let profile: RESTERPProfile
    let transport: any HTTPTransport

    public init(settings: [String: String], secrets: [String: Secret], transport: any HTTPTransport) throws(ConnectorError) {
        profile = try RESTERPProfile(settings: settings, secrets: secrets)
        self.transport = transport
    }

    // MARK: Wire

    func send(_ method: HTTPRequest.Method, _ url: URL, body: JSON? = nil, idempotencyKey: String? = nil)
        async throws(ConnectorError) -> InboundResponse
    {
        var headers = HTTPFields.json()
        switch profile.auth {
        case .bearer(let key): headers[.authorization] = "Bearer \(key)"
        case .basic(let user, let password):
            headers[.authorization] = "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"
        case .header(let name, let value):
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if let idempotencyKey, let header = profile.idempotencyHeader, let name = HTTPField.Name(header) {
            headers[name] = idempotencyKey
        }
        return try await transport.exchange(
            OutboundRequest(method: method, url: url, headers: headers, body: body?.data ?? Data(), timeout: profile.timeout))
    }

    /// The ERP's own words for a failure: `error.message`, `message`, or the body's start.
    static func message(_ body: Data) -> String {
        if let json = try? JSON.parse(body) {
            if let text = json["error"]?["message"]?.string ?? json["message"]?.string ?? json["error"]?.string { return text }
        }
        return String(decoding: body.prefix(300), as: UTF8.self)
    }

    static func failure(_ response: InboundResponse) -> ConnectorError {
        .http(status: response.status, message: message(response.body), headers: response.headers)
    }

    func reference(in response: InboundResponse) -> String? {
        (try? JSON.parse(response.body))?.at(pointer: profile.referencePointer)?.string
    }

    // MARK: Orders

    func body(for order: Order) throws(ConnectorError) -> JSON {
        var object: [String: JSON] = [:]
        profile.set("order.order_id", .string(order.source.externalNumber ?? order.source.externalID), in: &object)
        // Money as the ERP books it (`money.decimals`), never the 38-digit quotient of a discount.
        let decimals = profile.moneyDecimals
        profile.set("order.total", .number(order.grandTotal.amount.rounded(scale: decimals, .halfAwayFromZero)), in: &object)
        profile.set("order.customer_email", JSON(order.customer.email), in: &object)
        profile.set("order.shipping", .number(order.shippingCost.amount.rounded(scale: decimals, .halfAwayFromZero)), in: &object)
        profile.set("order.currency", .string(order.currency.code), in: &object)
        var items: [JSON] = []
        for line in order.lines {
            for booked in BookableLine.lines(for: line, decimals: decimals, split: profile.splitsUnevenLines) {
                var item: [String: JSON] = [:]
                profile.set("item.sku", .string(profile.skuMap.code(for: line.sku)), in: &item)
                profile.set("item.qty", JSON(booked.quantity), in: &item)
                profile.set("item.price", .number(booked.unitPrice), in: &item)
                items.append(.object(item))
            }
        }
        profile.set("order.items", .array(items), in: &object)
        return .object(object)
    }

    public func createOrder(_ order: Order, idempotencyKey: String) async throws -> String {
        let response = try await send(.post, profile.url("orders"), body: try body(for: order), idempotencyKey: idempotencyKey)
        let number = order.source.externalNumber ?? order.source.externalID
        switch response.status {
        case 200, 201: return reference(in: response) ?? number
        case 409:
            // A compliant ERP's answer to a repeated Idempotency-Key: it has the order.
            throw ConnectorError.alreadyDone("the ERP already has order \(number)", reference: reference(in: response))
        default: throw Self.failure(response)
        }
    }

    public var cancelsOrders: Bool { profile.cancelsOrders }

    public var canBeAsked: Bool { profile.orderLookup != .none }

    /// `POST orders/{reference}/cancel` with the order's number (so a wrong reference cannot
    /// cancel another order) and a reason. 409 is the ERP saying it is cancelled already.
    public func cancelOrder(_ order: Order, reference: String, idempotencyKey: String) async throws {
        let number = order.source.externalNumber ?? order.source.externalID
        var object: [String: JSON] = [:]
        profile.set("order.order_id", .string(number), in: &object)
        profile.set("cancel.reason", .string("cancelled in the sales channel"), in: &object)
        let response = try await send(
            .post, profile.url("orderCancel", replacing: ["reference": reference, "order_id": number]), body: .object(object),
            idempotencyKey: idempotencyKey)
        switch response.status {
        case 200, 201, 204: return
        case 409: throw ConnectorError.alreadyDone("the ERP has document \(reference) cancelled already", reference: reference)
        default: throw Self.failure(response)
        }
    }

    // MARK: Stock and prices

    /// `GET prices` (a Köprü proposal: `[{"sku","price","currency"}]`), paged like `stocks`. A row
    /// without a code or a decimal price is skipped; a row without a currency is in TRY.
    public func prices(after cursor: String?, limit: Int) async throws -> Page<Price> {
        let (rows, next) = try await list("prices", cursor: cursor)
        var prices: [Price] = []
        for row in rows {
            guard let code = profile.get("price.sku", in: row)?.string, let amount = profile.get("price.amount", in: row)?.decimal,
                let currency = try? Currency(profile.get("price.currency", in: row)?.string ?? "TRY")
            else { continue }
            prices.append(Price(sku: profile.skuMap.sku(for: code), amount: Money(amount, currency)))
        }
        return Page(records: prices, next: next)
    }

    /// One page (or the whole list). The cursor is the next page number, or the next link.
    public func stockLevels(after cursor: String?, limit: Int) async throws -> Page<StockLevel> {
        let (rows, next) = try await list("stocks", cursor: cursor)
        let now = Date()
        var levels: [StockLevel] = []
        for row in rows {
            // A row without a code or a whole quantity is skipped here and reported by the flow.
            guard let code = profile.get("stock.sku", in: row)?.string, let quantity = profile.get("stock.qty", in: row)?.int
            else { continue }
            levels.append(StockLevel(sku: profile.skuMap.sku(for: code), quantity: quantity, observedAt: now))
        }
        return Page(records: levels, next: next)
    }

    // MARK: Customers

    public func createCustomer(_ profile: CustomerProfile, reference: String, idempotencyKey: String) async throws -> String {
        var object: [String: JSON] = [:]
        let customer = profile.customer
        self.profile.set("customer.customer_id", .string(reference), in: &object)
        self.profile.set("customer.email", JSON(customer.email), in: &object)
        self.profile.set("customer.name", .string(customer.company ?? customer.fullName), in: &object)
        self.profile.set("customer.tax_id", JSON(customer.taxNumber), in: &object)
        self.profile.set("customer.phone", JSON(customer.phone), in: &object)
        if let address = profile.address {
            let line = [address.line1, address.line2, address.district, address.city].compactMap { $0 }.filter { !$0.isEmpty }
            self.profile.set("customer.address", .string(line.joined(separator: ", ")), in: &object)
        }
        let response = try await send(.post, self.profile.url("customers"), body: .object(object), idempotencyKey: idempotencyKey)
        switch response.status {
        case 200, 201: return self.reference(in: response) ?? reference
        case 409: throw ConnectorError.alreadyDone("the ERP already has customer \(reference)", reference: self.reference(in: response))
        default: throw Self.failure(response)
        }
    }

    public func findCustomer(reference: String) async throws -> String? {
        let response = try await send(.get, profile.url("customerLookup", replacing: ["customer_id": reference]))
        switch response.status {
        case 200: return self.reference(in: response) ?? reference
        case 404: return nil
        default: throw Self.failure(response)
        }
    }

    // MARK: Shipments

    public func shippedOrders(since: Date) async throws -> [ShippedNotice] {
        let response = try await send(.get, profile.url("shipments", query: [("since", since.formatted(.iso8601))]))
        guard response.status == 200 else { throw Self.failure(response) }
        guard let rows = (try? JSON.parse(response.body))?.array else {
            throw ConnectorError.permanent("the shipments answer is not a JSON list")
        }
        return rows.compactMap { row -> ShippedNotice? in
            guard profile.get("shipment.status", in: row)?.string?.lowercased() ?? "shipped" == "shipped",
                let order = profile.get("shipment.order_id", in: row)?.string,
                let tracking = profile.get("shipment.tracking_number", in: row)?.string, !tracking.isEmpty
            else { return nil }
            let at = profile.get("shipment.shipped_at", in: row)?.string.flatMap { try? Date.ISO8601FormatStyle().parse($0) }
            return ShippedNotice(
                orderReference: order, carrier: profile.get("shipment.carrier", in: row)?.string ?? "",
                trackingNumber: tracking, shippedAt: at ?? since)
        }
    }
}

/// An in-house ERP's limit is whatever its owners set: one budget for every call, off unless
/// `rateLimit.default` is set. Orders and stock reads share it; the engine lets orders go first.
extension RESTERPConnector: DeclaresEndpointLimits {
    public static func endpointLimits(settings: [String: String]) throws(ConnectorError) -> EndpointLimits {
        try EndpointLimits(fallback: EndpointClass(name: "default", limit: nil) { _, _ in true }).configured(settings)
    }
}
