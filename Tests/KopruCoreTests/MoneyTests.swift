import Foundation
import KopruCore
import Testing

@Suite("Money")
struct MoneyTests {
    func try_(_ text: String) -> Money { Money(text, .TRY)! }

    @Test("rounding modes at two decimals", arguments: [
        ("2.345", MoneyRounding.halfAwayFromZero, "2.35"), ("-2.345", .halfAwayFromZero, "-2.35"),
        ("2.345", .halfEven, "2.34"), ("2.355", .halfEven, "2.36"), ("-2.345", .halfEven, "-2.34"),
        ("2.349", .towardZero, "2.34"), ("-2.349", .towardZero, "-2.34"),
        ("2.341", .awayFromZero, "2.35"), ("-2.341", .awayFromZero, "-2.35"),
        ("2.3", .halfAwayFromZero, "2.3"),
    ])
    func rounding(_ input: String, _ mode: MoneyRounding, _ expected: String) {
        #expect(try_(input).rounded(mode) == try_(expected))
    }

    @Test("rounding to an explicit scale and to the currency's minor units")
    func scale() throws {
        #expect(try_("1.23456").rounded(scale: 3) == try_("1.235"))
        #expect(Money("1234.5", try Currency("JPY"))!.rounded() == Money("1235", try Currency("JPY"))!)
        #expect(Money("1.2345", try Currency("KWD"))!.rounded() == Money("1.235", try Currency("KWD"))!)
    }

    @Test("addition is exact where Double is not, and refuses mixed currencies")
    func addition() throws {
        #expect(try try_("0.1") + try_("0.2") == try_("0.3"))
        #expect(try try_("10") - try_("0.01") == try_("9.99"))
        #expect(throws: MoneyError.self) { _ = try try_("1") + Money("1", .EUR)! }
        #expect(try Money.sum([try_("19.99"), try_("0.01"), try_("5")], currency: .TRY) == try_("25"))
    }

    @Test("multiplication by an integer quantity")
    func quantity() {
        #expect(try_("149.90") * 3 == try_("449.70"))
        #expect(try_("0.333") * 3 == try_("0.999"))
    }

    @Test("VAT split of a VAT-inclusive amount adds back exactly", arguments: [
        ("120.00", 20, "100.00", "20.00"),
        ("100.00", 20, "83.33", "16.67"),
        ("99.99", 10, "90.90", "9.09"),
        ("1.00", 1, "0.99", "0.01"),
        ("0.01", 20, "0.01", "0.00"),
        ("59.90", 0, "59.90", "0.00"),
    ])
    func vatSplit(_ gross: String, _ rate: Int, _ net: String, _ vat: String) throws {
        let split = try_(gross).splittingVAT(ratePercent: Decimal(rate))
        #expect(split.net == try_(net))
        #expect(split.vat == try_(vat))
        #expect(try split.net + split.vat == try_(gross))
    }

    @Test("VAT on top of a net amount rounds half away from zero")
    func vatOnTop() {
        #expect(try_("83.33").vat(ratePercent: 20) == try_("16.67"))
        #expect(try_("0.025").vat(ratePercent: 100) == try_("0.03"))
    }

    @Test("amounts travel as strings in JSON, never as floating point")
    func codable() throws {
        let money = try_("1234567890.12")
        let json = String(decoding: try JSONEncoder().encode(money), as: UTF8.self)
        #expect(json.contains(#""amount":"1234567890.12""#))
        #expect(try JSONDecoder().decode(Money.self, from: Data(json.utf8)) == money)
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(Money.self, from: Data(#"{"amount":"12,5","currency":"TRY"}"#.utf8))
        }
        #expect(throws: (any Error).self) {
            _ = try JSONDecoder().decode(Money.self, from: Data(#"{"amount":"1","currency":"LIRA"}"#.utf8))
        }
    }

    @Test("currency codes are validated and named in the error")
    func currency() throws {
        #expect(try Currency("try") == .TRY)
        let error = #expect(throws: ValidationError.self) { _ = try Currency("TL") }
        #expect(error?.field == "currency")
        #expect(Money("1.2.3", .TRY) == nil)
        #expect(Money("1e5", .TRY) == nil)
        #expect(Money("", .TRY) == nil)
        #expect(Money("-0.5", .TRY) == Money(Decimal(string: "-0.5")!, .TRY))
    }
}
