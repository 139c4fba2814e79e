import Foundation

/// An ISO 4217 currency with its number of minor units (kuruş for TRY).
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String
    public let minorUnits: Int

    /// Currencies whose minor unit is not the usual two digits.
    private static let unusualMinorUnits: [String: Int] = [
        "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    ]

    public init(_ code: String) throws(ValidationError) {
        let upper = code.uppercased()
        guard upper.count == 3, upper.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }) else {
            throw ValidationError(
                field: "currency", rule: .currency, message: "must be a three-letter ISO 4217 code (got \"\(code)\")")
        }
        self.code = upper
        self.minorUnits = Self.unusualMinorUnits[upper] ?? 2
    }

    private init(known code: String) {
        self.code = code
        self.minorUnits = Self.unusualMinorUnits[code] ?? 2
    }

    public static let TRY = Currency(known: "TRY")
    public static let USD = Currency(known: "USD")
    public static let EUR = Currency(known: "EUR")
    public static let GBP = Currency(known: "GBP")

    public init(from decoder: any Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        try self.init(code)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    public var description: String { code }
}

/// How to round a decimal amount. Named for what they do, because `.plain`/`.down` in Foundation
/// behave differently for negative numbers than their names suggest.
public enum MoneyRounding: String, Sendable, Codable, CaseIterable {
    /// 2.345 → 2.35, −2.345 → −2.35 (commercial rounding; Turkish tax documents use it).
    case halfAwayFromZero
    /// 2.345 → 2.34, 2.355 → 2.36 (banker's rounding).
    case halfEven
    /// Truncate: 2.349 → 2.34, −2.349 → −2.34.
    case towardZero
    /// 2.341 → 2.35, −2.341 → −2.35.
    case awayFromZero
}

public struct MoneyError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public static func currencyMismatch(_ a: Currency, _ b: Currency) -> MoneyError {
        MoneyError(message: "cannot combine \(a) and \(b) amounts")
    }
    public var description: String { message }
}

extension Decimal {
    /// Rounds to `scale` fractional digits with an explicit, sign-symmetric mode.
    public func rounded(scale: Int, _ mode: MoneyRounding) -> Decimal {
        var magnitude = self < 0 ? -self : self
        var result = Decimal()
        let foundationMode: NSDecimalNumber.RoundingMode =
            switch mode {
            case .halfAwayFromZero: .plain
            case .halfEven: .bankers
            case .towardZero: .down
            case .awayFromZero: .up
            }
        NSDecimalRound(&result, &magnitude, scale, foundationMode)
        return self < 0 ? -result : result
    }

    /// Parses a plain decimal literal ("1234.50", "-3", ".5"); no grouping separators, no exponent,
    /// independent of the process locale.
    public init?(exactly text: String) {
        var digits = 0
        var dots = 0
        for (offset, char) in text.enumerated() {
            switch char {
            case "0"..."9": digits += 1
            case ".": dots += 1
            case "-" where offset == 0, "+" where offset == 0: continue
            default: return nil
            }
        }
        guard digits > 0, dots <= 1, let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { return nil }
        self = value
    }

    /// A locale-independent plain rendering ("1234.5").
    public var plainString: String { NSDecimalNumber(decimal: self).description(withLocale: Locale(identifier: "en_US_POSIX")) }
}

/// An exact amount of one currency. Never a Double; arithmetic across currencies throws.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public let amount: Decimal
    public let currency: Currency

    public init(_ amount: Decimal, _ currency: Currency) {
        self.amount = amount
        self.currency = currency
    }

    /// `Money("149.90", .TRY)`; nil if the text is not a plain decimal literal.
    public init?(_ text: String, _ currency: Currency) {
        guard let amount = Decimal(exactly: text) else { return nil }
        self.init(amount, currency)
    }

    public static func zero(_ currency: Currency) -> Money { Money(0, currency) }

    public var isZero: Bool { amount.isZero }
    public var isNegative: Bool { amount < 0 }

    public static func + (lhs: Money, rhs: Money) throws(MoneyError) -> Money {
        guard lhs.currency == rhs.currency else { throw .currencyMismatch(lhs.currency, rhs.currency) }
        return Money(lhs.amount + rhs.amount, lhs.currency)
    }

    public static func - (lhs: Money, rhs: Money) throws(MoneyError) -> Money {
        guard lhs.currency == rhs.currency else { throw .currencyMismatch(lhs.currency, rhs.currency) }
        return Money(lhs.amount - rhs.amount, lhs.currency)
    }

    public static prefix func - (value: Money) -> Money { Money(-value.amount, value.currency) }

    /// Unit price × quantity. Quantities are integers.
    public static func * (lhs: Money, quantity: Int) -> Money { Money(lhs.amount * Decimal(quantity), lhs.currency) }

    /// Sum of amounts in one currency; `currency` is the result's when the list is empty.
    public static func sum(_ values: some Sequence<Money>, currency: Currency) throws(MoneyError) -> Money {
        var total = Money.zero(currency)
        for value in values { total = try total + value }
        return total
    }

    /// Rounded to `scale` digits (the currency's minor units unless given).
    public func rounded(scale: Int? = nil, _ mode: MoneyRounding = .halfAwayFromZero) -> Money {
        Money(amount.rounded(scale: scale ?? currency.minorUnits, mode), currency)
    }

    /// Splits a VAT-inclusive amount into net and VAT at `ratePercent` (e.g. 20 for %20 KDV).
    /// The net is rounded to the currency's minor units; the VAT is the remainder, so
    /// `net + vat == self` exactly, as an invoice line must.
    public func splittingVAT(ratePercent: Decimal, _ mode: MoneyRounding = .halfAwayFromZero) -> (net: Money, vat: Money) {
        let net = Money(amount / (1 + ratePercent / 100), currency).rounded(mode)
        return (net, Money(amount - net.amount, currency))
    }

    /// VAT to add on top of a net amount, rounded to minor units.
    public func vat(ratePercent: Decimal, _ mode: MoneyRounding = .halfAwayFromZero) -> Money {
        Money(amount * ratePercent / 100, currency).rounded(mode)
    }

    public var description: String { "\(amount.plainString) \(currency.code)" }
}

extension Money: Codable {
    private enum CodingKeys: String, CodingKey { case amount, currency }

    /// The amount travels as a string so that no JSON layer ever turns it into a Double.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .amount)
        guard let amount = Decimal(exactly: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .amount, in: container, debugDescription: "amount must be a decimal string such as \"149.90\"")
        }
        self.init(amount, try container.decode(Currency.self, forKey: .currency))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(amount.plainString, forKey: .amount)
        try container.encode(currency, forKey: .currency)
    }
}
