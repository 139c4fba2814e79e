import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient
import KopruSandbox
import Testing

@testable import ConnectorHoroz

/// The Horoz connector against its sandbox over loopback HTTP: each rule of seed 004 and each
/// response code, from what the connector sends and from bodies sent to the sandbox directly.
@Suite("Horoz connector")
struct HorozConnectorTests {
    /// A served sandbox and a connector pointed at it.
    struct World {
        let horoz: HorozSandbox
        let server: SandboxServer
        let connector: HorozConnector
        let transport = AsyncHTTPClientTransport()

        init(settings: [String: String] = [:], key: String? = nil) async throws {
            horoz = HorozSandbox()
            server = try await SandboxServer(horoz.sandbox)
            connector = try HorozConnector(
                settings: ["baseURL": server.baseURL.absoluteString, "supplierCode": "801452", "desi.default": "2"].merging(settings) { $1 },
                secrets: ["processKey": Secret(key ?? horoz.settings.processKey)], transport: transport, counties: HorozCountyCache())
        }

        /// Posts a body as written, with the right key: what the sandbox says about it.
        func post(_ body: JSON, method: String = "createPaysSupplierShipping") async throws -> (status: Int, code: String, message: String) {
            var headers = HTTPFields.json()
            headers[HTTPField.Name("processKey")!] = horoz.settings.processKey
            let response = try await transport.send(
                OutboundRequest(method: .post, url: server.baseURL.appendingPathComponent(method), headers: headers, body: body.data))
            let json = try JSON.parse(response.body)
            return (response.status, json["response"]?["responseCode"]?.string ?? "", json["response"]?["responseMessage"]?.string ?? "")
        }

        var createRequests: Int { horoz.sandbox.ledger.entries(route: "createPaysSupplierShipping").count }

        func shutdown() async { await server.shutdown() }
    }

    static let requestedAt = Date(timeIntervalSince1970: 1_795_386_600)  // 2026-11-22 22:30 UTC = 2026-11-23 01:30 in İstanbul

    static func shipment(
        _ reference: String = "SO-1001", city: String = "istanbul", county: String = "şişli", line1: String = "Halaskargazi Cad. No:1 D:3",
        lines: [ShipmentLine] = [ShipmentLine(sku: "YTK-160", name: "Yatak 160x200", quantity: 1, unitWeightKg: 20)],
        isReturn: Bool = false
    ) -> Shipment {
        Shipment(
            orderID: OrderID("shop:\(reference)"), orderNumber: reference, reference: reference, carrier: "horoz", isReturn: isReturn,
            lines: lines,
            customer: Address(firstName: "Ayşe", lastName: "Yılmaz", line1: line1, district: county, city: city, phone: "+90 555 111 22 33"),
            customerEmail: "ayse@example.com", requestedAt: requestedAt)
    }

    /// A valid body in the sandbox's terms, for the codes only a hand-made body can reach.
    static func raw(_ change: (inout [String: JSON]) -> Void = { _ in }) -> JSON {
        var body: [String: JSON] = [
            "requestNumber": "RAW-1", "customerRefNo": "RAW-1", "senderCode": 801452, "senderTitle": "", "senderCity": "",
            "senderCounty": "", "senderAdress": "", "senderPhoneNumber": "", "recipientCode": 0, "recipientTitle": "AYŞE YILMAZ",
            "recipientCity": "ANKARA", "recipientCounty": "MAMAK", "recipientAdress": "ÖRNEK ADRES", "recipientPhoneNumber": "05443335511",
            "shipmentCount": 2, "totalDesi": .number(Decimal(string: "20.5")!), "shippingType": "PaysSupplier",
            "requestDate": "2026-11-23", "requestedDeliveryDate": "2026-11-26",
            "shippingDetail": [
                [
                    "productCode": "P1", "productName": "YASTIK", "quantity": 2, "weightInKg": .number(Decimal(string: "20.5")!),
                    "desi": .number(Decimal(string: "20.5")!), "productCategory": "EV TEKSTİLİ",
                ]
            ],
        ]
        change(&body)
        return .object(body)
    }

