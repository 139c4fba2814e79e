import Foundation
import KopruConnectors
import KopruCore

/// How one REST ERP speaks: endpoints, auth, pagination and field mapping, read from the
/// connection's settings (flat keys; `kopru`'s YAML `connections:` section writes nested maps as
/// these dotted keys). The defaults are seed 000's contract. Every key is in README.md.
public struct RESTERPProfile: Sendable {
    public enum Auth: Sendable {
        case bearer(String)
        case basic(user: String, password: String)
        case header(name: String, value: String)
    }

    /// How a list is read to its end. Real ERPs cap page sizes without a word (Logo lists 25 by
    /// default), so a page shorter than asked never ends a list: the answer's own signals do (a
    /// total, a next link, an empty page).
    public enum Pagination: Sendable {
        /// One request; a next link in the answer is still followed, and a total above the rows
        /// received is an error rather than a silently short list.
        case none
        /// `?page=N&page_size=M`, 1-based, until the total is reached or a page is empty.
        case page(pageParam: String, sizeParam: String, size: Int)
        /// Follow `Link: <…>; rel="next"` (relative links resolved against the request) until absent.
        case link
    }

    public var baseURL: URL
    public var auth: Auth
    public var timeout: Duration
    public var paths: [String: String]
    public var pagination: Pagination
    /// JSON pointer to the stock array in the `stocks` answer ("" = the answer is the array).
    public var stockList: String
    /// JSON pointer to the ERP's document number in create and lookup answers.
    public var referencePointer: String
    public var idempotencyHeader: String?
    /// Whether the ERP answers a repeated key with the first record (or 409): stated, because
    /// most ERPs ignore the header and only the lookup then prevents a double.
    public var idempotencyHonoured: Bool
    public var orderLookup: OrderLookup
    /// Whether the ERP is asked to cancel an order cancelled in the channel after export
    /// (`cancel: post`, to `paths.orderCancel`). Off by default: seed 000's contract has no
    /// cancel call, so an operator cancels by hand, told by a dead letter and a note.
    public var cancelsOrders: Bool
    /// Where the list total is: a response header (`X-Total-Count`) or, when set, a JSON pointer
    /// into the answer (`/meta/total`).
    public var totalHeader: String
    public var totalPointer: String?
    /// Fraction digits of the money the ERP books. The spec (§A) states none, so this is a
    /// setting: `money.decimals`, 2 by default (kuruş).
    public var moneyDecimals: Int
    /// A line whose total does not divide into whole units at `moneyDecimals` (3 × 100/3) is
    /// sent as two lines of the same code a unit of rounding apart, so the lines add up to what
    /// the customer paid; off sends one line at the rounded unit price.
    public var splitsUnevenLines: Bool
    /// Wire field names, by our name: `order.order_id` → "BelgeNo". "-" leaves a field out.
    public var fields: [String: String]
    public var transforms: [String: [FieldTransform]]
    public var skuMap: SKUMap

    public static let defaultPaths = [
        "orders": "orders", "orderLookup": "orders/{order_id}", "orderSearch": "orders?order_id={order_id}",
        "orderCancel": "orders/{reference}/cancel", "stocks": "stocks", "prices": "prices", "customers": "customers",
        "customerLookup": "customers/{customer_id}", "shipments": "shipments",
    ]

    public static let defaultFields = [
        "order.order_id": "order_id", "order.total": "total", "order.customer_email": "customer_email",
        "order.items": "items", "order.shipping": "shipping", "order.currency": "currency", "cancel.reason": "reason",
        "item.sku": "sku", "item.qty": "qty", "item.price": "price",
        "stock.sku": "sku", "stock.qty": "qty", "price.sku": "sku", "price.amount": "price", "price.currency": "currency",
        "customer.customer_id": "customer_id", "customer.email": "email", "customer.name": "name",
        "customer.tax_id": "tax_id", "customer.phone": "phone", "customer.address": "address",
        "shipment.order_id": "order_id", "shipment.status": "status", "shipment.carrier": "carrier",
        "shipment.tracking_number": "tracking_number", "shipment.shipped_at": "shipped_at",
    ]

