import Foundation

public struct ShipmentLine: Hashable, Sendable, Codable {
    public var sku: SKU
    public var quantity: Int

    public init(sku: SKU, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }
}

/// Goods leaving (or, for a return, coming back to) the merchant with a carrier.
public struct Shipment: Hashable, Sendable, Codable {
    public var orderID: OrderID
    /// Unique per shipment: the carrier's request number is derived from it, so a retry reuses it.
    public var reference: String
    public var carrier: String
    public var isReturn: Bool
    public var status: ShipmentStatus
    public var trackingNumber: String?
    public var lines: [ShipmentLine]
    public var from: Address?
    public var to: Address
    public var createdAt: Date

    public init(
        orderID: OrderID, reference: String, carrier: String, isReturn: Bool = false, status: ShipmentStatus = .requested,
        trackingNumber: String? = nil, lines: [ShipmentLine], from: Address? = nil, to: Address, createdAt: Date
    ) {
        self.orderID = orderID
        self.reference = reference
        self.carrier = carrier
        self.isReturn = isReturn
        self.status = status
        self.trackingNumber = trackingNumber
        self.lines = lines
        self.from = from
        self.to = to
        self.createdAt = createdAt
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
