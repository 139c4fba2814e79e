import Foundation
import KopruCore
import Testing

/// The reconciliation rule: a row's rounding (at most one minor unit per line) is recorded on
/// the row and the order is accepted; a larger gap is not rounding and is refused by name.
@Suite("Order rounding")
struct OrderRoundingTests {
    static func try_(_ text: String) -> Money { Money(text, .TRY)! }

    /// Three rows as Magento rounds them: tax, discount and the discount's tax each to a kuruş,
    /// so the store charges 0.01 less than Σ (unit × qty − discount) + shipping.
    static func kurusOrder(grandTotal: String = "356.87") -> Order {
        Order(
            id: "shop:000100001", source: SourceReference(connection: "shop", externalID: "1", externalNumber: "000100001"),
            status: .accepted, placedAt: Date(timeIntervalSince1970: 1_790_000_000), currency: .TRY,
            customer: Customer(email: "ayse@example.com", firstName: "Ayşe", lastName: "Yılmaz"),
            billingAddress: OrderTests.address(), shippingAddress: OrderTests.address(),
            lines: [
                OrderLine(sku: "A", name: "A", quantity: 3, unitPrice: try_("33.33"), discount: try_("10.00")),
                OrderLine(sku: "B", name: "B", quantity: 1, unitPrice: try_("149.90"), discount: try_("14.99")),
                OrderLine(sku: "C", name: "C", quantity: 2, unitPrice: try_("49.99"), discount: try_("10.00")),
            ],
            shippingCost: try_("42.00"), grandTotal: try_(grandTotal))
    }

    @Test("the kuruş Magento leaves between Σ lines and the grand total is absorbed on the row it arose in")
    func kurus() throws {
        let order = Self.kurusOrder()
        #expect(order.computedTotal == Self.try_("356.88"))
        #expect(throws: ValidationErrors.self) { try order.validate() }
        // The store says the second row was charged 134.90, not 134.91.
        let reconciled = order.reconcilingRounding(rowTotals: [Self.try_("89.99"), Self.try_("134.90"), nil])
        try reconciled.validate()
        #expect(reconciled.lines.map(\.roundingAdjustment) == [.zero(.TRY), Self.try_("-0.01"), .zero(.TRY)])
        #expect(reconciled.lines[1].total == Self.try_("134.90"))
        #expect(reconciled.computedTotal == reconciled.grandTotal)
    }

    @Test("without row amounts the difference is spread one minor unit per line, first line first")
    func spread() throws {
        let reconciled = Self.kurusOrder(grandTotal: "356.90").reconcilingRounding()
        try reconciled.validate()
        #expect(reconciled.lines.map(\.roundingAdjustment) == [Self.try_("0.01"), Self.try_("0.01"), .zero(.TRY)])
    }

    @Test("a gap of more than one minor unit per line is not rounding: refused, naming grandTotal")
    func brokenOrderRefused() {
        // Three lines allow 0.03 at most; 0.04 short is a missing deduction (a gift card, a fee), not rounding.
        let broken = Self.kurusOrder(grandTotal: "356.84").reconcilingRounding()
        #expect(broken.lines.allSatisfy { $0.roundingAdjustment.isZero })
        let error = #expect(throws: ValidationErrors.self) { try broken.validate() }
        #expect(error?.errors.map(\.field) == ["grandTotal"])
        #expect(error?.errors.first?.rule == .totals)
        // A row the store says it charged two kuruş off is not rounding either, and the gap is
        // not moved onto other rows.
        let rowOff = Self.kurusOrder(grandTotal: "356.86").reconcilingRounding(rowTotals: [Self.try_("89.97")])
        #expect(rowOff.lines.allSatisfy { $0.roundingAdjustment.isZero })
        #expect((try? rowOff.validate()) == nil)
    }

    @Test("an adjustment larger than the rule allows is refused on its line")
    func adjustmentOutOfTolerance() {
        var order = Self.kurusOrder(grandTotal: "356.83")
        order.lines[0].roundingAdjustment = Self.try_("-0.05")
        let error = #expect(throws: ValidationErrors.self) { try order.validate() }
        #expect(error?.errors.map(\.field) == ["lines[0].roundingAdjustment"])
    }

    @Test("the tolerance is one minor unit of the order's currency")
    func tolerance() throws {
        #expect(Order.roundingTolerance(.TRY) == Decimal(string: "0.01")!)
        #expect(Order.roundingTolerance(try Currency("JPY")) == 1)
        #expect(Order.roundingTolerance(try Currency("KWD")) == Decimal(string: "0.001")!)
    }

    @Test("a discounted unit price is rounded to kuruş half away from zero, and the remainder is stated")
    func unitPriceAfterDiscount() {
        let line = OrderLine(sku: "A", name: "A", quantity: 3, unitPrice: Self.try_("33.33"), discount: Self.try_("10.00"))
        #expect(line.total == Self.try_("89.99"))
        // 89.99 / 3 = 29.99666…: never a 38-digit quotient.
        #expect(line.unitPriceAfterDiscount() == Self.try_("30.00"))
        #expect(line.unitPriceRoundingRemainder() == Self.try_("-0.01"))
        #expect(line.unitPriceAfterDiscount(.towardZero) == Self.try_("29.99"))
        #expect(line.unitPriceRoundingRemainder(.towardZero) == Self.try_("0.02"))
    }

    @Test("an order stored before the new fields existed still decodes")
    func decodesOlderPayloads() throws {
        var json = try JSON.parse(JSONEncoder().encode(Self.kurusOrder()))
        guard case .object(var object) = json, case .array(let lines) = object["lines"] else {
            Issue.record("an order encodes as an object")
            return
        }
        object["shippingDiscount"] = nil
        object["lines"] = .array(lines.map { line in
            guard case .object(var fields) = line else { return line }
            fields["roundingAdjustment"] = nil
            return .object(fields)
        })
        json = .object(object)
        #expect(!String(decoding: json.data, as: UTF8.self).contains("roundingAdjustment"))
        let decoded = try JSONDecoder().decode(Order.self, from: json.data)
        #expect(decoded.lines[0].roundingAdjustment == .zero(.TRY))
        #expect(decoded.shippingDiscount == .zero(.TRY))
        #expect(decoded == Self.kurusOrder())
    }
}
