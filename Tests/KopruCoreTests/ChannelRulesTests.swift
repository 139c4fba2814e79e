import Foundation
import KopruCore
import Testing

@Suite("Channel rules")
struct ChannelRulesTests {
    @Test("sellable stock is on hand less reservations less the buffer, never negative")
    func sellable() {
        #expect(SellableStock(onHand: 10, reserved: 3).quantity(buffer: 2) == 5)
        #expect(SellableStock(onHand: 1, reserved: 1).quantity(buffer: 0) == 0)
        #expect(SellableStock(onHand: 2, reserved: 0).quantity(buffer: 5) == 0)
        #expect(SellableStock(onHand: -4, reserved: 0).quantity(buffer: 0) == 0)
        // The last unit, accepted on one channel, is no longer sellable on any.
        let lastUnit = SellableStock(onHand: 1, reserved: 1)
        #expect([0, 1, 2].map { lastUnit.quantity(buffer: $0) } == [0, 0, 0])
    }

    @Test("price rules: markup, endings that round up, a floor, a fixed price", arguments: [
        ("markup=10%", "100.00", "110.00"),
        ("markup=15%,ending=.90", "300.10", "345.90"),
        ("ending=.90", "347.95", "348.90"),
        ("ending=.99", "347.99", "347.99"),
        ("markup=-50%,min=99.90", "100.00", "99.90"),
        ("fixed=349.90", "1.00", "349.90"),
        ("markup=12.5%", "83.33", "93.75"),
    ])
    func prices(_ rule: String, _ base: String, _ expected: String) throws {
        let parsed = try PriceRule(parsing: rule)
        #expect(parsed.apply(Money(base, .TRY)!) == Money(expected, .TRY)!)
    }

    @Test("a bad price rule names its key")
    func badRule() {
        #expect(throws: ValidationError.self) { try PriceRule(parsing: "markup=ten") }
        do {
            _ = try PriceRule(parsing: "ending=1.5")
            Issue.record("an ending must be a fraction")
        } catch {
            #expect(error.field == "priceRule.ending")
        }
        do {
            _ = try PriceRule(parsing: "discount=5%")
            Issue.record("unknown key")
        } catch {
            #expect(error.field == "priceRule.discount")
        }
    }
}