    @Test func theSeedsDuplicateLinesAreMergedAndTheTotalsAreTheirSums() async throws {
        let world = try await World(settings: ["parcel.PRODUCTCODE-1": "160"])
        defer { Task { await world.shutdown() } }
        let line = ShipmentLine(
            sku: "PRODUCTCODE-1", name: "PRODUCTNAME-1", quantity: 1, unitWeightKg: Decimal(string: "20.650")!, category: "YATAK")
        let shipment = Self.shipment("123456", lines: [line, line])
        let body = try await world.connector.requestBody(for: shipment)
        let details = try #require(body["shippingDetail"]?.array)
        #expect(details.count == 1)
        #expect(details[0]["quantity"] == 2 && details[0]["desi"]?.decimal == 320 && details[0]["weightInKg"]?.decimal == Decimal(string: "41.3"))
        #expect(body["shipmentCount"] == 2 && body["totalDesi"]?.decimal == 320)
        #expect(try await world.connector.createShipment(shipment) == "123456")
        #expect(world.horoz.record("123456") != nil)

        // The seed's "wrong" table, sent as it is, is refused; so are totals that do not add up.
        let wrong = Self.raw { body in
            let row: JSON = [
                "productCode": "PRODUCTCODE-1", "productName": "PRODUCTNAME-1", "quantity": 1, "weightInKg": .number(Decimal(string: "20.65")!),
                "desi": 160, "productCategory": "YATAK",
            ]
            body["shippingDetail"] = [row, row]
            body["shipmentCount"] = 2
            body["totalDesi"] = 320
        }
        #expect(try await world.post(wrong).code == HorozSandbox.Placeholder.duplicateProduct)
        #expect(try await world.post(Self.raw { $0["totalDesi"] = 21 }).code == HorozSandbox.Placeholder.totalsMismatch)
        #expect(try await world.post(Self.raw { $0["shipmentCount"] = 3 }).code == HorozSandbox.Placeholder.totalsMismatch)
    }

    @Test func desiComesFromDimensionsAndStandsInForAnUnknownWeight() async throws {
        let world = try await World(settings: ["parcel.KUTU": "30x20x40", "parcel.BUYUK": "160x200x25", "desi.divisor": "3000"])
        defer { Task { await world.shutdown() } }
        let body = try await world.connector.requestBody(
            for: Self.shipment(lines: [ShipmentLine(sku: "KUTU", quantity: 2), ShipmentLine(sku: "BUYUK", quantity: 1, unitWeightKg: 31)]))
        let details = try #require(body["shippingDetail"]?.array)
        #expect(details[0]["desi"]?.decimal == 16 && details[0]["weightInKg"]?.decimal == 16)
        #expect(details[1]["desi"]?.decimal == Decimal(string: "266.667") && details[1]["weightInKg"]?.decimal == 31)
        #expect(body["totalDesi"]?.decimal == Decimal(string: "282.667") && body["shipmentCount"] == 3)
    }

    @Test func aProductWithNoDesiKnownStopsTheShipmentNamingTheField() async throws {
        let horoz = HorozSandbox()
        let server = try await SandboxServer(horoz.sandbox)
        defer { Task { await server.shutdown() } }
        let connector = try HorozConnector(
            settings: ["baseURL": server.baseURL.absoluteString, "supplierCode": "801452"],
            secrets: ["processKey": Secret(horoz.settings.processKey)], transport: AsyncHTTPClientTransport(), counties: HorozCountyCache())
        let error = try await #require(throws: ConnectorError.self) { try await connector.createShipment(Self.shipment()) }
        #expect(error.disposition == .permanent && error.field == "shippingDetail[0].desi" && error.message.contains("parcel.YTK-160"))
        #expect(horoz.sandbox.ledger.entries(route: "createPaysSupplierShipping").isEmpty)
    }

