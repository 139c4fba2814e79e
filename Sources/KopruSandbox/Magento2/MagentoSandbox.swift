import Foundation
import KopruCore
import Synchronization

/// A Magento 2.4 store as its REST API shows it (`specs/magento2.md`): orders with status
/// history, shipments with tracks, MSI source items and the legacy stock item, the asynchronous
/// bulk API with per-operation status, customers — behind admin tokens, integration bearer
/// tokens (only when the store allows them) and OAuth 1.0a signatures. Written from the spec,
/// never from our connector.
public final class MagentoSandbox: Sendable {
    public struct Credentials: Sendable, Codable, Equatable {
        public var adminUsername = "admin"
        public var adminPassword = "admin123"
        public var consumerKey = "ck-sandbox-consumer"
        public var consumerSecret = "cs-sandbox-secret"
        public var accessToken = "at-sandbox-token"
        public var accessTokenSecret = "ats-sandbox-secret"
        /// Stores → Configuration → Services → OAuth → "Allow OAuth Access Tokens to be used as
        /// standalone Bearer tokens" (off by default since 2.4.4).
        public var bearerIntegrationTokens = false

        public init() {}
    }

    public struct Settings: Sendable {
        /// *Web API Input Limits*: most list items per synchronous request (nil: off).
        public var inputLimit: Int? = nil
        public var asyncInputLimit = 5000
        public var maxPageSize = 300
        public var defaultPageSize = 20
        /// The `async.operations.all` consumer: when false, bulk operations stay open.
        public var consumerRunning = true
        public var sources: Set<String> = ["default"]

        public init() {}
    }

    public struct Address: Sendable {
        public var firstName, lastName, street, city, region, postcode, telephone: String
        public var vatID: String?

        public init(
            firstName: String, lastName: String, street: String, city: String, region: String, postcode: String = "34000",
            telephone: String = "05321234567", vatID: String? = nil
        ) {
            (self.firstName, self.lastName, self.street, self.city, self.region) = (firstName, lastName, street, city, region)
            (self.postcode, self.telephone, self.vatID) = (postcode, telephone, vatID)
        }
    }

    public struct OrderLine: Sendable {
        public var sku: String
        public var name: String
        public var quantity: Int
        /// Unit price including VAT.
        public var price: Decimal
        public var taxPercent: Decimal
        /// Per unit, kg (Magento's item `weight`); nil: the product has none.
        public var weight: Decimal?
        /// Set when the customer chose this simple product as a variant of a configurable one:
        /// the order then holds the configurable parent item (this name, the variant's SKU, all
        /// the money) and the simple child (`parent_item_id`, no money), as Magento stores them.
        public var parentName: String?

        public init(
            sku: String, name: String, quantity: Int, price: Decimal, taxPercent: Decimal = 20, weight: Decimal? = nil,
            parentName: String? = nil
        ) {
            (self.sku, self.name, self.quantity, self.price, self.taxPercent) = (sku, name, quantity, price, taxPercent)
            (self.weight, self.parentName) = (weight, parentName)
        }
    }

    /// The store view's currency, tax and cart-rule settings an order was placed under.
    public struct Pricing: Sendable {
        /// `order_currency_code`: what the customer saw and paid; every non-`base_` amount is in it.
        public var currency = "TRY"
        /// `base_currency_code`, the website's; `base_*` amounts are the order's × `baseRate`,
        /// each rounded on its own (so they need not add up exactly, as in Magento).
        public var baseCurrency = "TRY"
        public var baseRate: Decimal = 1
        /// A cart rule (coupon) taking this percentage off every row.
        public var couponPercent: Decimal = 0
        public var couponCode: String?
        /// The same rule applied to shipping (100: free shipping).
        public var shippingDiscountPercent: Decimal = 0
        /// *Apply Discount On Prices*: including tax, or excluding it (Magento's default).
        public var discountIncludesTax = true
        public var shippingTaxPercent: Decimal = 20
        public var storeID = 1
        /// An Adobe Commerce gift card paying part of the order (`gift_cards_amount`): it lowers
        /// `grand_total` without touching any row, so the rows no longer add up to it.
        public var giftCardAmount: Decimal = 0

        public init() {}
    }

