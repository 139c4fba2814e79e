import Foundation
import KopruCore
import Testing

@Suite("Canonical order")
struct OrderTests {
    static func address() -> Address {
        Address(firstName: "Ayşe", lastName: "Yılmaz", line1: "Halaskargazi Cad. 1", district: "Şişli", city: "İstanbul")
    }

    static func order(grandTotal: String = "329.80", quantity: Int = 2) -> Order {
        Order(
            id: "order-1", source: SourceReference(connection: "shop", externalID: "1001", externalNumber: "000001001"),
            status: .accepted, placedAt: Date(timeIntervalSince1970: 1_790_000_000), currency: .TRY,
            customer: Customer(email: "ayse@example.com", firstName: "Ayşe", lastName: "Yılmaz"),
            billingAddress: address(), shippingAddress: address(),
            lines: [
                OrderLine(sku: "TSHIRT-M", name: "Tişört", quantity: quantity, unitPrice: Money("149.90", .TRY)!),
                OrderLine(sku: "SOCK", name: "Çorap", quantity: 1, unitPrice: Money("30.00", .TRY)!, discount: Money("10.00", .TRY)!),
            ],
            shippingCost: Money("29.99", .TRY)!, discount: Money("19.99", .TRY)!, grandTotal: Money(grandTotal, .TRY)!)
    }

    @Test("a consistent order validates")
    func valid() throws {
        try Self.order().validate()
        #expect(Self.order().computedTotal == Money("329.80", .TRY)!)
    }

    @Test("totals that do not add up name grandTotal")
    func wrongTotal() {
        let error = #expect(throws: ValidationErrors.self) { try Self.order(grandTotal: "330.00").validate() }
        #expect(error?.errors.map(\.field) == ["grandTotal"])
        #expect(error?.errors.first?.rule == .totals)
    }

    @Test("every bad field is named at once")
    func manyErrors() {
        var order = Self.order(quantity: 0)
        order.shippingAddress.city = " "
        order.lines[1].unitPrice = Money("30.00", .EUR)!
        let error = #expect(throws: ValidationErrors.self) { try order.validate() }
        let fields = Set(error?.errors.map(\.field) ?? [])
        #expect(fields == ["shippingAddress.city", "lines[0].quantity", "lines[1].unitPrice"])
    }

    @Test("invoice totals: net lines plus VAT per line")
    func invoice() {
        let invoice = Invoice(
            orderID: "order-1", uuid: UUID(), kind: .eArsiv, issuedAt: Date(), currency: .TRY,
            customer: Customer(firstName: "Ayşe", lastName: "Yılmaz"),
            lines: [
                InvoiceLine(sku: "A", name: "A", quantity: 3, unitNet: Money("33.33", .TRY)!, vatRatePercent: 20),
                InvoiceLine(sku: "B", name: "B", quantity: 1, unitNet: Money("10.00", .TRY)!, vatRatePercent: 10),
            ])
        #expect(invoice.netTotal == Money("109.99", .TRY)!)
        #expect(invoice.vatTotal == Money("21.00", .TRY)!)
        #expect(invoice.grandTotal == Money("130.99", .TRY)!)
    }

    @Test("product validation names duplicate SKUs")
    func productDuplicates() {
        let product = Product(id: "p1", name: "Tişört", variants: [Variant(sku: "A"), Variant(sku: "A")])
        let error = #expect(throws: ValidationErrors.self) { try product.validate() }
        #expect(error?.errors.map(\.field) == ["variants[1].sku"])
    }
}
