import Foundation
import HTTPTypes
import KopruHTTPClient
import KopruCore

/// An order line as an ERP can book it: a unit price with the ERP's decimals whose quantity
/// times it is the line's total. A discounted line rarely divides evenly (100.00 for 3 units is
/// 33.333…), and a booking ERP neither takes the quotient's 38 digits nor can make 3 × 33.33
/// equal 100.00. So the line goes as 2 × 33.33 + 1 × 33.34: the items still add up to what the
/// customer paid, to the kuruş.
struct BookableLine: Equatable {
    var quantity: Int
    var unitPrice: Decimal

    /// `line` net of its discount, at `decimals` places. The line total is rounded half away from
    /// zero (how Turkish invoices round, VUK's general rule); the units share it, the first ones a
    /// step lower. `split: false` sends one line at the rounded unit price instead.
    static func lines(for line: OrderLine, decimals: Int, split: Bool) -> [BookableLine] {
        guard line.quantity > 0 else { return [BookableLine(quantity: line.quantity, unitPrice: line.unitPrice.amount.rounded(scale: decimals, .halfAwayFromZero))] }
        let total = line.total.amount.rounded(scale: decimals, .halfAwayFromZero)
        let quantity = Decimal(line.quantity)
        guard split else { return [BookableLine(quantity: line.quantity, unitPrice: (total / quantity).rounded(scale: decimals, .halfAwayFromZero))] }
        let step = Decimal(sign: .plus, exponent: -decimals, significand: 1)
        let lower = (total / quantity).rounded(scale: decimals, .towardZero)
        // Whole steps left over once every unit has the lower price: fewer than the quantity.
        let over = Int(((total - lower * quantity) / step).rounded(scale: 0, .halfAwayFromZero).plainString) ?? 0
        guard over > 0, over < line.quantity else { return [BookableLine(quantity: line.quantity, unitPrice: lower)] }
        return [BookableLine(quantity: line.quantity - over, unitPrice: lower), BookableLine(quantity: over, unitPrice: lower + step)]
    }
}