    public struct NewOrder: Sendable {
        public var email: String
        public var address: Address
        public var lines: [OrderLine]
        public var shipping: Decimal
        public var state = "processing"
        public var status = "processing"
        public var paymentMethod = "checkmo"
        public var pricing = Pricing()
        /// Invoiced at placement (a captured online payment); an offline payment is invoiced later.
        public var invoiced = false
        /// Pins `created_at`/`updated_at` (e.g. many orders in one second); default: now.
        public var at: Date?
        /// False: the row exists but its transaction has not committed, so lists do not show it yet.
        public var committed = true

        public init(email: String, address: Address, lines: [OrderLine], shipping: Decimal = 0) {
            (self.email, self.address, self.lines, self.shipping) = (email, address, lines, shipping)
        }
    }

    struct Order {
        var entityID: Int
        var incrementID: String
        var state: String
        var status: String
        var createdAt: String
        var updatedAt: String
        var email: String
        var address: Address
        var lines: [(itemID: Int, line: OrderLine, shipped: Int, invoiced: Int)]
        var shipping: Decimal
        var paymentMethod: String
        var pricing: Pricing
        var committed: Bool
        var histories: [(id: Int, comment: String, status: String?, createdAt: String)] = []
    }

    struct Customer {
        var id: Int
        var email: String
        var firstName: String
        var lastName: String
        var taxvat: String?
        var customAttributes: [String: String]
        var address: Address
        var createdAt: String
        var updatedAt: String
    }

    struct BulkOperation {
        var status: Int
        var message: String?
        var rows: [JSON]
    }

    struct State {
        var orders = OrderTable()
        /// Orders with at least one comment in their history.
        var commentedOrders = 0
        var nextEntityID = 1
        var customers: [Int: Customer] = [:]
        var nextCustomerID = 1
        var stock: [String: (quantity: Int, inStock: Bool)] = [:]
        /// The source a SKU's quantity was last written to, where not the store's first: the
        /// simulated store keeps one quantity per SKU, shown under this source and 0 elsewhere.
        var stockSource: [String: String] = [:]
        /// Base prices by SKU (store 0).
        var prices: [String: Decimal] = [:]
        var adminTokens: [String: Date] = [:]
        var nonces: Set<String> = []
        var bulks: [String: (submittedAt: Date, operations: [BulkOperation])] = [:]
        var shipments: [(id: Int, orderID: Int, tracks: [JSON], items: [JSON])] = []
        var invoices: [(id: Int, orderID: Int)] = []
        var nextHistoryID = 1
        var stockRowsApplied = 0
        var credentials: Credentials
        var settings: Settings
    }

    public let sandbox: Sandbox
    let state: MagentoStateBox
    let now: @Sendable () -> Date

    public init(credentials: Credentials = .init(), settings: Settings = .init(), seed: UInt64 = 1, now: @escaping @Sendable () -> Date = { Date() }) {
        let state = MagentoStateBox(State(credentials: credentials, settings: settings))
        self.state = state
        self.now = now
        var router = SandboxRouter()
        let routes = MagentoRoutes(state: state, now: now)
        routes.register(on: &router)
        sandbox = Sandbox(name: "magento2", router: router, seed: seed) { _ in
            .json(404, ["message": "Request does not match any route."])
        }
    }

    public var credentials: Credentials { state.withLock { $0.credentials } }

    public func configure(_ change: (inout Credentials, inout Settings) -> Void) {
        state.withLock { change(&$0.credentials, &$0.settings) }
    }

    // MARK: Catalogue

    public func setStock(sku: String, quantity: Int) {
        state.withLock { $0.stock[sku] = (quantity, quantity > 0) }
    }

    /// Many products at once (one lock, not one per SKU: a benchmark's catalogue has a million).
    public func setStock(_ levels: [String: Int]) {
        state.withLock { state in
            state.stock.reserveCapacity(state.stock.count + levels.count)
            for (sku, quantity) in levels { state.stock[sku] = (quantity, quantity > 0) }
        }
    }

    /// Nil when the store has no such product.
    public func stock(sku: String) -> (quantity: Int, inStock: Bool)? { state.withLock { $0.stock[sku] } }

    public var skus: [String] { state.withLock { $0.stock.keys.sorted() } }

