import Foundation

/// Orders as a real multi-store Magento makes them, repeatable from a seed: coupons on prices
/// with and without tax, free or half-price shipping, VAT at 20, 10 and 1 %, configurable
/// products (parent + child items), prices that do not divide evenly, quantities above one, and
/// a euro and a dollar store view over the lira website. Their rows round as Magento rounds
/// them (`MagentoRow`), so Σ lines and the grand total differ by a kuruş in some of them.
public struct UntidyMagentoOrders: Sendable {
    public struct Mix: Sendable {
        /// Shares of orders, each drawn on its own.
        public var coupon = 0.45
        public var discountIncludingTax = 0.5
        public var configurableLine = 0.3
        public var shippingDiscount = 0.2
        public var foreignCurrency = 0.2

        public init() {}
    }

    static let tryPrices = ["149.90", "83.33", "33.33", "49.99", "1299.00", "17.45", "249.95", "9.99", "74.90", "599.00", "12.34"]
    static let foreignPrices = ["24.90", "7.99", "13.33", "89.00", "3.45", "149.99"]
    static let couponPercents = ["5", "10", "12.5", "15", "20", "33"]
    static let taxPercents = ["20", "20", "20", "10", "1"]
    static let shippings = ["0", "29.90", "49.90", "39.99", "14.95"]
    static let parents = ["Pamuk Tişört", "Çelik Termos", "Yün Battaniye"]

    var random: SplitMix64
    let skus: [String]
    let mix: Mix

    public init(skus: [String], seed: UInt64, mix: Mix = Mix()) {
        precondition(!skus.isEmpty, "orders need products")
        random = SplitMix64(seed: seed)
        self.skus = skus
        self.mix = mix
    }

    mutating func chance(_ share: Double) -> Bool { random.nextUnit() < share }
    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    mutating func decimal(_ values: [String]) -> Decimal { Decimal(string: pick(values), locale: Locale(identifier: "en_US_POSIX"))! }

    public mutating func next(_ index: Int) -> MagentoSandbox.NewOrder {
        var pricing = MagentoSandbox.Pricing()
        let foreign = chance(mix.foreignCurrency)
        if foreign {
            let euro = chance(0.6)
            pricing.currency = euro ? "EUR" : "USD"
            pricing.baseRate = euro ? Decimal(string: "36.4127")! : Decimal(string: "34.2871")!
            pricing.storeID = euro ? 2 : 3
        }
        if chance(mix.coupon) {
            pricing.couponPercent = decimal(Self.couponPercents)
            pricing.couponCode = "KPR\(index % 97)"
            pricing.discountIncludesTax = chance(mix.discountIncludingTax)
            if chance(mix.shippingDiscount) { pricing.shippingDiscountPercent = chance(0.5) ? 100 : 50 }
        }
        let lines = (0..<(1 + Int(random.next() % 4))).map { offset -> MagentoSandbox.OrderLine in
            let sku = skus[(index + offset * 7) % skus.count]
            var line = MagentoSandbox.OrderLine(
                sku: sku, name: "Ürün \(sku)", quantity: 1 + Int(random.next() % 3),
                price: decimal(foreign ? Self.foreignPrices : Self.tryPrices), taxPercent: decimal(Self.taxPercents))
            if chance(mix.configurableLine) {
                line.parentName = pick(Self.parents)
                line.name = "\(line.parentName!) - \(pick(["S", "M", "L", "Siyah", "Krem"]))"
            }
            return line
        }
        // One line per SKU, as a cart merges them.
        var seen: Set<String> = []
        let merged = lines.filter { seen.insert($0.sku).inserted }
        var order = MagentoSandbox.NewOrder(
            email: "musteri\(index)@example.com",
            address: MagentoSandbox.Address(firstName: "Ayşe", lastName: "Yılmaz", street: "Atatürk Cad. \(index)", city: "Kadıköy", region: "İstanbul"),
            lines: merged, shipping: foreign ? decimal(["0", "9.90", "4.99"]) : decimal(Self.shippings))
        order.pricing = pricing
        order.invoiced = chance(0.5)
        return order
    }

    public mutating func orders(_ count: Int) -> [MagentoSandbox.NewOrder] { (1...max(1, count)).map { next($0) } }
}
