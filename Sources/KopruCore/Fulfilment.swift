import Foundation

public struct ShipmentLine: Hashable, Sendable, Codable {
    public var sku: SKU
    public var name: String
    public var quantity: Int
    /// Per unit; nil when the channel does not know it (the carrier's rules say what to send then).
    public var unitWeightKg: Decimal?
    /// Per unit, where the source knows the box; else the carrier connection's parcel table decides.
    public var parcel: Parcel?
    public var category: String?

    public init(
        sku: SKU, name: String? = nil, quantity: Int, unitWeightKg: Decimal? = nil, parcel: Parcel? = nil, category: String? = nil
    ) {
        self.sku = sku
        self.name = name ?? sku.rawValue
        self.quantity = quantity
        self.unitWeightKg = unitWeightKg
        self.parcel = parcel
        self.category = category
    }
}

/// Goods leaving the merchant's warehouse for a customer with a carrier or, for a return, coming
/// back from the customer. The warehouse side is usually known to the carrier by a contract code,
/// so only the customer's side is an address here.
public struct Shipment: Hashable, Sendable, Codable {
    public var orderID: OrderID
    /// What the merchant and the customer call the order (Magento's increment id).
    public var orderNumber: String
    /// Unique per shipment and kept across retries and replays: the carrier's request number.
    public var reference: String
    public var carrier: String
    public var isReturn: Bool
    public var status: ShipmentStatus
    public var trackingNumber: String?
    public var lines: [ShipmentLine]
    /// The recipient of an outbound shipment, the sender of a return.
    public var customer: Address
    public var customerName: String
    public var customerEmail: String?
    public var taxNumber: String?
    public var taxOffice: String?
    /// The merchant's side, when the carrier needs it spelled out.
    public var warehouse: Address?
    public var requestedAt: Date
    public var deliverBy: Date?

    public init(
        orderID: OrderID, orderNumber: String, reference: String, carrier: String, isReturn: Bool = false,
        status: ShipmentStatus = .requested, trackingNumber: String? = nil, lines: [ShipmentLine], customer: Address,
        customerName: String? = nil, customerEmail: String? = nil, taxNumber: String? = nil, taxOffice: String? = nil,
        warehouse: Address? = nil, requestedAt: Date, deliverBy: Date? = nil
    ) {
        self.orderID = orderID
        self.orderNumber = orderNumber
        self.reference = reference
        self.carrier = carrier
        self.isReturn = isReturn
        self.status = status
        self.trackingNumber = trackingNumber
        self.lines = lines
        self.customer = customer
        self.customerName = customerName ?? TurkishText.normalizingWhitespace("\(customer.firstName) \(customer.lastName)")
        self.customerEmail = customerEmail
        self.taxNumber = taxNumber
        self.taxOffice = taxOffice
        self.warehouse = warehouse
        self.requestedAt = requestedAt
        self.deliverBy = deliverBy
    }
}

/// A box's size as a carrier bills it: desi (volumetric weight) straight, or from its dimensions.
public enum Parcel: Hashable, Sendable, Codable {
    case desi(Decimal)
    /// Length, width and height in centimetres.
    case dimensions(Decimal, Decimal, Decimal)

    /// Turkish domestic carriers: L × W × H / 3000 (some services 5000), to 3 decimals.
    public func desi(divisor: Decimal = 3000) -> Decimal {
        switch self {
        case .desi(let value): value
        case .dimensions(let l, let w, let h): (l * w * h / divisor).rounded(scale: 3, .halfAwayFromZero)
        }
    }

    /// "8", "8.5", "30x20x40" or "30×20×40" (cm); nil when it is neither.
    public init?(parsing text: String) {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
            .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".") }
        let numbers = parts.compactMap { Decimal(exactly: $0) }
        guard numbers.count == parts.count, numbers.allSatisfy({ $0 > 0 }) else { return nil }
        switch numbers.count {
        case 1: self = .desi(numbers[0])
        case 3: self = .dimensions(numbers[0], numbers[1], numbers[2])
        default: return nil
        }
    }
}

/// The result of a payment attempt at a provider (iyzico, Payfull).
public struct Payment: Hashable, Sendable, Codable {
    public var orderID: OrderID?
    public var provider: String
    public var externalID: String
    public var amount: Money
    public var status: PaymentStatus
    public var installments: Int
    public var occurredAt: Date

    public init(
        orderID: OrderID? = nil, provider: String, externalID: String, amount: Money, status: PaymentStatus,
        installments: Int = 1, occurredAt: Date
    ) {
        self.orderID = orderID
        self.provider = provider
        self.externalID = externalID
        self.amount = amount
        self.status = status
        self.installments = installments
        self.occurredAt = occurredAt
    }
}

public struct InvoiceLine: Hashable, Sendable, Codable {
    public var sku: SKU
    public var name: String
    public var quantity: Int
    /// Net of VAT, per unit.
    public var unitNet: Money
    public var vatRatePercent: Decimal

    public init(sku: SKU, name: String, quantity: Int, unitNet: Money, vatRatePercent: Decimal) {
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.unitNet = unitNet
        self.vatRatePercent = vatRatePercent
    }

    public var net: Money { unitNet * quantity }
    public var vat: Money { net.vat(ratePercent: vatRatePercent) }
}

/// An e-Fatura or e-Arşiv invoice. `uuid` is the ETTN, fixed before the first send so a resend
/// is recognised by the portal.
public struct Invoice: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var uuid: UUID
    public var number: String?
    public var kind: InvoiceKind
    public var status: InvoiceStatus
    public var issuedAt: Date
    public var currency: Currency
    public var customer: Customer
    public var lines: [InvoiceLine]

    public init(
        orderID: OrderID, uuid: UUID, number: String? = nil, kind: InvoiceKind, status: InvoiceStatus = .draft,
        issuedAt: Date, currency: Currency, customer: Customer, lines: [InvoiceLine]
    ) {
        self.orderID = orderID
        self.uuid = uuid
        self.number = number
        self.kind = kind
        self.status = status
        self.issuedAt = issuedAt
        self.currency = currency
        self.customer = customer
        self.lines = lines
    }

    public var netTotal: Money { Money(lines.reduce(Decimal(0)) { $0 + $1.net.amount }, currency) }
    public var vatTotal: Money { Money(lines.reduce(Decimal(0)) { $0 + $1.vat.amount }, currency) }
    public var grandTotal: Money { Money(netTotal.amount + vatTotal.amount, currency) }
}
