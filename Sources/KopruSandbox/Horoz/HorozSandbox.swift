import Foundation
import KopruCore
import Synchronization

/// Horoz Lojistik's domestic-distribution and cargo-tracking services (seed 004,
/// `specs/horoz.md`), each method at `/<methodName>`. It is as strict as the seed: the
/// `processKey` header, field lengths, upper-case Turkish, city/county pairs from its own county
/// list, totals that equal the detail lines, one product per line, and a requestNumber used once
/// — with the memory behind ERR-20071 of request numbers once sent with a broken city/county.
/// Where the seed names no code (totals mismatch, unknown city on a first send, lower case, bad
/// dates) it answers with a placeholder in the same style, listed in `HorozRoutes.Placeholder`.
public final class HorozSandbox: Sendable {
    public struct Settings: Sendable {
        public var processKey = "horoz-sandbox-key"
        /// Supplier (cari) codes registered for supplier-pays shipping.
        public var supplierCodes: Set<Int> = [801452]
        /// The warehouse accepts the goods as soon as the label is made, and the tracking number
        /// appears; false leaves that to `accept(requestNumber:)`.
        public var acceptOnBarcode = true
        /// Business errors (ERR-*) with HTTP 200 and the code only in the body, instead of 4xx.
        /// Horoz's HTTP statuses are not established; the connector must read the body either way.
        public var errorsWithHTTP200 = false

        public init() {}
    }

    /// Codes the seed does not list, in its style, so a test can tell them apart. A real answer
    /// for these cases is not established (specs/horoz.md §4).
    public enum Placeholder {
        public static let invalidJSON = "ERR-20090"
        public static let unknownShippingType = "ERR-20091"
        public static let lowerCase = "ERR-20092"
        public static let badDate = "ERR-20093"
        public static let duplicateProduct = "ERR-20094"
        public static let totalsMismatch = "ERR-20095"
        public static let brokenCityCounty = "ERR-20096"
        public static let notFound = "ERR-20097"
        public static let notCancellable = "ERR-20098"
        /// A field sent with another JSON type than the seed's table gives (a number as text).
        public static let wrongType = "ERR-20099"
    }

    /// A shipment order Horoz holds.
    public struct Record: Sendable {
        public var requestNumber: String
        public var shippingType: String
        public var body: JSON
        public var createdAt: Date
        /// Goods-acceptance records (ATF ids) made by `createBarcode`, oldest first.
        public var atfIDs: [String] = []
        public var trackingNumber: String?
        public var cancelled = false
    }

    struct State {
        var settings: Settings
        var counties: [String: Set<String>]
        /// Place names as a locale-free upper-casing spells them (`ISTANBUL`), to the real name.
        var dotlessPlaceNames: [String: String] = [:]
        var records: [String: Record] = [:]
        /// Request numbers once sent with a city/county not in the list (ERR-20071's memory).
        var broken: Set<String> = []
        var nextATF: Int64 = 10_000_000_001
        var nextTracking: Int64 = 700_000_000_001
    }

    public let sandbox: Sandbox
    let state: HorozStateBox

    public init(settings: Settings = .init(), seed: UInt64 = 4) {
        var counties: [String: Set<String>] = [:]
        for (city, county) in TurkishCounties.all { counties[city, default: []].insert(county) }
        var initial = State(settings: settings, counties: counties)
        let names = Set(counties.keys).union(counties.values.joined())
        for name in names where name.contains("İ") {
            let dotless = name.replacingOccurrences(of: "İ", with: "I")
            if !names.contains(dotless) { initial.dotlessPlaceNames[dotless] = name }
        }
        state = HorozStateBox(initial)
        var router = SandboxRouter()
        HorozRoutes(state: state).register(on: &router)
        sandbox = Sandbox(name: "horoz", router: router, seed: seed) { _ in
            .json(404, ["response": ["responseCode": "ERR-404", "responseMessage": "METOD BULUNAMADI"]])
        }
    }

    public var settings: Settings { state.withLock { $0.settings } }

    public func configure(_ change: (inout Settings) -> Void) { state.withLock { change(&$0.settings) } }

    /// The shipment orders held, by requestNumber.
    public var records: [String: Record] { state.withLock { $0.records } }

    public func record(_ requestNumber: String) -> Record? { state.withLock { $0.records[requestNumber] } }

    /// How many (city, county) pairs `listCounties` serves.
    public var countyCount: Int { state.withLock { $0.counties.values.reduce(0) { $0 + $1.count } } }

    /// Takes a county off the list (a test's stale cache) or puts one on.
    public func setCounty(city: String, county: String, listed: Bool) {
        state.withLock { state in
            if listed { state.counties[city, default: []].insert(county) } else { state.counties[city]?.remove(county) }
        }
    }

    /// The warehouse scans the goods in: the tracking number appears in `listShippingDetails`.
    @discardableResult
    public func accept(requestNumber: String) -> String? {
        state.withLock { state in
            guard var record = state.records[requestNumber], !record.atfIDs.isEmpty else { return nil }
            if record.trackingNumber == nil {
                record.trackingNumber = String(state.nextTracking)
                state.nextTracking += 1
                state.records[requestNumber] = record
            }
            return record.trackingNumber
        }
    }
}

final class HorozStateBox: Sendable {
    private let mutex: Mutex<HorozSandbox.State>

    init(_ state: HorozSandbox.State) { mutex = Mutex(state) }

    func withLock<Result: Sendable>(_ body: (inout HorozSandbox.State) -> Result) -> Result { mutex.withLock { body(&$0) } }
}