    @Test func everyStringButShippingTypeIsTurkishUpperCase() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        var shipment = Self.shipment(
            city: "iğdır", county: "ığdır merkez", line1: "İnönü mah. ıhlamur sok. no:5 çiçek apt. şişli",
            lines: [ShipmentLine(sku: "ürün-ı", name: "ıspanak kurusu, İyi kalite", quantity: 1, category: "gıda & içecek")])
        shipment.customer.district = "merkez"
        shipment.customerName = "ıraz çağıl öğüt"
        shipment.taxOffice = "kadıköy"
        shipment.taxNumber = "12345678901"
        let body = try await world.connector.requestBody(for: shipment)
        #expect(body["recipientTitle"] == "IRAZ ÇAĞIL ÖĞÜT")
        #expect(body["recipientCity"] == "IĞDIR" && body["recipientCounty"] == "MERKEZ")
        #expect(body["recipientAdress"] == "İNÖNÜ MAH. IHLAMUR SOK. NO:5 ÇİÇEK APT. ŞİŞLİ")
        #expect(body["recipientEmail"] == "AYSE@EXAMPLE.COM" && body["taxOffice"] == "KADIKÖY")
        #expect(body["shippingDetail"]?[0]?["productName"] == "ISPANAK KURUSU, İYİ KALİTE")
        #expect(body["shippingDetail"]?[0]?["productCode"] == "ÜRÜN-I" && body["shippingDetail"]?[0]?["productCategory"] == "GIDA & İÇECEK")
        #expect(body["shippingType"] == "PaysSupplier")
        for (key, value) in body.object ?? [:] where key != "shippingType" {
            if case .string(let text) = value {
                let lower = text.contains { $0.isLowercase }
                #expect(!lower, "\(key): \(text)")
            }
        }
        _ = try await world.connector.createShipment(shipment)
        #expect(world.horoz.record("SO-1001") != nil)

