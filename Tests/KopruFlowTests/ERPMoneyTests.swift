import Foundation
import KopruConnectors
import KopruCore
import KopruSandbox
import Testing

@testable import ConnectorERPRest

/// The ERP gets money it can book: the ERP's decimals (`money.decimals`, 2 by default), never
/// the 38-digit quotient of a discounted line, and lines that still add up to what was paid.
@Suite struct ERPMoneyTests {
    /// 3 units at 40.00 with 20.00 off the line: 100.00, a unit price of 100/3.
    static let discounted = ERPBench.order("000000100", lines: [("SKU-A", 3, "40", "20"), ("SKU-B", 1, "19.99", "0")])

    func items(_ body: JSON) -> [(qty: Int, price: String)] {
        (body["items"]?.array ?? []).map { ($0["qty"]?.int ?? 0, $0["price"]?.string ?? "") }
    }

    @Test func aLineOfOneHundredForThreeGoesAsTwoAt3333AndOneAt3334() throws {
        let connector = try ERPBench().connector()
        let body = try connector.body(for: Self.discounted)
        #expect(items(body).map(\.qty) == [2, 1, 1])
        #expect(items(body).map(\.price) == ["33.33", "33.34", "19.99"])
        #expect(body["total"] == .number(Decimal(string: "149.89")!))
        #expect(body["shipping"] == .number(Decimal(string: "29.9")!))
    }

    @Test func theERPBooksTheDiscountedOrderToTheKurus() async throws {
        let bench = ERPBench()
        let reference = try await bench.connector().createOrder(Self.discounted, idempotencyKey: "erp:000000100")
        let booked = try #require(bench.erp.orders.first { $0.documentNumber == reference })
        var sum = booked.body["shipping"]?.decimal ?? 0
        for item in booked.body["items"]?.array ?? [] { sum += Decimal(item["qty"]?.int ?? 0) * (item["price"]?.decimal ?? 0) }
        #expect(sum == booked.body["total"]?.decimal)
    }

    @Test func oneLinePerProductWhenAskedAtTheRoundedUnitPrice() async throws {
        let bench = ERPBench()
        let connector = try bench.connector(["money.splitLines": "false"])
        #expect(items(try connector.body(for: Self.discounted)).map(\.price) == ["33.33", "19.99"])
        // A cent short of the total: within what the ERP tolerates.
        _ = try await connector.createOrder(Self.discounted, idempotencyKey: "erp:000000100")
        #expect(bench.erp.orders.count == 1)
    }

    @Test func threeDecimalsWhenTheERPBooksThree() throws {
        let connector = try ERPBench().connector(["money.decimals": "3"])
        #expect(items(try connector.body(for: Self.discounted)).map(\.price) == ["33.333", "33.334", "19.99"])
        #expect(throws: ConnectorError.self) { try ERPBench().connector(["money.decimals": "9"]) }
    }

    @Test(arguments: [(1, "100", ["100"]), (3, "100", ["33.33", "33.34"]), (7, "0.05", ["0", "0.01"]), (4, "10", ["2.5"])])
    func bookableLinesAddUpToTheLineTotal(quantity: Int, total: String, prices: [String]) {
        let line = OrderLine(sku: "S", name: "S", quantity: quantity, unitPrice: Money(Decimal(string: total)!, .TRY), discount: Money(Decimal(string: total)! * Decimal(quantity - 1), .TRY))
        let booked = BookableLine.lines(for: line, decimals: 2, split: true)
        #expect(booked.map(\.unitPrice.plainString) == prices)
        #expect(booked.reduce(Decimal(0)) { $0 + Decimal($1.quantity) * $1.unitPrice } == Decimal(string: total)!)
        #expect(booked.reduce(0) { $0 + $1.quantity } == quantity)
    }
}
