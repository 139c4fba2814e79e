import Foundation

/// Where a record came from: the connection and the id (and human number) it has there.
public struct SourceReference: Hashable, Sendable, Codable {
    public var connection: ConnectionID
    public var externalID: String
    /// What the merchant sees, e.g. Magento's increment id "000000123".
    public var externalNumber: String?

    public init(connection: ConnectionID, externalID: String, externalNumber: String? = nil) {
        self.connection = connection
        self.externalID = externalID
        self.externalNumber = externalNumber
    }
}

/// One line of an order. `unitPrice` includes VAT, as every channel we connect shows it;
/// `discount` is the line's total discount, VAT included.
public struct OrderLine: Hashable, Sendable, Codable {
    public var sku: SKU
    public var name: String
    public var quantity: Int
    public var unitPrice: Money
    public var discount: Money
    public var vatRatePercent: Decimal
    /// Per unit, in kg, where the channel knows it (Magento's item `weight`); carriers want it.
    public var unitWeightKg: Decimal?
    /// What the channel charges for the row minus unitPrice × quantity − discount: the kuruş a
    /// channel that rounds tax and discount per row leaves. At most `Order.roundingTolerance`
    /// (see `Order.reconcilingRounding`); zero for a channel whose rows add up.
    public var roundingAdjustment: Money

    public init(
        sku: SKU, name: String, quantity: Int, unitPrice: Money, discount: Money? = nil, vatRatePercent: Decimal = 20,
        unitWeightKg: Decimal? = nil, roundingAdjustment: Money? = nil
    ) {
        self.unitWeightKg = unitWeightKg
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.discount = discount ?? .zero(unitPrice.currency)
        self.vatRatePercent = vatRatePercent
        self.roundingAdjustment = roundingAdjustment ?? .zero(unitPrice.currency)
    }

    /// unitPrice × quantity − discount + roundingAdjustment: what the customer pays for the row.
    public var total: Money {
        Money(unitPrice.amount * Decimal(quantity) - discount.amount + roundingAdjustment.amount, unitPrice.currency)
    }
}

/// An order in the hub's own terms, whichever channel it came from.
public struct Order: Hashable, Sendable, Codable {
    public var id: OrderID
    public var source: SourceReference
    public var status: OrderStatus
    public var placedAt: Date
    public var updatedAt: Date
    public var currency: Currency
    public var customer: Customer
    public var billingAddress: Address
    public var shippingAddress: Address
    public var lines: [OrderLine]
    /// What the customer pays for shipping, VAT included, after any shipping discount.
    public var shippingCost: Money
    /// The discount on shipping, VAT included, already taken off `shippingCost`; kept so that a
    /// target can show the gross shipping charge. Not subtracted again anywhere.
    public var shippingDiscount: Money
    /// Order-level discount not already in the lines.
    public var discount: Money
    /// What the customer pays; must equal lines (with their rounding adjustments) + shipping − discount.
    public var grandTotal: Money
    public var paymentMethod: String?
    public var note: String?

    public init(
        id: OrderID, source: SourceReference, status: OrderStatus, placedAt: Date, updatedAt: Date? = nil,
        currency: Currency, customer: Customer, billingAddress: Address, shippingAddress: Address,
        lines: [OrderLine], shippingCost: Money? = nil, shippingDiscount: Money? = nil, discount: Money? = nil,
        grandTotal: Money, paymentMethod: String? = nil, note: String? = nil
    ) {
        self.id = id
        self.source = source
        self.status = status
        self.placedAt = placedAt
        self.updatedAt = updatedAt ?? placedAt
        self.currency = currency
        self.customer = customer
        self.billingAddress = billingAddress
        self.shippingAddress = shippingAddress
        self.lines = lines
        self.shippingCost = shippingCost ?? .zero(currency)
        self.shippingDiscount = shippingDiscount ?? .zero(currency)
        self.discount = discount ?? .zero(currency)
        self.grandTotal = grandTotal
        self.paymentMethod = paymentMethod
        self.note = note
    }

    /// Sum of line totals (rounding adjustments included) + shipping − order discount, exact.
    public var computedTotal: Money {
        var amount = shippingCost.amount - discount.amount
        for line in lines { amount += line.total.amount }
        return Money(amount, currency)
    }

