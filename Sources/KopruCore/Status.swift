/// Canonical statuses. Every connector maps its platform's statuses onto these and back;
/// the mapping is configuration, these names are not.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    /// Placed but not yet paid or confirmed (bank transfer awaiting, fraud review).
    case pending
    /// Paid or confirmed; to be fulfilled.
    case accepted
    case onHold = "on_hold"
    case shipped
    case delivered
    case cancelled
    case returned
    case refunded
    case partiallyRefunded = "partially_refunded"

    /// No further fulfilment happens in these states.
    public var isFinal: Bool { [.delivered, .cancelled, .returned, .refunded].contains(self) }
}

public enum PaymentStatus: String, Sendable, Codable, CaseIterable {
    case pending, authorized, captured, failed, cancelled, refunded
    case partiallyRefunded = "partially_refunded"
}

public enum ShipmentStatus: String, Sendable, Codable, CaseIterable {
    /// Known to us, not yet accepted by the carrier.
    case requested
    /// The carrier accepted the shipment order.
    case accepted
    case inTransit = "in_transit"
    case delivered
    case returned
    case cancelled
    case failed
}

public enum InvoiceStatus: String, Sendable, Codable, CaseIterable {
    case draft, issued, sent, accepted, rejected, cancelled
}

/// e-Fatura goes to registered taxpayers, e-Arşiv to everyone else (GİB rules).
public enum InvoiceKind: String, Sendable, Codable, CaseIterable {
    case eFatura = "e_fatura"
    case eArsiv = "e_arsiv"
}
