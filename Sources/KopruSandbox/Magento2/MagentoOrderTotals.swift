import Foundation
import KopruCore

/// How Magento 2.4 totals an order in a store whose catalogue prices include tax (as Turkish
/// stores enter them), tax applied after discount, calculated per row, every amount rounded by
/// PHP's `round()` (half away from zero) to two digits. Written from Magento's behaviour, not
/// from our connector, so the two cannot share one misreading.
///
/// The untidiness is Magento's own: the row's tax, the discount and the discount's hidden tax
/// (`discount_tax_compensation_amount`) are rounded separately, so a row can be charged a kuruş
/// more or less than `row_total_incl_tax − discount_amount`; with discounts on prices excluding
/// tax the order never states a VAT-inclusive discount at all.
struct MagentoRow: Sendable {
    var price: Decimal
    var priceInclTax: Decimal
    var rowTotal: Decimal
    var rowTotalInclTax: Decimal
    var taxAmount: Decimal
    var discountAmount: Decimal
    var discountTaxCompensation: Decimal

    /// What the customer is charged for the row: Magento's grand total is the sum of these.
    var charged: Decimal { rowTotal + taxAmount + discountTaxCompensation - discountAmount }

    static func round(_ value: Decimal) -> Decimal { value.rounded(scale: 2, .halfAwayFromZero) }

    /// - Parameters:
    ///   - priceInclTax: the catalogue price, tax included.
    ///   - discountPercent: the cart rule's percentage on this row.
    ///   - discountIncludesTax: *Apply Discount On Prices*: including tax (the discount is taken
    ///     from the gross and its tax hidden) or excluding tax (taken from the net).
    init(priceInclTax: Decimal, quantity: Int, taxPercent: Decimal, discountPercent: Decimal, discountIncludesTax: Bool) {
        let share = taxPercent / (100 + taxPercent)
        let gross = priceInclTax * Decimal(quantity)
        let fullTax = Self.round(gross * share)
        self.priceInclTax = priceInclTax
        price = Self.round(priceInclTax / (1 + taxPercent / 100))
        rowTotalInclTax = gross
        rowTotal = gross - fullTax
        if discountPercent == 0 {
            (discountAmount, discountTaxCompensation, taxAmount) = (0, 0, fullTax)
        } else if discountIncludesTax {
            discountAmount = Self.round(gross * discountPercent / 100)
            taxAmount = Self.round((gross - discountAmount) * share)
            discountTaxCompensation = Self.round(discountAmount * share)
        } else {
            discountAmount = Self.round(rowTotal * discountPercent / 100)
            taxAmount = Self.round((rowTotal - discountAmount) * taxPercent / 100)
            discountTaxCompensation = 0
        }
    }
}

extension MagentoSandbox {
    /// An order's rows and shipping as Magento stores them, in the order currency.
    struct Totals {
        var rows: [MagentoRow]
        var shipping: MagentoRow

        init(_ order: Order) {
            rows = order.lines.map { entry in
                MagentoRow(
                    priceInclTax: entry.line.price, quantity: entry.line.quantity, taxPercent: entry.line.taxPercent,
                    discountPercent: order.pricing.couponPercent, discountIncludesTax: order.pricing.discountIncludesTax)
            }
            shipping = MagentoRow(
                priceInclTax: order.shipping, quantity: 1, taxPercent: order.pricing.shippingTaxPercent,
                discountPercent: order.pricing.shippingDiscountPercent, discountIncludesTax: order.pricing.discountIncludesTax)
        }

        var subtotal: Decimal { rows.reduce(0) { $0 + $1.rowTotal } }
        var subtotalInclTax: Decimal { rows.reduce(0) { $0 + $1.rowTotalInclTax } }
        var tax: Decimal { rows.reduce(shipping.taxAmount) { $0 + $1.taxAmount } }
        var discountTaxCompensation: Decimal { rows.reduce(0) { $0 + $1.discountTaxCompensation } }
        /// Negative on the order, as Magento shows it.
        var discount: Decimal { -rows.reduce(shipping.discountAmount) { $0 + $1.discountAmount } }
        var grandTotal: Decimal { rows.reduce(shipping.charged) { $0 + $1.charged } }
    }
}