    /// Stock rows written so far, by any of the three stock APIs.
    public var stockRowsApplied: Int { state.withLock { $0.stockRowsApplied } }

    /// The base price saved for a SKU, if any.
    public func price(sku: String) -> Decimal? { state.withLock { $0.prices[sku] } }

    // MARK: Orders

    @discardableResult
    public func placeOrder(_ order: NewOrder) -> (entityID: Int, incrementID: String) {
        state.withLock { state in
            let id = state.nextEntityID
            state.nextEntityID += 1
            let at = MagentoTime.format(order.at ?? now())
            var itemID = id * 100
            let lines = order.lines.map { line -> (Int, OrderLine, Int, Int) in
                itemID += 1
                let parent = itemID
                if line.parentName != nil { itemID += 1 }  // the configurable's child is parent + 1
                return (parent, line, 0, order.invoiced ? line.quantity : 0)
            }
            let increment = String(format: "%09d", 100_000 + id)
            state.orders[id] = Order(
                entityID: id, incrementID: increment, state: order.state, status: order.status, createdAt: at, updatedAt: at,
                email: order.email, address: order.address, lines: lines, shipping: order.shipping,
                paymentMethod: order.paymentMethod, pricing: order.pricing, committed: order.committed)
            return (id, increment)
        }
    }

    /// Makes an uncommitted order visible, keeping the timestamps it was given.
    public func commit(entityID: Int) { state.withLock { $0.orders[entityID]?.committed = true } }

    /// Changes an order's state (e.g. a payment arrives), which moves its `updated_at`.
    public func setState(entityID: Int, state newState: String, status: String, at: Date? = nil) {
        let stamp = MagentoTime.format(at ?? now())
        state.withLock { state in
            state.orders[entityID]?.state = newState
            state.orders[entityID]?.status = status
            state.orders[entityID]?.updatedAt = stamp
        }
    }

    public func comments(entityID: Int) -> [String] {
        state.withLock { $0.orders[entityID]?.histories.map(\.comment) ?? [] }
    }

    public func orderState(entityID: Int) -> String? { state.withLock { $0.orders[entityID]?.state } }

    /// The order as `GET /V1/orders/{id}` shows it.
    public func renderedOrder(entityID: Int) -> JSON? {
        state.withLock { $0.orders[entityID].map { .object(MagentoRoutes.render($0)) } }
    }

    /// Orders with at least one comment (a benchmark's "commented back" without a scan).
    public var commentedOrders: Int { state.withLock { $0.commentedOrders } }

    public var orderIDs: [Int] { state.withLock { $0.orders.ids.sorted() } }

    public func incrementID(entityID: Int) -> String? { state.withLock { $0.orders[entityID]?.incrementID } }

    /// Tracking numbers of every shipment of the order, in creation order.
    public func trackingNumbers(entityID: Int) -> [String] {
        state.withLock { state in
            state.shipments.filter { $0.orderID == entityID }.flatMap { $0.tracks.compactMap { $0["track_number"]?.string } }
        }
    }

    // MARK: Customers

    @discardableResult
    public func addCustomer(
        email: String, firstName: String, lastName: String, taxvat: String? = nil, customAttributes: [String: String] = [:],
        address: Address, at: Date? = nil
    ) -> Int {
        let stamp = MagentoTime.format(at ?? now())
        return state.withLock { state in
            let id = state.nextCustomerID
            state.nextCustomerID += 1
            state.customers[id] = Customer(
                id: id, email: email, firstName: firstName, lastName: lastName, taxvat: taxvat,
                customAttributes: customAttributes, address: address, createdAt: stamp, updatedAt: stamp)
            return id
        }
    }

    /// Bulk operations not yet complete (status 4, open).
    public var openBulkOperations: Int {
        state.withLock { $0.bulks.values.reduce(0) { $0 + $1.operations.filter { $0.status == 4 }.count } }
    }
}

/// The store's state behind one lock, shared by the public API and the route handlers.
final class MagentoStateBox: Sendable {
    private let mutex: Mutex<MagentoSandbox.State>

    init(_ state: MagentoSandbox.State) { mutex = Mutex(state) }

    func withLock<Result: Sendable>(_ body: (inout MagentoSandbox.State) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
