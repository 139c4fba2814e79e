import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import Testing

@testable import ConnectorMagento2

/// Real Magento orders are not clean: coupons on prices with and without tax, shipping tax and
/// shipping discounts, per-row rounding, configurable products, foreign store views. They reach
/// the ERP at Magento's grand total, and an order whose rows cannot explain it is refused.
@Suite(.serialized) struct UntidyMagentoOrderFlowTests {
    static let skus = (1...10).map { String(format: "SKU-%04d", $0) }

    /// Σ (price_incl_tax × qty − discount_amount) + shipping_incl_tax − shipping_discount_amount
    /// over the items that carry money: the sum an exact check of the wire would make.
    static func naiveSum(_ order: JSON) -> Decimal {
        var sum = (order["shipping_incl_tax"]?.decimal ?? 0) - (order["shipping_discount_amount"]?.decimal ?? 0)
        for item in order["items"]?.array ?? [] where item["parent_item_id"] == nil {
            sum += (item["price_incl_tax"]?.decimal ?? 0) * (item["qty_ordered"]?.decimal ?? 0) - (item["discount_amount"]?.decimal ?? 0)
        }
        return sum
    }

    @Test func twoHundredUntidyOrdersReachTheERPAtMagentosGrandTotalWithNoDeadLetters() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(10)
        var generator = UntidyMagentoOrders(skus: Self.skus, seed: 14)
        let placed = generator.orders(200).map { hub.magento.placeOrder($0) }
        let rendered = try placed.map { try #require(hub.magento.renderedOrder(entityID: $0.entityID)) }

        // The batch is as untidy as promised.
        let items = rendered.flatMap { $0["items"]?.array ?? [] }
        #expect(rendered.filter { ($0["discount_amount"]?.decimal ?? 0) != 0 }.count > 50)
        #expect(rendered.filter { ($0["discount_tax_compensation_amount"]?.decimal ?? 0) != 0 }.count > 10, "discounts on prices incl. tax")
        #expect(rendered.filter { ($0["shipping_discount_amount"]?.decimal ?? 0) != 0 }.count > 5)
        #expect(items.filter { $0["product_type"] == "configurable" }.count > 30)
        #expect(items.filter { $0["parent_item_id"] != nil }.count == items.filter { $0["product_type"] == "configurable" }.count)
        #expect(rendered.filter { $0["order_currency_code"] != "TRY" && $0["base_currency_code"] == "TRY" }.count > 20)
        let gaps = rendered.map { ($0["grand_total"]?.decimal ?? 0) - Self.naiveSum($0) }
        let kurus = gaps.filter { $0 != 0 && abs($0) <= Decimal(string: "0.04")! }
        #expect(kurus.count > 10, "orders whose rows leave a kuruş against the grand total")
        #expect(gaps.filter { $0 != 0 }.count > 40, "orders an exact check of the wire would have refused")

        try await hub.sync("orders")
        // Done when every export has finished, delivered or dead, so a refusal fails fast below.
        try await hub.run(until: "200 untidy orders exported or dead", timeout: .seconds(240)) {
            let delivered = try await hub.jobs(kind: OrderExportJob.kind, status: .succeeded).count
            let dead = try await hub.jobs(kind: OrderExportJob.kind, status: .dead).count
            let idle = try await hub.unfinished() == 0
            return idle && delivered + dead == 200
        }
        #expect(hub.erp.orders.count == 200)
        #expect(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).isEmpty)
        #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
        for (index, order) in rendered.enumerated() {
            let number = placed[index].incrementID
            let sent = try #require(hub.erp.orders.first { $0.orderID == number })
            #expect(sent.body["total"]?.decimal == order["grand_total"]?.decimal, "\(number)")
            #expect(sent.body["currency"] == order["order_currency_code"], "\(number)")
            let moneyItems = (order["items"]?.array ?? []).filter { $0["parent_item_id"] == nil }
            // Per SKU, the quantities Magento charged: a configurable counted once, and a line the
            // ERP books as two (an uneven split of its total) still adds up to the units sold.
            var charged: [String: Decimal] = [:]
            for item in moneyItems { charged[item["sku"]?.string ?? "", default: 0] += item["qty_ordered"]?.decimal ?? 0 }
            var sentQuantity: [String: Decimal] = [:]
            for item in sent.body["items"]?.array ?? [] { sentQuantity[item["sku"]?.string ?? "", default: 0] += item["qty"]?.decimal ?? 0 }
            #expect(sentQuantity == charged, "\(number): a configurable counted once, units kept")
            var booked = sent.body["shipping"]?.decimal ?? 0
            for item in sent.body["items"]?.array ?? [] { booked += (item["qty"]?.decimal ?? 0) * (item["price"]?.decimal ?? 0) }
            #expect(abs(booked - (order["grand_total"]?.decimal ?? 0)) < Decimal(string: "0.000001")!, "\(number): items + shipping")
        }
    }

