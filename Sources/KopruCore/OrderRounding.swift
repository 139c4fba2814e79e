import Foundation

/// How a channel's totals are reconciled with the hub's exact arithmetic.
///
/// The rule: storefronts (Magento among them) round tax, the discount and the discount's tax per
/// row, each to the currency's minor unit, so the amount a row is charged can differ from
/// unitPrice × quantity − discount by up to one minor unit (three half-unit roundings that
/// cannot all meet at their worst). Such a difference is rounding, not an error: it is recorded
/// on the row as `OrderLine.roundingAdjustment`, so the lines still add up to the grand total the
/// customer paid. Anything larger is not rounding and `validate()` refuses the order.
extension Order {
    /// One minor unit of the currency: 0.01 TRY, 1 JPY, 0.001 KWD.
    public static func roundingTolerance(_ currency: Currency) -> Decimal {
        var unit = Decimal(1)
        for _ in 0..<currency.minorUnits { unit /= 10 }
        return unit
    }

    /// A copy whose lines carry the rounding the channel left, when the rule allows it.
    ///
    /// `rowTotals[i]`, where the channel states it, is what line `i` is charged; its difference
    /// from the line's own total becomes that line's adjustment if it is within one minor unit.
    /// Whatever still separates the grand total from the lines is then spread one minor unit per
    /// line over the lines whose charge was not stated, first line first. A stated row that
    /// misses by more than the rule, or a gap the rule does not cover, is left as it is, so
    /// `validate()` names it.
    public func reconcilingRounding(rowTotals: [Money?] = []) -> Order {
        let unit = Self.roundingTolerance(currency)
        var order = self
        var stated: Set<Int> = []
        for index in order.lines.indices {
            guard index < rowTotals.count, let row = rowTotals[index] else { continue }
            var line = order.lines[index]
            line.roundingAdjustment = .zero(currency)
            let difference = row.amount - line.total.amount
            guard row.currency == currency, abs(difference) <= unit else { return self }
            line.roundingAdjustment = Money(difference, currency)
            order.lines[index] = line
            stated.insert(index)
        }
        var remaining = grandTotal.amount - order.computedTotal.amount
        guard remaining != 0 else { return order }
        guard remaining.rounded(scale: currency.minorUnits, .halfEven) == remaining else { return order }
        let step = remaining > 0 ? unit : -unit
        for index in order.lines.indices where remaining != 0 && !stated.contains(index) {
            let adjusted = order.lines[index].roundingAdjustment.amount + step
            guard abs(adjusted) <= unit else { continue }
            order.lines[index].roundingAdjustment = Money(adjusted, currency)
            remaining -= step
        }
        return remaining == 0 ? order : self
    }
}

extension OrderLine {
    /// The unit price after the line's discount and rounding, rounded to the currency's minor
    /// units half away from zero (commercial rounding, as Turkish documents use): what a target
    /// that books unit price × quantity can take. Never a 38-digit quotient.
    public func unitPriceAfterDiscount(_ mode: MoneyRounding = .halfAwayFromZero) -> Money {
        guard quantity > 0 else { return unitPrice }
        return Money(total.amount / Decimal(quantity), unitPrice.currency).rounded(mode)
    }

    /// What booking `unitPriceAfterDiscount` × quantity leaves of the line's total (a few
    /// minor units at most): a target books it as a rounding line so the document still adds up.
    public func unitPriceRoundingRemainder(_ mode: MoneyRounding = .halfAwayFromZero) -> Money {
        Money(total.amount - unitPriceAfterDiscount(mode).amount * Decimal(quantity), unitPrice.currency)
    }
}
