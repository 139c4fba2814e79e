import Foundation
import KopruConnectors
import KopruCore

/// Magento's wire shapes ⇄ the hub's values. Prices: `price_incl_tax` is what the customer
/// paid per unit (our `OrderLine.unitPrice` includes VAT); children of configurable products
/// are skipped so each line is counted once: the configurable parent item carries the price,
/// quantity, tax and discount, under the SKU of the simple product chosen (Magento gives the
/// parent its child's SKU). Amounts are read in the order currency (`order_currency_code`),
/// never from the `base_*` twins in the website's currency.
enum Magento2Mapping {
    /// Magento's `YYYY-MM-DD HH:MM:SS`, in UTC (how it stores and compares timestamps).
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func date(_ text: String?, field: String) throws(ConnectorError) -> Date {
        guard let text else { throw .permanent("is missing", field: field) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = text.split(whereSeparator: { "- :T".contains($0) }).compactMap { Int($0) }
        guard parts.count >= 6,
            let date = calendar.date(
                from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5]))
        else { throw .permanent("is not a Magento timestamp: \(text)", field: field) }
        return date
    }

    /// Magento's order *state* (stable; statuses are merchant labels) → ours (spec §6).
    static func status(state: String?) -> OrderStatus {
        switch state {
        case "processing": .accepted
        case "holded", "payment_review": .onHold
        case "complete": .shipped
        case "closed": .refunded
        case "canceled": .cancelled
        default: .pending
        }
    }

    static func money(_ value: JSON?, _ currency: Currency, field: String) throws(ConnectorError) -> Money {
        guard let amount = value?.decimal else { throw .permanent("is missing or not a number", field: field) }
        return Money(amount, currency)
    }

    /// A row's discount with VAT included, as the canonical line carries it. Magento states
    /// `discount_amount` with tax when the store applies discounts to prices including tax (it
    /// then hides the discount's tax in `discount_tax_compensation_amount`), and without tax
    /// otherwise (no hidden tax): that one is grossed up by the row's rate and rounded half away
    /// from zero to the currency's minor units, as Magento rounds. A store taxing before the
    /// discount is not read this way; its rows then miss by more than rounding and are refused.
    static func discount(_ amount: Decimal, hiddenTax: Decimal, taxPercent: Decimal, _ currency: Currency) -> Money {
        guard amount != 0, hiddenTax == 0, taxPercent != 0 else { return Money(amount, currency) }
        return Money(amount * (100 + taxPercent) / 100, currency).rounded(.halfAwayFromZero)
    }

    /// What Magento charges for a row: its grand total is the sum of these and the shipping.
    static func rowCharged(_ item: JSON, _ currency: Currency) -> Money? {
        guard let net = item["row_total"]?.decimal, let tax = item["tax_amount"]?.decimal else { return nil }
        let hidden = item["discount_tax_compensation_amount"]?.decimal ?? 0
        return Money(net + tax + hidden - (item["discount_amount"]?.decimal ?? 0), currency)
    }

    /// What the customer pays for shipping, VAT included, after the shipping discount.
    static func shippingCharged(_ json: JSON, _ currency: Currency) -> Money {
        guard let net = json["shipping_amount"]?.decimal, let tax = json["shipping_tax_amount"]?.decimal else {
            return Money(json["shipping_incl_tax"]?.decimal ?? 0, currency)
        }
        let hidden = json["shipping_discount_tax_compensation_amount"]?.decimal ?? 0
        return Money(net + tax + hidden - (json["shipping_discount_amount"]?.decimal ?? 0), currency)
    }

    /// The shipping discount with VAT included: the gross charge less what is paid.
    static func shippingDiscount(_ json: JSON, _ currency: Currency) -> Money {
        guard let gross = json["shipping_incl_tax"]?.decimal, (json["shipping_discount_amount"]?.decimal ?? 0) != 0 else {
            return .zero(currency)
        }
        return Money(gross - shippingCharged(json, currency).amount, currency)
    }

    static func address(_ json: JSON?, field: String) throws(ConnectorError) -> Address {
        guard let json, case .object = json else { throw .permanent("is missing", field: field) }
        let street = (json["street"]?.array ?? []).compactMap(\.string)
        let region = json["region"]?["region"]?.string ?? json["region"]?.string
        let city = json["city"]?.string ?? ""
        // Turkish stores keep the province in `region` and the district in `city`.
        return Address(
            firstName: json["firstname"]?.string ?? "", lastName: json["lastname"]?.string ?? "",
            company: json["company"]?.string, line1: street.first ?? "", line2: street.count > 1 ? street.dropFirst().joined(separator: " ") : nil,
            district: region == nil ? "" : city, city: region ?? city, postalCode: json["postcode"]?.string,
            countryCode: json["country_id"]?.string ?? "TR", phone: json["telephone"]?.string)
    }

    static func order(_ json: JSON, connection: ConnectionID) throws(ConnectorError) -> FeedItem<Order> {
        guard let entityID = json["entity_id"]?.int else { throw .permanent("is missing", field: "entity_id") }
        guard let number = json["increment_id"]?.string else { throw .permanent("is missing", field: "increment_id") }
        let currency: Currency
        do { currency = try Currency(json["order_currency_code"]?.string ?? "TRY") } catch {
            throw .permanent("is not an ISO currency", field: "order_currency_code")
        }
        var lines: [OrderLine] = []
        var charged: [Money?] = []
        for (index, item) in (json["items"]?.array ?? []).enumerated() where item["parent_item_id"]?.isNull ?? true {
            let field = "items[\(index)]"
            guard let sku = item["sku"]?.string, !sku.isEmpty else { throw .permanent("is missing", field: "\(field).sku") }
            guard let quantity = item["qty_ordered"]?.int else {
                throw .permanent("is not a whole number", field: "\(field).qty_ordered")
            }
            let rate = item["tax_percent"]?.decimal ?? 20
            lines.append(
                OrderLine(
                    sku: SKU(sku), name: item["name"]?.string ?? sku, quantity: quantity,
                    unitPrice: try money(item["price_incl_tax"] ?? item["price"], currency, field: "\(field).price_incl_tax"),
                    discount: discount(
                        item["discount_amount"]?.decimal ?? 0, hiddenTax: item["discount_tax_compensation_amount"]?.decimal ?? 0,
                        taxPercent: rate, currency),
                    vatRatePercent: rate, unitWeightKg: item["weight"]?.decimal.flatMap { $0 > 0 ? $0 : nil }))
            charged.append(rowCharged(item, currency))
        }
        let billing = try address(json["billing_address"], field: "billing_address")
        let shippingJSON = json["extension_attributes"]?["shipping_assignments"]?[0]?["shipping"]?["address"]
        let shipping = shippingJSON.map { (try? address($0, field: "shipping_address")) ?? billing } ?? billing
        let updatedText = json["updated_at"]?.string
        let updated = try date(updatedText, field: "updated_at")
        let order = Order(
            id: OrderID("\(connection.rawValue):\(number)"),
            source: SourceReference(connection: connection, externalID: "\(entityID)", externalNumber: number),
            status: status(state: json["state"]?.string), placedAt: try date(json["created_at"]?.string, field: "created_at"),
            updatedAt: updated, currency: currency,
            customer: Customer(
                email: json["customer_email"]?.string, firstName: json["customer_firstname"]?.string ?? billing.firstName,
                lastName: json["customer_lastname"]?.string ?? billing.lastName, phone: billing.phone),
            billingAddress: billing, shippingAddress: shipping, lines: lines,
            shippingCost: shippingCharged(json, currency), shippingDiscount: shippingDiscount(json, currency),
            grandTotal: try money(json["grand_total"], currency, field: "grand_total"),
            paymentMethod: json["payment"]?["method"]?.string
        ).reconcilingRounding(rowTotals: charged)
        return FeedItem(
            record: order, externalID: "\(entityID)", version: updatedText ?? "",
            position: FeedPosition(updatedAt: updated, id: Int64(entityID)))
    }

    static func customer(_ json: JSON, taxNumber: Magento2Configuration.TaxNumberField) throws(ConnectorError)
        -> FeedItem<CustomerProfile>
    {
        guard let id = json["id"]?.int else { throw .permanent("is missing", field: "id") }
        let addresses = json["addresses"]?.array ?? []
        let primary = addresses.first { $0["default_billing"]?.bool ?? false } ?? addresses.first
        let address = primary.flatMap { try? Self.address($0, field: "addresses[0]") }
        let tax: String? =
            switch taxNumber {
            case .taxvat: json["taxvat"]?.string
            case .addressVatID: primary?["vat_id"]?.string
            case .attribute(let code):
                json["custom_attributes"]?.array?.first { $0["attribute_code"]?.string == code }?["value"]?.string
            }
        let updatedText = json["updated_at"]?.string
        let updated = try date(updatedText, field: "updated_at")
        let customer = Customer(
            id: CustomerID("\(id)"), email: json["email"]?.string, firstName: json["firstname"]?.string ?? "",
            lastName: json["lastname"]?.string ?? "", phone: address?.phone, company: address?.company,
            taxNumber: tax.flatMap { $0.isEmpty ? nil : $0 })
        return FeedItem(
            record: CustomerProfile(customer: customer, address: address), externalID: "\(id)", version: updatedText ?? "",
            position: FeedPosition(updatedAt: updated, id: Int64(id)))
    }

    static func sourceItem(_ level: StockLevel, source: String) -> JSON {
        [
            "sku": .string(level.sku.rawValue), "source_code": .string(source), "quantity": JSON(max(0, level.quantity)),
            "status": level.quantity > 0 ? 1 : 0,
        ]
    }

    /// `searchCriteria` for "after this keyset position": `updated_at ≥ t AND (updated_at > t OR
    /// id > x)` — a disjunction inside a conjunction, which is exactly how Magento combines
    /// filter groups (AND) and filters within a group (OR).
    static func keysetQuery(after position: FeedPosition, idField: String, limit: Int) -> [(String, String)] {
        let t = time(position.updatedAt)
        let f = "searchCriteria[filter_groups]"
        return [
            ("\(f)[0][filters][0][field]", "updated_at"), ("\(f)[0][filters][0][value]", t),
            ("\(f)[0][filters][0][condition_type]", "gteq"),
            ("\(f)[1][filters][0][field]", "updated_at"), ("\(f)[1][filters][0][value]", t),
            ("\(f)[1][filters][0][condition_type]", "gt"),
            ("\(f)[1][filters][1][field]", idField), ("\(f)[1][filters][1][value]", "\(position.id)"),
            ("\(f)[1][filters][1][condition_type]", "gt"),
            ("searchCriteria[sortOrders][0][field]", "updated_at"), ("searchCriteria[sortOrders][0][direction]", "ASC"),
            ("searchCriteria[sortOrders][1][field]", idField), ("searchCriteria[sortOrders][1][direction]", "ASC"),
            ("searchCriteria[pageSize]", "\(limit)"), ("searchCriteria[currentPage]", "1"),
        ]
    }
}