    @Test func anOrderWhoseRowsCannotExplainItsGrandTotalIsDeadLetteredNamingTheField() async throws {
        let hub = try await FlowHarness()
        defer { Task { await hub.shutdown() } }
        hub.catalogue(2)
        hub.magento.placeOrder(FlowHarness.order(1))
        var gift = FlowHarness.order(2)
        gift.pricing.giftCardAmount = 50  // paid by a gift card no row shows
        let broken = hub.magento.placeOrder(gift)
        try await hub.sync("orders")
        try await hub.run(until: "one exported, one dead") {
            try await hub.jobs(kind: OrderExportJob.kind, status: .dead).count == 1 && hub.erp.orders.count == 1
        }
        let dead = try #require(try await hub.jobs(kind: OrderExportJob.kind, status: .dead).first)
        #expect(dead.lastError?.contains("grandTotal") ?? false, "\(dead.lastError ?? "")")
        #expect(dead.attempts == 1)
        #expect(hub.erp.documentsPerOrder[broken.incrementID] == nil)
    }

    @Test func theConnectorReadsAConfigurableEuroOrderWithAnExclusiveCouponAndFreeShipping() async throws {
        let magento = MagentoSandbox()
        var order = MagentoSandbox.NewOrder(
            email: "anna@example.com", address: FlowHarness.address,
            lines: [
                MagentoSandbox.OrderLine(
                    sku: "TS-M", name: "Pamuk Tişört - M", quantity: 2, price: Decimal(string: "24.90")!, parentName: "Pamuk Tişört"),
                MagentoSandbox.OrderLine(sku: "KUPA", name: "Kupa", quantity: 1, price: Decimal(string: "7.99")!, taxPercent: 10),
            ], shipping: Decimal(string: "9.90")!)
        order.pricing.currency = "EUR"
        order.pricing.baseRate = Decimal(string: "36.4127")!
        order.pricing.couponPercent = 10
        order.pricing.discountIncludesTax = false
        order.pricing.shippingDiscountPercent = 100
        magento.placeOrder(order)
        magento.configure { credentials, _ in credentials.bearerIntegrationTokens = true }
        let connector = try Magento2Connector(
            connection: "shop", settings: ["baseURL": "http://shop.test", "auth": "bearer"],
            secrets: ["accessToken": Secret(magento.credentials.accessToken)], transport: SandboxTransport(magento.sandbox))
        let mapped = try #require(try await connector.orders(after: FeedPosition(updatedAt: .distantPast, id: 0), limit: 10).first).record
        let eur = try Currency("EUR")
        func euro(_ text: String) -> Money { Money(text, eur)! }
        let wire = try #require(magento.renderedOrder(entityID: 1))
        #expect(wire["base_grand_total"]?.decimal != wire["grand_total"]?.decimal)

        #expect(mapped.currency == eur)
        #expect(mapped.grandTotal == euro("52.00"), "the order currency's grand_total, not base_grand_total")
        #expect(mapped.lines.count == 2, "the configurable's child is not a second line")
        #expect(mapped.lines[0].sku == "TS-M" && mapped.lines[0].name == "Pamuk Tişört" && mapped.lines[0].quantity == 2)
        #expect(mapped.lines[0].unitPrice == euro("24.90"))
        // 10 % of the net row (41.50) is 4.15 without tax; 4.98 with the row's 20 %.
        #expect(mapped.lines[0].discount == euro("4.98") && mapped.lines[0].roundingAdjustment == .zero(eur))
        // 7.99 at 10 %: Magento charges 7.18 where 7.99 − 0.80 would be 7.19.
        #expect(mapped.lines[1].discount == euro("0.80") && mapped.lines[1].roundingAdjustment == euro("-0.01"))
        #expect(mapped.shippingCost == .zero(eur) && mapped.shippingDiscount == euro("9.90"))
        try mapped.validate()
    }
}