        // Lower case, or upper case without the Turkish dot rules, is refused by the sandbox.
        #expect(try await world.post(Self.raw { $0["recipientTitle"] = "Ayşe Yılmaz" }).code == HorozSandbox.Placeholder.lowerCase)
        let naive = try await world.post(Self.raw { $0["recipientCity"] = "ISTANBUL"; $0["recipientCounty"] = "ŞIŞLI" })
        #expect(naive.code == HorozSandbox.Placeholder.brokenCityCounty && naive.message.hasSuffix("recipientCity"))
    }

    @Test func citiesAndCountiesAreFoundUnderOtherSpellingsOrNamedWithTheNearest() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let body = try await world.connector.requestBody(for: Self.shipment("SO-2", city: "Istanbul", county: "Eyüp"))
        #expect(body["recipientCity"] == "İSTANBUL" && body["recipientCounty"] == "EYÜPSULTAN")
        #expect(try await world.connector.requestBody(for: Self.shipment(city: "Urfa", county: "eyyubiye"))["recipientCity"] == "ŞANLIURFA")

        let error = try await #require(throws: ConnectorError.self) {
            try await world.connector.createShipment(Self.shipment("SO-3", city: "İSTANBUL", county: "Mecidiyeköy"))
        }
        #expect(error.disposition == .permanent && error.field == "recipientCounty")
        #expect(error.message.contains("nearest:") && error.message.contains("alias."))
        #expect(world.createRequests == 0)

        // The operator maps it, and the same request number goes through.
        let fixed = try await World(settings: ["alias.istanbul/mecidiyeköy": "İSTANBUL/ŞİŞLİ"])
        defer { Task { await fixed.shutdown() } }
        #expect(try await fixed.connector.createShipment(Self.shipment("SO-3", city: "İSTANBUL", county: "Mecidiyeköy")) == "SO-3")
        #expect(fixed.horoz.record("SO-3")?.body["recipientCounty"] == "ŞİŞLİ")
    }

    @Test func anAddressOverFiveHundredCharactersNeverReachesHoroz() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let long = String(repeating: "A", count: 501)
        let error = try await #require(throws: ConnectorError.self) { try await world.connector.createShipment(Self.shipment(line1: long)) }
        #expect(error.disposition == .permanent && error.field == "recipientAdress" && error.message.contains("501"))
        #expect(world.createRequests == 0)
        #expect(try await world.connector.createShipment(Self.shipment(line1: String(repeating: "A", count: 500))) == "SO-1001")

        let refused = try await world.post(Self.raw { $0["recipientAdress"] = .string(long) })
        #expect(refused.code == "ERR-20002" && refused.message == "GİRİLEN DEĞER ÇOK UZUN: recipientAdress")
        let classified = try #require(
            HorozErrors.classify(
                InboundResponse(status: 400, body: Data(#"{"response":{"responseCode":"ERR-20002","responseMessage":"GİRİLEN DEĞER ÇOK UZUN: recipientAdress"}}"#.utf8)),
                requestNumber: "X"))
        #expect(classified.disposition == .permanent && classified.field == "recipientAdress")
    }

    @Test func aResendAfterERR20003CountsAsDoneWithoutASecondShipment() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        #expect(try await world.connector.createShipment(Self.shipment()) == "SO-1001")
        let again = try await #require(throws: ConnectorError.self) { try await world.connector.createShipment(Self.shipment()) }
        #expect(again.disposition == .alreadyDone(reference: "SO-1001"))
        #expect(again.message.contains("ERR-20003") && !again.message.contains(world.horoz.settings.processKey))
        #expect(world.horoz.sandbox.ledger.effectCounts(route: "createPaysSupplierShipping", effect: "created") == ["SO-1001": 1])
        #expect(world.horoz.records.count == 1)

        // The code decides, not the HTTP status: the same with business errors answered 200.
        world.horoz.configure { $0.errorsWithHTTP200 = true }
        let as200 = try await #require(throws: ConnectorError.self) { try await world.connector.createShipment(Self.shipment()) }
        #expect(as200.disposition == .alreadyDone(reference: "SO-1001"))
    }

    @Test func tenSendsOfOneRequestNumberAtOnceMakeOneShipment() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let codes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<10 { group.addTask { try await world.post(Self.raw()).code } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(codes.filter { $0 == "STA-100" }.count == 1 && codes.filter { $0 == "ERR-20003" }.count == 9)
        #expect(world.horoz.sandbox.ledger.effectCounts(route: "createPaysSupplierShipping", effect: "created") == ["RAW-1": 1])
    }

    @Test func aWrongProcessKeyIsAnAuthenticationFailure() async throws {
        let world = try await World(key: "wrong-key")
        defer { Task { await world.shutdown() } }
        let error = try await #require(throws: ConnectorError.self) { try await world.connector.createShipment(Self.shipment()) }
        #expect(error.disposition == .authentication && error.message.contains("ERR-20001"))
        let control = try await #require(throws: ConnectorError.self) { try await world.connector.checkAccess() }
        #expect(control.disposition == .authentication)
    }

    @Test func serviceControlAndTheCountyListAreCachedOnce() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        #expect(try await world.connector.checkAccess() == "127.0.0.1")
        let directory = try await world.connector.directory()
        #expect(directory.count == 971 && world.horoz.countyCount == 971)
        _ = try await world.connector.createShipment(Self.shipment("A"))
        _ = try await world.connector.createShipment(Self.shipment("B", city: "ankara", county: "mamak"))
        #expect(world.horoz.sandbox.ledger.entries(route: "listCounties").count == 1)
    }

    @Test func eachCodeOfTheSeedsTable() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        let cases: [(String, JSON, String?)] = [
            ("ERR-20002", Self.raw { $0["requestNumber"] = "" }, "requestNumber"),
            ("ERR-20005", Self.raw { $0["senderCode"] = 1 }, "senderCode"),
            ("ERR-20006", Self.raw { $0["recipientCode"] = 801452 }, "recipientCode"),
            ("ERR-20007", Self.raw { $0["totalDesi"] = nil }, "shipmentCount/totalDesi"),
            ("ERR-20008", Self.raw { $0["shippingDetail"] = [] }, "shippingDetail"),
            ("ERR-20009", Self.raw { $0["shippingDetail"] = [["productCode": "P1", "productName": "Y", "quantity": 2, "weightInKg": 1, "desi": 0, "productCategory": "C"]] }, "shippingDetail[].desi"),
            ("ERR-20012", Self.raw { $0["totalDesi"] = 0 }, "totalDesi"),
            ("ERR-20056", Self.raw { $0["shippingType"] = "" }, "shippingType"),
            (HorozSandbox.Placeholder.badDate, Self.raw { $0["requestDate"] = "23.11.2026" }, "requestDate"),
        ]
        for (code, body, field) in cases {
            let (status, answered, message) = try await world.post(body)
            #expect(answered == code, "\(code): got \(answered) \(message)")
            let json: JSON = ["response": ["responseCode": .string(answered), "responseMessage": .string(message)]]
            let error = try #require(HorozErrors.classify(InboundResponse(status: status, body: json.data), requestNumber: "RAW-1"))
            #expect(error.disposition == .permanent && error.field == field, "\(code): \(error)")
        }
        #expect(try await world.post(Self.raw()).code == "STA-100")
        let success = InboundResponse(status: 200, body: Data(#"{"response":{"responseCode":"STA-100","responseMessage":"Kayit islemi basarili"}}"#.utf8))
        #expect(HorozErrors.classify(success, requestNumber: "RAW-1") == nil)
        let outage = try #require(HorozErrors.classify(InboundResponse(status: 503, body: Data("busy".utf8)), requestNumber: nil))
        #expect(outage.disposition == .retryable(after: nil))
    }

    @Test func ERR20071UntilTheAddressIsFixedThenTheSameRequestNumberGoesThrough() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        _ = try await world.connector.directory()  // cached while the county was still listed
        world.horoz.setCounty(city: "ANKARA", county: "MAMAK", listed: false)
        let shipment = Self.shipment("SO-71", city: "Ankara", county: "Mamak")
        let first = try await #require(throws: ConnectorError.self) { try await world.connector.createShipment(shipment) }
        #expect(first.disposition == .permanent && first.field == "recipientCounty")
        let second = try await #require(throws: ConnectorError.self) { try await world.connector.createShipment(shipment) }
        #expect(second.disposition == .permanent && second.message.contains("ERR-20071") && second.field == "recipientCity/recipientCounty")
        world.horoz.setCounty(city: "ANKARA", county: "MAMAK", listed: true)
        #expect(try await world.connector.createShipment(shipment) == "SO-71")
        let sent = world.horoz.sandbox.ledger.entries(route: "createPaysSupplierShipping").compactMap { try? JSON.parse($0.body)["requestNumber"] }
        #expect(sent == ["SO-71", "SO-71", "SO-71"])
    }

    @Test func aReturnIsTheMirrorImage() async throws {
        let world = try await World(settings: [
            "warehouse.title": "Depo", "warehouse.city": "Kocaeli", "warehouse.county": "Gebze", "warehouse.address": "OSB 1. Cad.",
            "warehouse.phone": "0262 000 00 00",
        ])
        defer { Task { await world.shutdown() } }
        let outbound = try await world.connector.requestBody(for: Self.shipment())
        #expect(outbound["senderCode"] == 801452 && outbound["recipientCode"] == 0 && outbound["shippingType"] == "PaysSupplier")
        #expect(outbound["senderCity"] == "KOCAELİ" && outbound["recipientCity"] == "İSTANBUL")
        var back = Self.shipment("SO-1001-IADE", isReturn: true)
        back.orderNumber = "SO-1001"
        let body = try await world.connector.requestBody(for: back)
        #expect(body["senderCode"] == 0 && body["recipientCode"] == 801452 && body["shippingType"] == "PaysSupplierReturn")
        #expect(body["senderTitle"] == "AYŞE YILMAZ" && body["senderCity"] == "İSTANBUL" && body["senderCounty"] == "ŞİŞLİ")
        #expect(body["senderAdress"] == "HALASKARGAZİ CAD. NO:1 D:3" && body["senderPhoneNumber"] == "05551112233")
        #expect(body["recipientTitle"] == "DEPO" && body["recipientCity"] == "KOCAELİ" && body["customerRefNo"] == "SO-1001")
        #expect(try await world.connector.createShipment(back) == "SO-1001-IADE")
        #expect(world.horoz.record("SO-1001-IADE")?.shippingType == "PaysSupplierReturn")
    }

    @Test func datesAreIstanbulCalendarDays() async throws {
        let world = try await World(settings: ["deliveryDays": "3"])
        defer { Task { await world.shutdown() } }
        let body = try await world.connector.requestBody(for: Self.shipment())
        #expect(body["requestDate"] == "2026-11-23" && body["requestedDeliveryDate"] == "2026-11-26")
        #expect(try await world.post(Self.raw { $0["requestedDeliveryDate"] = "2026-11-22" }).code == HorozSandbox.Placeholder.badDate)
    }

    @Test func labelsAndTrackingFromCreateBarcodeAndListShippingDetails() async throws {
        let world = try await World()
        defer { Task { await world.shutdown() } }
        world.horoz.configure { $0.acceptOnBarcode = false }
        _ = try await world.connector.createShipment(Self.shipment())
        #expect(try await world.connector.findLabel(reference: "SO-1001") == nil)
        let label = try await world.connector.createLabel(reference: "SO-1001")
        #expect(label.barcode.count == 14 && label.acceptanceID == String(label.barcode.prefix(11)))
        #expect(try await world.connector.findLabel(reference: "SO-1001")?.acceptanceID == label.acceptanceID)
        #expect(try await world.connector.tracking(reference: "SO-1001")?.trackingNumber == nil)
        let number = try #require(world.horoz.accept(requestNumber: "SO-1001"))
        #expect(try await world.connector.tracking(reference: "SO-1001") == TrackingState(trackingNumber: number, status: "MAL KABUL YAPILDI"))
        #expect(try await world.connector.tracking(reference: "NOPE") == nil)
    }
}