    /// Names every field that would make a target refuse this order.
    public func validate() throws(ValidationErrors) {
        var check = Validator()
        check.require(id.rawValue, "id")
        check.require(source.externalID, "source.externalID")
        check.merge(billingAddress.validate(prefix: "billingAddress"))
        check.merge(shippingAddress.validate(prefix: "shippingAddress"))
        if lines.isEmpty { check.fail("lines", .required, "needs at least one line") }
        for (index, line) in lines.enumerated() {
            var item = Validator(prefix: "lines[\(index)]")
            item.require(line.sku.rawValue, "sku")
            item.requirePositive(line.quantity, "quantity")
            if line.unitPrice.isNegative { item.fail("unitPrice", .nonNegative, "must not be negative") }
            for (field, money) in [
                ("unitPrice", line.unitPrice), ("discount", line.discount), ("roundingAdjustment", line.roundingAdjustment),
            ]
            where money.currency != currency {
                item.fail(field, .currency, "is in \(money.currency) but the order is in \(currency)")
            }
            if abs(line.roundingAdjustment.amount) > Self.roundingTolerance(currency) {
                item.fail(
                    "roundingAdjustment", .totals,
                    "is \(line.roundingAdjustment), more than the \(Self.roundingTolerance(currency).plainString) a row's rounding can leave")
            }
            check.merge(item)
        }
        for (field, money) in [
            ("shippingCost", shippingCost), ("shippingDiscount", shippingDiscount), ("discount", discount), ("grandTotal", grandTotal),
        ]
        where money.currency != currency {
            check.fail(field, .currency, "is in \(money.currency) but the order is in \(currency)")
        }
        if check.errors.isEmpty, computedTotal.amount != grandTotal.amount {
            check.fail(
                "grandTotal", .totals,
                "is \(grandTotal) but lines + shipping − discount come to \(computedTotal), more than rounding (at most "
                    + "\(Self.roundingTolerance(currency).plainString) per line) explains")
        }
        try check.check()
    }
}

// Orders travel inside stored job payloads: a payload written before a field existed must
// still decode, so the newer fields are optional on the way in.

extension OrderLine {
    private enum CodingKeys: String, CodingKey {
        case sku, name, quantity, unitPrice, discount, vatRatePercent, unitWeightKg, roundingAdjustment
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            sku: try c.decode(SKU.self, forKey: .sku), name: try c.decode(String.self, forKey: .name),
            quantity: try c.decode(Int.self, forKey: .quantity), unitPrice: try c.decode(Money.self, forKey: .unitPrice),
            discount: try c.decode(Money.self, forKey: .discount), vatRatePercent: try c.decode(Decimal.self, forKey: .vatRatePercent),
            unitWeightKg: try c.decodeIfPresent(Decimal.self, forKey: .unitWeightKg),
            roundingAdjustment: try c.decodeIfPresent(Money.self, forKey: .roundingAdjustment))
    }
}

extension Order {
    private enum CodingKeys: String, CodingKey {
        case id, source, status, placedAt, updatedAt, currency, customer, billingAddress, shippingAddress, lines
        case shippingCost, shippingDiscount, discount, grandTotal, paymentMethod, note
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(OrderID.self, forKey: .id), source: try c.decode(SourceReference.self, forKey: .source),
            status: try c.decode(OrderStatus.self, forKey: .status), placedAt: try c.decode(Date.self, forKey: .placedAt),
            updatedAt: try c.decode(Date.self, forKey: .updatedAt), currency: try c.decode(Currency.self, forKey: .currency),
            customer: try c.decode(Customer.self, forKey: .customer), billingAddress: try c.decode(Address.self, forKey: .billingAddress),
            shippingAddress: try c.decode(Address.self, forKey: .shippingAddress), lines: try c.decode([OrderLine].self, forKey: .lines),
            shippingCost: try c.decode(Money.self, forKey: .shippingCost),
            shippingDiscount: try c.decodeIfPresent(Money.self, forKey: .shippingDiscount),
            discount: try c.decode(Money.self, forKey: .discount), grandTotal: try c.decode(Money.self, forKey: .grandTotal),
            paymentMethod: try c.decodeIfPresent(String.self, forKey: .paymentMethod), note: try c.decodeIfPresent(String.self, forKey: .note))
    }
}
