import Foundation
import KopruConnectors
import KopruCore

/// A Horoz connection's settings (README: every key, its default, and which facts are not
/// established and therefore configurable). Read once per connector; a bad value is refused
/// naming its key.
public struct HorozConfiguration: Sendable {
    public var baseURL: URL
    var processKey: String
    /// The supplier's cari code Horoz registered for supplier-pays shipping.
    public var supplierCode: Int
    public var desiDivisor: Decimal
    /// Unit desi for a product with no parcel entry; nil: such a product stops the shipment.
    public var defaultParcel: Parcel?
    /// By SKU: "30x20x40" (cm) or a desi.
    public var parcels: [String: Parcel]
    public var categories: [String: String]
    public var defaultCategory: String
    /// `requestedDeliveryDate` = request date + this many days, unless the shipment says.
    public var deliveryDays: Int
    /// The seed's table spells `recipientAddress`, its sample `recipientAdress` (spec §7).
    public var recipientAddressKey: String
    /// The warehouse: sent as sender of outbound orders and recipient of returns when set
    /// (Horoz needs only the supplier code there).
    public var warehouse: Address?
    public var warehouseTitle: String
    /// Operator answers for addresses the rules cannot place: typed "city/county" → Horoz's.
    public var aliases: [(city: String, county: String, place: CountyDirectory.Place)]
    public var countyListMaxAge: Duration
    public var timeout: Duration
    /// Not established: the body key `createBarcode`/`cancel*` take the order number in.
    public var labelRequestKey: String
    public var labelBarcodePointer: String
    public var labelAcceptancePointer: String
    /// Not established: `listShippingDetails` path and where its answer keeps each fact.
    public var trackingPath: String
    public var trackingNumberPointer: String
    public var trackingStatusPointer: String
    public var trackingAcceptancePointer: String
    public var trackingBarcodePointer: String
    public var carrierTitle: String

    public init(settings: [String: String], secrets: [String: Secret]) throws(ConnectorError) {
        func text(_ key: String, _ fallback: String) -> String {
            let value = settings[key]?.trimmingCharacters(in: .whitespaces) ?? ""
            return value.isEmpty ? fallback : value
        }
        func int(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(ConnectorError) -> Int {
            guard let raw = settings[key] else { return fallback }
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw .permanent("must be a whole number in \(range.lowerBound)...\(range.upperBound)", field: "settings.\(key)")
            }
            return value
        }
        guard let base = settings["baseURL"], let url = URL(string: base.hasSuffix("/") ? base : base + "/"),
            ["http", "https"].contains(url.scheme ?? "")
        else { throw .permanent("must be the http(s) address Horoz gave with the processKey", field: "settings.baseURL") }
        baseURL = url
        guard let key = secrets["processKey"]?.reveal(), !key.isEmpty, key.count <= 100 else {
            throw .permanent("is required (at most 100 characters), issued by Horoz's integration team", field: "secrets.processKey")
        }
        processKey = key
        guard let code = settings["supplierCode"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), code > 0 else {
            throw .permanent("must be the supplier's cari code at Horoz (a positive whole number)", field: "settings.supplierCode")
        }
        supplierCode = code
        guard let divisor = Decimal(exactly: text("desi.divisor", "3000")), divisor > 0 else {
            throw .permanent("must be a positive number (3000 for domestic road freight)", field: "settings.desi.divisor")
        }
        desiDivisor = divisor
        if let raw = settings["desi.default"] {
            guard let parcel = Parcel(parsing: raw) else {
                throw .permanent("must be a desi (8) or dimensions in cm (30x20x40)", field: "settings.desi.default")
            }
            defaultParcel = parcel
        }
        var parcels: [String: Parcel] = [:]
        var categories: [String: String] = [:]
        var aliases: [(String, String, CountyDirectory.Place)] = []
        for (key, value) in settings {
            if key.hasPrefix("parcel.") {
                guard let parcel = Parcel(parsing: value) else {
                    throw .permanent("must be a desi (8) or dimensions in cm (30x20x40)", field: "settings.\(key)")
                }
                parcels[String(key.dropFirst("parcel.".count))] = parcel
            } else if key.hasPrefix("category."), key != "category.default" {
                categories[String(key.dropFirst("category.".count))] = value
            } else if key.hasPrefix("alias.") {
                let typed = key.dropFirst("alias.".count).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                let target = value.split(separator: "/", maxSplits: 1)
                guard typed.count == 2, target.count == 2 else {
                    throw .permanent("must map CITY/COUNTY as typed to CITY/COUNTY as Horoz lists it", field: "settings.\(key)")
                }
                aliases.append(
                    (String(typed[0]), String(typed[1]),
                     CountyDirectory.Place(
                        city: TurkishText.uppercased(TurkishText.normalizingWhitespace(String(target[0]))),
                        county: TurkishText.uppercased(TurkishText.normalizingWhitespace(String(target[1]))))))
            }
        }
        self.parcels = parcels
        self.categories = categories
        self.aliases = aliases
        defaultCategory = text("category.default", "GENEL")
        deliveryDays = try int("deliveryDays", 3, 0...60)
        recipientAddressKey = text("field.recipientAddress", "recipientAdress")
        guard ["recipientAdress", "recipientAddress"].contains(recipientAddressKey) else {
            throw .permanent("must be recipientAdress or recipientAddress", field: "settings.field.recipientAddress")
        }
        if let line = settings["warehouse.address"], let city = settings["warehouse.city"], let county = settings["warehouse.county"] {
            warehouse = Address(
                firstName: "", lastName: "", line1: line, district: county, city: city, phone: settings["warehouse.phone"])
        }
        warehouseTitle = text("warehouse.title", "")
        countyListMaxAge = .seconds(try int("countyListMaxAgeHours", 24, 1...720) * 3600)
        timeout = .seconds(try int("timeoutSeconds", 30, 1...300))
        labelRequestKey = text("field.labelRequest", "requestNumber")
        labelBarcodePointer = text("label.barcode", "/barcode")
        labelAcceptancePointer = text("label.acceptanceId", "/atfId")
        trackingPath = text("tracking.path", "listShippingDetails/{requestNumber}")
        trackingNumberPointer = text("tracking.number", "/shippingDeliveryState/trackingNumber")
        trackingStatusPointer = text("tracking.status", "/shippingDeliveryState/deliveryStatus")
        trackingAcceptancePointer = text("tracking.acceptanceId", "/shippingDeliveryState/lastAtf")
        trackingBarcodePointer = text("tracking.barcode", "/listOfShipments/0/barcode")
        carrierTitle = text("carrierTitle", "Horoz Lojistik")
    }

    func url(_ method: String) -> URL { baseURL.appendingPathComponent(method) }

    /// The unit parcel of a SKU: the line's own, the connection's table, or the default.
    func parcel(for line: ShipmentLine) -> Parcel? { line.parcel ?? parcels[line.sku.rawValue] ?? defaultParcel }
}
