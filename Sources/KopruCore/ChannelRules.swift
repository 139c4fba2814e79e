import Foundation

/// What a channel may sell: on hand, less the units in orders accepted on any channel but not
/// yet in the ERP's figure, less the channel's safety buffer — never below zero. Pushing more
/// than this is how a shop oversells while the ERP catches up.
public struct SellableStock: Hashable, Sendable {
    public var onHand: Int
    /// Units promised to accepted orders that the on-hand figure does not yet reflect.
    public var reserved: Int

    public init(onHand: Int, reserved: Int = 0) {
        self.onHand = onHand
        self.reserved = reserved
    }

    public func quantity(buffer: Int) -> Int { max(0, onHand - max(0, reserved) - max(0, buffer)) }
}

/// How a channel's price follows the ERP's: a markup (or a fixed list price), a psychological
/// ending (x.90, x.99) and a floor. Configured per channel as `markup=15%,ending=.90,min=99.90`
/// or `fixed=349.90`.
public struct PriceRule: Hashable, Sendable {
    public var markupPercent: Decimal
    public var fixed: Decimal?
    /// The fraction every price ends in, rounding up (".90": 347.12 → 347.90, 347.95 → 348.90).
    public var ending: Decimal?
    public var minimum: Decimal?

    public init(markupPercent: Decimal = 0, fixed: Decimal? = nil, ending: Decimal? = nil, minimum: Decimal? = nil) {
        self.markupPercent = markupPercent
        self.fixed = fixed
        self.ending = ending
        self.minimum = minimum
    }

    public static let identity = PriceRule()

    /// The channel price for a base price; in the base's currency, to its minor units.
    public func apply(_ base: Money) -> Money {
        var amount = fixed ?? base.amount * (1 + markupPercent / 100)
        amount = amount.rounded(scale: base.currency.minorUnits, .halfAwayFromZero)
        if let ending {
            let whole = amount.rounded(scale: 0, .towardZero)
            var candidate = whole + ending
            if candidate < amount { candidate += 1 }
            amount = candidate
        }
        if let minimum, amount < minimum { amount = minimum }
        return Money(amount, base.currency)
    }

    /// Parses `markup=15%`, `fixed=349.90`, `ending=.90`, `min=99.90`, comma-separated.
    public init(parsing text: String) throws(ValidationError) {
        self.init()
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else {
                throw ValidationError(field: "priceRule", rule: .format, message: "\"\(part)\" needs KEY=VALUE")
            }
            let number = pair[1].hasSuffix("%") ? String(pair[1].dropLast()) : pair[1]
            guard let value = Decimal(exactly: number.hasPrefix(".") ? "0" + number : number) else {
                throw ValidationError(field: "priceRule.\(pair[0])", rule: .format, message: "\"\(pair[1])\" is not a number")
            }
            switch pair[0] {
            case "markup": markupPercent = value
            case "fixed": fixed = value
            case "ending":
                guard value >= 0, value < 1 else {
                    throw ValidationError(field: "priceRule.ending", rule: .format, message: "must be a fraction such as .90 or .99")
                }
                ending = value
            case "min": minimum = value
            default:
                throw ValidationError(
                    field: "priceRule.\(pair[0])", rule: .format, message: "is not a price rule key (known: markup, fixed, ending, min)")
            }
        }
    }
}
