import Foundation

/// Sample data for the demo and manual sandboxes: a catalogue and a stream of plausible
/// Turkish orders, repeatable from a seed.
public struct SampleShop: Sendable {
    static let products = ["Çelik Termos", "Seramik Kupa", "Bambu Kesme Tahtası", "Cam Saklama Kabı", "Döküm Tava", "Pamuk Havlu", "Bakır Cezve", "Yün Battaniye"]
    static let variants = ["500 ml Siyah", "750 ml Krem", "Küçük", "Büyük", "Mavi", "Kırmızı", "Set 3'lü", "Tekli"]
    static let people = [("Ayşe", "Yılmaz"), ("Mehmet", "Kaya"), ("Zeynep", "Demir"), ("Emre", "Çelik"), ("Elif", "Şahin"), ("Burak", "Öztürk"), ("İrem", "Aydın"), ("Oğuz", "Arslan")]
    static let places = [("İstanbul", "Kadıköy"), ("Ankara", "Çankaya"), ("İzmir", "Karşıyaka"), ("Bursa", "Nilüfer"), ("Antalya", "Muratpaşa"), ("Eskişehir", "Tepebaşı"), ("Konya", "Selçuklu"), ("Trabzon", "Ortahisar")]

    public struct Item: Sendable {
        public var sku: String
        public var name: String
        public var price: Decimal
    }

    public let items: [Item]
    private var random: SplitMix64

    public init(skus: Int, seed: UInt64 = 42) {
        var random = SplitMix64(seed: seed)
        items = (1...max(1, skus)).map { index in
            let name = "\(Self.products[index % Self.products.count]) \(Self.variants[(index / Self.products.count) % Self.variants.count])"
            let cents = 4_990 + Int(random.next() % 150_000)
            return Item(sku: String(format: "KPR-%05d", index), name: name, price: Decimal(cents) / 100)
        }
        self.random = random
    }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }

    public mutating func item() -> Item { items[int(0...(items.count - 1))] }

    public mutating func customer() -> (email: String, address: MagentoSandbox.Address) {
        let (first, last) = Self.people[int(0...(Self.people.count - 1))]
        let (city, district) = Self.places[int(0...(Self.places.count - 1))]
        let email = "\(first.lowercased(with: Locale(identifier: "tr")))\(int(1...9999))@example.com"
            .folding(options: .diacriticInsensitive, locale: Locale(identifier: "en_US_POSIX")).replacingOccurrences(of: "ı", with: "i")
        return (email, MagentoSandbox.Address(firstName: first, lastName: last, street: "Cumhuriyet Cad. \(int(1...200))", city: district, region: city))
    }

    /// A paid order of one to three lines.
    public mutating func order() -> MagentoSandbox.NewOrder {
        let buyer = customer()
        let lines = (1...int(1...3)).map { _ -> MagentoSandbox.OrderLine in
            let item = item()
            return MagentoSandbox.OrderLine(sku: item.sku, name: item.name, quantity: int(1...3), price: item.price)
        }
        return MagentoSandbox.NewOrder(email: buyer.email, address: buyer.address, lines: lines, shipping: Decimal(2_990) / 100)
    }
}
