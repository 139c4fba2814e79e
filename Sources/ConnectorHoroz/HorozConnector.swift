import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient

/// Horoz Lojistik's domestic distribution (seed 004, specs/horoz.md): supplier-pays shipment
/// orders and their returns, labels (`createBarcode`) and tracking (`listShippingDetails`).
/// Every method is `<baseURL>/<methodName>` with the `processKey` header. The request number is
/// the idempotency key: a repeat is ERR-20003, which counts as done.
public struct HorozConnector: ShipmentSink, CarrierLabels, CarrierTracking, DeclaresEndpointLimits {
    public let configuration: HorozConfiguration
    let transport: any HTTPTransport
    let counties: HorozCountyCache

    public init(
        settings: [String: String], secrets: [String: Secret], transport: any HTTPTransport, counties: HorozCountyCache
    ) throws(ConnectorError) {
        configuration = try HorozConfiguration(settings: settings, secrets: secrets)
        self.transport = transport
        self.counties = counties
    }

    public static func endpointLimits(settings: [String: String]) throws(ConnectorError) -> EndpointLimits {
        try EndpointLimits(fallback: EndpointClass(name: "default", limit: nil) { _, _ in true }).configured(settings)
    }

    public var carrierTitle: String { configuration.carrierTitle }

    static let processKeyHeader = HTTPField.Name("processKey")!

    // MARK: Wire

    func send(_ method: HTTPRequest.Method, _ url: URL, body: JSON? = nil) async throws(ConnectorError) -> InboundResponse {
        let headers = HTTPFields.json([(.contentType, "application/json; charset=utf-8"), (Self.processKeyHeader, configuration.processKey)])
        return try await transport.exchange(
            OutboundRequest(method: method, url: url, headers: headers, body: body?.data ?? Data(), timeout: configuration.timeout))
    }

    // MARK: Counties

    /// Horoz's city/county list with the connection's own aliases, from the process cache.
    public func directory() async throws -> CountyDirectory {
        let places = try await counties.places(for: configuration.baseURL.absoluteString, maxAge: configuration.countyListMaxAge) {
            try await listCounties()
        }
        var directory = CountyDirectory(places)
        for alias in configuration.aliases { directory.addOverride(city: alias.city, county: alias.county, to: alias.place) }
        return directory
    }

    func listCounties() async throws(ConnectorError) -> [CountyDirectory.Place] {
        let response = try await send(.get, configuration.url("listCounties"))
        if let failure = HorozErrors.classify(response, requestNumber: nil) { throw failure }
        guard let list = (try? JSON.parse(response.body))?.at(pointer: "/listCountiesOutput/listCounties/county")?.array else {
            throw .retryable("listCounties answered without /listCountiesOutput/listCounties/county")
        }
        let places = list.compactMap { item -> CountyDirectory.Place? in
            guard let city = item["cityName"]?.string, let county = item["countyName"]?.string else { return nil }
            return CountyDirectory.Place(city: city, county: county)
        }
        guard !places.isEmpty else { throw .retryable("listCounties answered with an empty list") }
        return places
    }

    /// `serviceControl`: whether Horoz accepts this key from this address; the IP it saw.
    public func checkAccess() async throws -> String {
        let response = try await send(.get, configuration.url("serviceControl"))
        if let failure = HorozErrors.classify(response, requestNumber: nil) { throw failure }
        return (try? JSON.parse(response.body))?["ipBilgisi"]?.string ?? ""
    }

    // MARK: Shipment orders

    /// The request body for a shipment, exactly as it would be sent (tests and `kopru` show it).
    public func requestBody(for shipment: Shipment) async throws -> JSON {
        try HorozMapping.body(for: shipment, configuration: configuration, directory: try await directory())
    }

    /// `createPaysSupplierShipping`; the request number is the reference until a label exists.
    public func createShipment(_ shipment: Shipment) async throws -> String {
        let body = try await requestBody(for: shipment)
        let response = try await send(.post, configuration.url("createPaysSupplierShipping"), body: body)
        if let failure = HorozErrors.classify(
            response, requestNumber: shipment.reference, side: shipment.isReturn ? "sender" : "recipient")
        {
            throw failure
        }
        return shipment.reference
    }

    // MARK: Labels and tracking (field names not established: see README)

    public func createLabel(reference: String) async throws -> CarrierLabel {
        let response = try await send(.post, configuration.url("createBarcode"), body: [configuration.labelRequestKey: .string(reference)])
        if let failure = HorozErrors.classify(response, requestNumber: reference) { throw failure }
        let json = try? JSON.parse(response.body)
        guard let barcode = json?.at(pointer: configuration.labelBarcodePointer)?.string, !barcode.isEmpty else {
            // The ATF may exist now; the retry looks for it before making another.
            throw ConnectorError.retryable("createBarcode answered without a barcode at \(configuration.labelBarcodePointer)")
        }
        let acceptance = json?.at(pointer: configuration.labelAcceptancePointer)?.string ?? String(barcode.prefix(11))
        return CarrierLabel(barcode: barcode, acceptanceID: acceptance)
    }

    public func findLabel(reference: String) async throws -> CarrierLabel? {
        guard let json = try await details(reference),
            let acceptance = json.at(pointer: configuration.trackingAcceptancePointer)?.string, !acceptance.isEmpty
        else { return nil }
        let barcode = json.at(pointer: configuration.trackingBarcodePointer)?.string ?? acceptance
        return CarrierLabel(barcode: barcode, acceptanceID: acceptance)
    }

    public func tracking(reference: String) async throws -> TrackingState? {
        guard let json = try await details(reference) else { return nil }
        let number = json.at(pointer: configuration.trackingNumberPointer)?.string
        return TrackingState(
            trackingNumber: number.flatMap { $0.isEmpty ? nil : $0 }, status: json.at(pointer: configuration.trackingStatusPointer)?.string)
    }

    /// `listShippingDetails` for a request number; nil when Horoz does not know it.
    func details(_ reference: String) async throws -> JSON? {
        let path = configuration.trackingPath.replacingOccurrences(
            of: "{requestNumber}", with: PercentEncoding.encode(reference))
        guard let url = URL(string: path, relativeTo: configuration.baseURL) else {
            throw ConnectorError.permanent("does not make a URL", field: "settings.tracking.path")
        }
        let response = try await send(.get, url)
        if let failure = HorozErrors.classify(response, requestNumber: reference) {
            if case .permanent = failure.disposition { return nil }
            throw failure
        }
        return try? JSON.parse(response.body)
    }
}
