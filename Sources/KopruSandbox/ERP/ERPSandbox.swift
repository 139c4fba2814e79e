import Foundation
import KopruCore
import Synchronization

/// The generic REST ERP of seed 000 and `specs/erp-generic.md` §A: `POST orders`, `GET stocks`
/// → `[{"sku","qty"}]`, plus Köprü's proposals (order lookup, customers, shipments feed,
/// `Idempotency-Key`). It validates like an ERP would: known product codes, whole quantities,
/// totals that add up, a valid e-mail and tax number. Whether it honours `Idempotency-Key` is a
/// setting, because most real ERPs do not — then only the hub's reconciliation prevents doubles.
public final class ERPSandbox: Sendable {
    public enum Auth: Sendable, Equatable {
        case bearer(String)
        case basic(user: String, password: String)
        case header(name: String, value: String)
    }

    /// How the hub can ask "do you already have order X?" (Köprü's proposal; real ERPs differ).
    public enum OrderLookup: Sendable, Equatable {
        /// `GET orders/{order_id}` → 200 with the record, or 404 `{"error":{"code":"ORDER_NOT_FOUND"}}`.
        case record
        /// `GET orders?order_id=…` → 200 with a list of the matching records, `[]` when none.
        case search
        /// `GET orders?order_id=…` answers the first orders whatever the filter (an untidy ERP
        /// whose list ignores parameters it does not know).
        case searchIgnoringFilter
        /// No way to ask: neither route exists (404 "no such endpoint", as for any unknown path).
        case none
    }

    /// What a repeated `Idempotency-Key` with the same body gets, when keys are honoured.
    public enum RepeatAnswer: Sendable, Equatable {
        /// 200 with the record the first request made (Stripe's way; the spec's first option).
        case firstRecord
        /// 409 with the first record's id (the spec's second option).
        case conflict
    }

    public struct Settings: Sendable {
        public var auth: Auth = .bearer("erp-sandbox-key")
        /// Where the API lives, with a trailing slash.
        public var basePath = "/api/v2/"
        /// Off: the header is ignored and a repeat makes a second document, as most real ERPs do.
        /// On: a POST without the header is refused (400), a repeat is answered per
        /// `repeatAnswer`, and a key reused with another body is a 422.
        public var honoursIdempotencyKey = true
        public var repeatAnswer = RepeatAnswer.firstRecord
        public var orderLookup = OrderLookup.record
        /// Fraction digits the ERP books money with; more on `total`, `shipping` or a price is a 422.
        public var moneyDecimals = 2
        /// Largest `page_size` served on `stocks` and `prices`.
        public var maxPageSize = 1000
        /// Above `maxPageSize`: false refuses with 400; true serves `maxPageSize` rows without a
        /// word, as real ERPs do (Logo, SAP B1).
        public var capsPageSizeSilently = false
        /// Rows in a list answer that names no size (Logo lists 25); nil serves the whole list.
        public var defaultPageSize: Int?
        /// `X-Total-Count` on list answers.
        public var sendsTotalCount = true
        /// `Link: </api/v2/stocks?after=CODE>; rel="next"` on every list page but the last, a
        /// keyset cursor that neither skips nor repeats rows when the list moves while read.
        public var sendsNextLinks = false
        /// New product codes that appear while a list is read: after each page served, this many
        /// codes sorting before everything are added (with stock 1), shifting later pages.
        public var codesAddedPerPage = 0

        public init() {}
    }

    public struct CreatedOrder: Sendable {
        public var documentNumber: String
        public var orderID: String
        public var body: JSON
        /// When the ERP booked it (benchmarks time webhook → ERP by it).
        public var bookedAt = Date()
        /// Cancelled through `POST orders/{id}/cancel`.
        public var cancelled = false
    }

    struct State {
        var settings: Settings
        var stock: [String: Int] = [:] {
            didSet { if stock.count != oldValue.count { sortedCodes = nil } }
        }
        /// The codes in page order, kept between requests (sorting 100 k codes per page would
        /// make the simulator, not the hub, the cost a benchmark measures).
        var sortedCodes: [String]?
        var prices: [String: Decimal] = [:]
        var orders: [CreatedOrder] = []
        /// Idempotency-Key → the document it made and the body that made it.
        var idempotency: [String: (documentNumber: String, body: JSON)] = [:]
        /// How many codes `codesAddedPerPage` has added so far.
        var codesAdded = 0
        var customers: [String: (id: String, body: JSON)] = [:]
        var shipments: [(orderID: String, carrier: String, tracking: String, at: Date)] = []
    }

    public let sandbox: Sandbox
    let state: ERPStateBox

    public init(settings: Settings = .init(), seed: UInt64 = 2) {
        state = ERPStateBox(State(settings: settings))
        var router = SandboxRouter()
        ERPRoutes(state: state).register(on: &router, basePath: settings.basePath)
        sandbox = Sandbox(name: "erp-rest", router: router, seed: seed) { _ in Self.noSuchEndpoint }
    }

    /// What any path the ERP does not serve gets: the same 404 a missing lookup route gives.
    static let noSuchEndpoint = SandboxResponse.json(404, ["error": ["code": "NOT_FOUND", "message": "no such endpoint"]])

    public var settings: Settings { state.withLock { $0.settings } }

    public func configure(_ change: (inout Settings) -> Void) { state.withLock { change(&$0.settings) } }

    public func setStock(code: String, quantity: Int) { state.withLock { $0.stock[code] = quantity } }

    public func setStock(_ levels: [String: Int]) { state.withLock { $0.stock.merge(levels) { $1 } } }

    /// List prices (TRY, VAT included) served by `GET prices`.
    public func setPrices(_ prices: [String: Decimal]) { state.withLock { $0.prices.merge(prices) { $1 } } }

    public var productCodes: [String] { state.withLock { $0.stock.keys.sorted() } }

    public func stockLevel(code: String) -> Int? { state.withLock { $0.stock[code] } }

    public var orders: [CreatedOrder] { state.withLock { $0.orders } }

    /// The order ids whose document is cancelled.
    public var cancelledOrders: Set<String> { state.withLock { Set($0.orders.filter(\.cancelled).map(\.orderID)) } }

    /// Documents booked so far, doubles included (a benchmark's progress without a copy).
    public var bookedDocuments: Int { state.withLock { $0.orders.count } }

    /// How many documents the ERP holds for each order id (more than one is a double).
    public var documentsPerOrder: [String: Int] {
        state.withLock { state in state.orders.reduce(into: [:]) { $0[$1.orderID, default: 0] += 1 } }
    }

    public var customers: [String: JSON] { state.withLock { $0.customers.mapValues(\.body) } }

    /// The warehouse ships an order: it appears in `GET shipments`.
    public func ship(orderID: String, trackingNumber: String, carrier: String = "Horoz Lojistik", at: Date = Date()) {
        state.withLock { $0.shipments.append((orderID, carrier, trackingNumber, at)) }
    }
}

final class ERPStateBox: Sendable {
    private let mutex: Mutex<ERPSandbox.State>

    init(_ state: ERPSandbox.State) { mutex = Mutex(state) }

    func withLock<Result: Sendable>(_ body: (inout ERPSandbox.State) -> Result) -> Result { mutex.withLock { body(&$0) } }
}