    public init(settings: [String: String], secrets: [String: Secret]) throws(ConnectorError) {
        func value(_ key: String) -> String? { settings[key].flatMap { $0.isEmpty ? nil : $0 } }
        func secret(_ key: String) -> String? { secrets[key]?.reveal() }
        guard var base = value("baseURL") ?? value("api_endpoint") else {
            throw .permanent("is required: the ERP API's address, e.g. https://erp.example.com/api/v2/", field: "settings.baseURL")
        }
        if !base.hasSuffix("/") { base += "/" }
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? "") else {
            throw .permanent("must be an http(s) URL", field: "settings.baseURL")
        }
        baseURL = url
        switch value("auth") ?? "bearer" {
        case "bearer":
            guard let key = secret("api_key") else { throw .permanent("bearer auth needs api_key", field: "secrets.api_key") }
            auth = .bearer(key)
        case "basic":
            guard let user = value("username"), let password = secret("password") else {
                throw .permanent("basic auth needs settings.username and secrets.password", field: "settings.username")
            }
            auth = .basic(user: user, password: password)
        case "header":
            guard let key = secret("api_key") else { throw .permanent("header auth needs api_key", field: "secrets.api_key") }
            auth = .header(name: value("auth.header") ?? "X-API-Key", value: key)
        default: throw .permanent("must be bearer, basic or header", field: "settings.auth")
        }
        let seconds = value("timeoutSeconds").flatMap(Int.init) ?? 10
        guard (1...300).contains(seconds) else { throw .permanent("must be 1…300", field: "settings.timeoutSeconds") }
        timeout = .seconds(seconds)
        paths = Self.defaultPaths
        fields = Self.defaultFields
        var transforms: [String: [FieldTransform]] = [:]
        var table: [String: String] = [:]
        for (key, text) in settings {
            if key.hasPrefix("paths.") {
                let name = String(key.dropFirst("paths.".count))
                guard Self.defaultPaths[name] != nil else {
                    throw .permanent("is not a known path (known: \(Self.defaultPaths.keys.sorted().joined(separator: ", ")))", field: "settings.\(key)")
                }
                paths[name] = text.hasPrefix("/") ? String(text.dropFirst()) : text
            } else if key.hasPrefix("fields.") {
                let name = String(key.dropFirst("fields.".count))
                guard Self.defaultFields[name] != nil else { throw .permanent("is not a known field", field: "settings.\(key)") }
                fields[name] = text
            } else if key.hasPrefix("transform.") {
                let name = String(key.dropFirst("transform.".count))
                guard Self.defaultFields[name] != nil else { throw .permanent("is not a known field", field: "settings.\(key)") }
                do { transforms[name] = try FieldTransform.chain(text) } catch {
                    throw .permanent(error.message, field: "settings.\(key)")
                }
            } else if key.hasPrefix("skuMap.") {
                table[String(key.dropFirst("skuMap.".count))] = text
            }
        }
        self.transforms = transforms
        skuMap = SKUMap(table)
        switch value("pagination") ?? "none" {
        case "none": pagination = .none
        case "link": pagination = .link
        case "page":
            let size = value("pagination.pageSize").flatMap(Int.init) ?? 500
            guard size > 0 else { throw .permanent("must be positive", field: "settings.pagination.pageSize") }
            pagination = .page(
                pageParam: value("pagination.pageParam") ?? "page", sizeParam: value("pagination.sizeParam") ?? "page_size",
                size: size)
        default: throw .permanent("must be none, page or link", field: "settings.pagination")
        }
        stockList = value("stock.list") ?? ""
        referencePointer = value("response.reference") ?? "/id"
        let header = value("idempotencyHeader") ?? "Idempotency-Key"
        idempotencyHeader = header == "-" ? nil : header
        let delivery = try Self.delivery(value, idempotencyHeader: idempotencyHeader)
        orderLookup = delivery.lookup
        idempotencyHonoured = delivery.idempotencyHonoured
        switch value("cancel") ?? "none" {
        case "none": cancelsOrders = false
        case "post": cancelsOrders = true
        default: throw .permanent("must be none or post", field: "settings.cancel")
        }
        totalHeader = value("pagination.totalHeader") ?? "X-Total-Count"
        totalPointer = value("pagination.total")
        let decimals = value("money.decimals").flatMap(Int.init) ?? 2
        guard (0...4).contains(decimals) else { throw .permanent("must be 0…4", field: "settings.money.decimals") }
        moneyDecimals = decimals
        switch value("money.splitLines") ?? "true" {
        case "true": splitsUnevenLines = true
        case "false": splitsUnevenLines = false
        default: throw .permanent("must be true or false", field: "settings.money.splitLines")
        }
    }

    public func url(_ name: String, replacing values: [String: String] = [:], query: [(String, String)] = []) -> URL {
        var path = paths[name] ?? name
        for (key, value) in values { path = path.replacingOccurrences(of: "{\(key)}", with: PercentEncoding.encode(value)) }
        var text = baseURL.absoluteString + path
        if !query.isEmpty { text += (text.contains("?") ? "&" : "?") + PercentEncoding.query(query) }
        return URL(string: text)!
    }

    /// Puts `value` under the configured wire name of `field`, transformed; "-" leaves it out.
    func set(_ field: String, _ value: JSON, in object: inout [String: JSON]) {
        guard let name = fields[field], name != "-" else { return }
        object[name] = (transforms[field] ?? []).apply(value)
    }

    func get(_ field: String, in object: JSON) -> JSON? { fields[field].flatMap { object[$0] } }
}
