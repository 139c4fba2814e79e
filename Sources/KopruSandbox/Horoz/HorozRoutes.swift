import Foundation
import KopruCore

/// The methods, each at `/<methodName>`. Every answer carries `responseCode`/`responseMessage`
/// in the seed's words; the shipment methods wrap them in `response`, `listCounties` in
/// `listCountiesOutput`, `serviceControl` answers flat (as the portal shows each).
struct HorozRoutes: Sendable {
    let state: HorozStateBox

    typealias Placeholder = HorozSandbox.Placeholder

    static let stringLimits: [(field: String, limit: Int)] = [
        ("requestNumber", 50), ("customerRefNo", 50), ("senderTitle", 100), ("senderCity", 50), ("senderCounty", 50),
        ("senderAdress", 500), ("senderPhoneNumber", 20), ("senderEmail", 100), ("recipientTitle", 100), ("recipientCity", 50),
        ("recipientCounty", 50), ("recipientAddress", 500), ("recipientAdress", 500), ("recipientPhoneNumber", 20),
        ("recipientEmail", 100), ("taxOffice", 20), ("taxNumber", 20), ("shippingType", 20),
    ]
    static let lineLimits: [(field: String, limit: Int)] = [("productCode", 50), ("productName", 100), ("productCategory", 100)]

    func register(on router: inout SandboxRouter) {
        func route(_ method: String, _ path: String, _ handler: @escaping @Sendable (SandboxRequest) -> SandboxResponse) {
            let name = String(path.dropFirst().prefix { $0 != "/" })
            router.add(method, path, name: name) { request in
                let (key, errorsWith200) = state.withLock { ($0.settings.processKey, $0.settings.errorsWithHTTP200) }
                var response =
                    request.header("processKey") == key
                    ? handler(request) : Self.answer(401, "ERR-20001", "HATALI IŞLEM ANAHTARI", wrapped: name != "serviceControl")
                if errorsWith200, response.status != 200, response.status < 500 { response.status = 200 }
                return response
            }
        }
        route("GET", "/serviceControl", serviceControl)
        route("GET", "/listCounties", listCounties)
        route("POST", "/createPaysSupplierShipping") { create($0, supplierPays: true) }
        route("POST", "/createShipping") { create($0, supplierPays: false) }
        route("POST", "/cancelPaysSupplierShipping", typed(cancelShipping))
        route("POST", "/cancelShipping", typed(cancelShipping))
        route("POST", "/createBarcode", typed(createBarcode))
        route("POST", "/cancelBarcode", typed(cancelBarcode))
        route("GET", "/listShippingDetails/:number", listShippingDetails)
    }

    /// A method whose body holds only `requestNumber` (and `atfId`), read by type first.
    func typed(_ handler: @escaping @Sendable (SandboxRequest) -> SandboxResponse) -> @Sendable (SandboxRequest) -> SandboxResponse {
        { request in
            if let body = request.json, let refusal = Self.wrongType(body, schema: HorozWireTypes.byRequestNumber, key: nil) {
                return refusal
            }
            return handler(request)
        }
    }

    static func answer(_ status: Int, _ code: String, _ message: String, wrapped: Bool = true, extra: [String: JSON] = [:])
        -> SandboxResponse
    {
        let inner: JSON = ["responseCode": .string(code), "responseMessage": .string(message)]
        var body = wrapped ? ["response": inner] : inner.object ?? [:]
        body.merge(extra) { $1 }
        return .json(status, .object(body))
    }

    static func refuse(_ code: String, _ message: String, key: String? = nil) -> SandboxResponse {
        answer(code == "ERR-20003" ? 409 : 400, code, message).keyed(key, effect: "refused")
    }

    func serviceControl(_ request: SandboxRequest) -> SandboxResponse {
        .json(200, ["responseCode": "STA-100", "responseMessage": "Erişim Başarılı", "ipBilgisi": "127.0.0.1"])
    }

    func listCounties(_ request: SandboxRequest) -> SandboxResponse {
        let pairs = state.withLock { $0.counties.flatMap { city, counties in counties.map { (city, $0) } } }
        let list = pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { JSON.object(["cityName": .string($0.0), "countyName": .string($0.1)]) }
        return .json(
            200,
            ["listCountiesOutput": ["responseCode": "STA-100", "responseMessage": "ISLEM BASARILI", "listCounties": ["county": .array(list)]]])
    }

    // MARK: Shipment orders

    func create(_ request: SandboxRequest, supplierPays: Bool) -> SandboxResponse {
        guard let body = request.json, let object = body.object else {
            return Self.refuse(Placeholder.invalidJSON, "GEÇERSİZ İSTEK: GÖVDE JSON NESNESİ OLMALIDIR")
        }
        if let refusal = Self.wrongType(body, schema: HorozWireTypes.create, key: object["requestNumber"]?.string) { return refusal }
        guard case .string(let requestNumber) = object["requestNumber"], !requestNumber.isEmpty else {
            return Self.refuse("ERR-20002", "EKSİK PARAMETRE: TALEP NUMARASI")
        }
        let key = requestNumber
        guard case .string(let reference) = object["customerRefNo"], !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Self.refuse("ERR-20002", "EKSİK PARAMETRE: customerRefNo", key: key)
        }
        for (field, limit) in Self.stringLimits {
            if let text = object[field]?.string, text.count > limit {
                return Self.refuse("ERR-20002", "GİRİLEN DEĞER ÇOK UZUN: \(field)", key: key)
            }
        }
        for (index, line) in (object["shippingDetail"]?.array ?? []).enumerated() {
            for (field, limit) in Self.lineLimits where (line[field]?.string?.count ?? 0) > limit {
                return Self.refuse("ERR-20002", "GİRİLEN DEĞER ÇOK UZUN: shippingDetail[\(index)].\(field)", key: key)
            }
        }
        if let repeated = state.withLock({ Self.repeated(requestNumber, in: $0) }) { return repeated }
        let shippingType = object["shippingType"]?.string ?? ""
        guard !shippingType.isEmpty else { return Self.refuse("ERR-20056", "shippingType BİLGİSİ BOŞ GEÇİLEMEZ.", key: key) }
        // The prose writes "PaySupplier" once; the field table and sample say "PaysSupplier".
        let isReturn = shippingType == "PaysSupplierReturn"
        if supplierPays, !["PaysSupplier", "PaySupplier", "PaysSupplierReturn"].contains(shippingType) {
            return Self.refuse(Placeholder.unknownShippingType, "GEÇERSİZ shippingType: \(shippingType)", key: key)
        }
        if let refusal = checkParties(object, isReturn: isReturn, supplierPays: supplierPays, key: key) { return refusal }
        if let refusal = checkLines(object, key: key) { return refusal }
        if let refusal = checkCase(object, key: key) { return refusal }
        if let refusal = checkDates(object, key: key) { return refusal }
        return state.withLock { state -> SandboxResponse in
            // Checked again under the lock that stores: two sends at once must not both succeed.
            if let repeated = Self.repeated(requestNumber, in: state) { return repeated }
            if let (field, value) = brokenPlace(object, isReturn: isReturn, counties: state.counties) {
                let hint = state.dotlessPlaceNames[value].map { " (TÜRKÇE BÜYÜK HARF: \($0))" } ?? ""
                if state.broken.contains(requestNumber) {
                    return Self.refuse(
                        "ERR-20071",
                        "BU TALEP DAHA ÖNCE GÖNDEREN İL/İLÇE YADA ALICI İL/İLÇE BOZUK OLARAK SİSTEME GÖNDERİLMİŞ. KAYDI DÜZELTİP TEKRAR DENEYİNİZ",
                        key: key)
                }
                state.broken.insert(requestNumber)
                return Self.refuse(Placeholder.brokenCityCounty, "GEÇERSİZ İL/İLÇE BİLGİSİ\(hint): \(field)", key: key)
            }
            state.broken.remove(requestNumber)
            state.records[requestNumber] = HorozSandbox.Record(
                requestNumber: requestNumber, shippingType: shippingType, body: body, createdAt: Date())
            return Self.answer(200, "STA-100", "Kayit islemi basarili").keyed(key, effect: "created")
        }
    }

    /// The seed's field table gives each field a type; another JSON type is refused, naming it.
    static func wrongType(_ body: JSON, schema: [String: WireReader.Expected], key: String?) -> SandboxResponse? {
        do { try WireReader.check(body, schema: schema) } catch {
            let expected = HorozWireTypes.typeNames[error.expected] ?? error.expected.rawValue
            return refuse(Placeholder.wrongType, "GEÇERSİZ VERİ TİPİ: \(error.field) (\(expected) OLMALIDIR)", key: key)
        }
        return nil
    }

    /// ERR-20003, echoing the key as the seed shows it.
    static func repeated(_ requestNumber: String, in state: HorozSandbox.State) -> SandboxResponse? {
        guard state.records[requestNumber] != nil else { return nil }
        return refuse(
            "ERR-20003", "BU TALEP NUMARASI SISTEMDE MEVCUT - Key: \(state.settings.processKey) TalepNo: \(requestNumber)", key: requestNumber)
    }

    /// Supplier pays: the supplier's code on one side, 0 on the other, and the other side's
    /// details filled; a return is the mirror image.
    func checkParties(_ object: [String: JSON], isReturn: Bool, supplierPays: Bool, key: String) -> SandboxResponse? {
        let suppliers = state.withLock { $0.settings.supplierCodes }
        guard case .number = object["senderCode"], let sender = object["senderCode"]?.int else {
            return Self.refuse("ERR-20005", "GEÇERSİZ GÖNDEREN BİLGİSİ", key: key)
        }
        guard case .number = object["recipientCode"], let recipient = object["recipientCode"]?.int else {
            return Self.refuse("ERR-20006", "GEÇERSİZ ALICI BİLGİSİ", key: key)
        }
        if supplierPays {
            guard isReturn ? sender == 0 : suppliers.contains(sender) else {
                return Self.refuse("ERR-20005", "GEÇERSİZ GÖNDEREN BİLGİSİ", key: key)
            }
            guard isReturn ? suppliers.contains(recipient) : recipient == 0 else {
                return Self.refuse("ERR-20006", "GEÇERSİZ ALICI BİLGİSİ", key: key)
            }
        }
        let side = isReturn ? "sender" : "recipient"
        let address = isReturn ? "senderAdress" : (object["recipientAdress"] == nil ? "recipientAddress" : "recipientAdress")
        for field in ["\(side)Title", "\(side)City", "\(side)County", address, "\(side)PhoneNumber"]
        where (object[field]?.string ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            return Self.refuse("ERR-20002", "EKSİK PARAMETRE: \(field)", key: key)
        }
        return nil
    }

    func checkLines(_ object: [String: JSON], key: String) -> SandboxResponse? {
        guard let count = object["shipmentCount"]?.int, let total = object["totalDesi"]?.decimal else {
            return Self.refuse("ERR-20007", "EKSİK PARAMETRE: TOPLAM ADET/DESİ", key: key)
        }
        guard total > 0 else { return Self.refuse("ERR-20012", "TOPLAM DESI SIFIR OLAMAZ", key: key) }
        guard let lines = object["shippingDetail"]?.array, !lines.isEmpty else {
            return Self.refuse("ERR-20008", "EKSİK PARAMETRE: KARGO BİLGİLERİ", key: key)
        }
        var (quantities, desis) = (0, Decimal(0))
        var codes: Set<String> = []
        for line in lines {
            guard let code = line["productCode"]?.string, !code.isEmpty, !(line["productName"]?.string ?? "").isEmpty,
                !(line["productCategory"]?.string ?? "").isEmpty, let quantity = line["quantity"]?.int, quantity > 0,
                let weight = line["weightInKg"]?.decimal, weight > 0, let desi = line["desi"]?.decimal
            else { return Self.refuse("ERR-20008", "EKSİK PARAMETRE: KARGO BİLGİLERİ", key: key) }
            guard desi > 0 else { return Self.refuse("ERR-20009", "DESI BILGISI SIFIR OLAMAZ.", key: key) }
            guard codes.insert(code).inserted else {
                return Self.refuse(Placeholder.duplicateProduct, "AYNI ÜRÜN BİRDEN FAZLA SATIRDA GÖNDERİLEMEZ: \(code)", key: key)
            }
            quantities += quantity
            desis += desi
        }
        guard quantities == count, desis == total else {
            return Self.refuse(
                Placeholder.totalsMismatch,
                "TOPLAM ADET/DESİ DETAY İLE UYUMSUZ: shipmentCount \(count) / \(quantities), totalDesi \(total) / \(desis)", key: key)
        }
        return nil
    }

    /// Every string but `shippingType` in upper case. E-mail addresses are let through in lower
    /// case: the seed's own sample request sends them so.
    func checkCase(_ object: [String: JSON], key: String) -> SandboxResponse? {
        var fields: [(String, String)] = object.compactMap { name, value in
            guard case .string(let text) = value, name != "shippingType", !name.hasSuffix("Email") else { return nil }
            return (name, text)
        }
        for (index, line) in (object["shippingDetail"]?.array ?? []).enumerated() {
            for (name, value) in line.object ?? [:] {
                if case .string(let text) = value { fields.append(("shippingDetail[\(index)].\(name)", text)) }
            }
        }
        let sorted = fields.sorted(by: { $0.0 < $1.0 })
        for (name, text) in sorted where text.contains(where: \.isLowercase) {
            return Self.refuse(Placeholder.lowerCase, "ALANLAR BÜYÜK HARF İLE GİRİLMELİDİR: \(name)", key: key)
        }
        // Upper case without Turkish rules drops the dot of İ (`ISTANBUL`, `ŞIŞLI`); a place name
        // spelled so in a title or an address is caught. City and county fields are left to the
        // county list, which the real service checks them against (and remembers, ERR-20071).
        let naive = state.withLock { $0.dotlessPlaceNames }
        for (name, text) in sorted where !Self.placeFields.contains(name) {
            for word in text.split(whereSeparator: { !$0.isLetter }) {
                if let proper = naive[String(word)] {
                    return Self.refuse(
                        Placeholder.lowerCase, "TÜRKÇE BÜYÜK HARF KURALI (İ): \(name): \(word) YERİNE \(proper)", key: key)
                }
            }
        }
        return nil
    }

    static let placeFields: Set<String> = ["senderCity", "senderCounty", "recipientCity", "recipientCounty"]

    func checkDates(_ object: [String: JSON], key: String) -> SandboxResponse? {
        var days: [String: Date] = [:]
        for field in ["requestDate", "requestedDeliveryDate"] {
            guard let text = object[field]?.string, let day = Self.day(text) else {
                return Self.refuse(Placeholder.badDate, "GEÇERSİZ TARİH (YYYY-MM-DD): \(field)", key: key)
            }
            days[field] = day
        }
        if days["requestedDeliveryDate"]! < days["requestDate"]! {
            return Self.refuse(Placeholder.badDate, "TESLİM TARİHİ İSTEK TARİHİNDEN ÖNCE OLAMAZ: requestedDeliveryDate", key: key)
        }
        return nil
    }

    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Istanbul")!
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date
    }

    /// The first city/county field not in the list and its value, checking both sides where
    /// they are filled.
    func brokenPlace(_ object: [String: JSON], isReturn: Bool, counties: [String: Set<String>]) -> (String, String)? {
        for side in ["sender", "recipient"] {
            let city = object["\(side)City"]?.string ?? ""
            let county = object["\(side)County"]?.string ?? ""
            if city.isEmpty && county.isEmpty { continue }
            guard let known = counties[city] else { return ("\(side)City", city) }
            if !known.contains(county) { return ("\(side)County", county) }
        }
        return nil
    }

    // MARK: Cancel, labels, tracking

    /// The body's `requestNumber`, only when it is a non-empty JSON string.
    func requestNumber(_ request: SandboxRequest) -> String? {
        guard case .string(let number) = request.json?["requestNumber"], !number.isEmpty else { return nil }
        return number
    }

    func cancelShipping(_ request: SandboxRequest) -> SandboxResponse {
        guard let number = requestNumber(request) else { return Self.refuse("ERR-20002", "EKSİK PARAMETRE: TALEP NUMARASI") }
        return state.withLock { state in
            guard var record = state.records[number], !record.cancelled else {
                return Self.refuse(Placeholder.notFound, "KAYIT BULUNAMADI: \(number)", key: number)
            }
            guard record.atfIDs.isEmpty else {
                return Self.refuse(Placeholder.notCancellable, "MAL KABUL KAYDI OLAN SEVK EMRİ İPTAL EDİLEMEZ", key: number)
            }
            record.cancelled = true
            state.records[number] = record
            return Self.answer(200, "STA-100", "ISLEM BASARILI").keyed(number, effect: "cancelled")
        }
    }

    /// Approves the order and makes a goods-acceptance record (ATF). Each call makes a new one,
    /// so a client that retries blindly gets two: it should look in `listShippingDetails` first.
    func createBarcode(_ request: SandboxRequest) -> SandboxResponse {
        guard let number = requestNumber(request) else { return Self.refuse("ERR-20002", "EKSİK PARAMETRE: TALEP NUMARASI") }
        return state.withLock { state in
            guard var record = state.records[number], !record.cancelled else {
                return Self.refuse(Placeholder.notFound, "KAYIT BULUNAMADI: \(number)", key: number)
            }
            let atf = String(state.nextATF)
            state.nextATF += 1
            record.atfIDs.append(atf)
            if state.settings.acceptOnBarcode, record.trackingNumber == nil {
                record.trackingNumber = String(state.nextTracking)
                state.nextTracking += 1
            }
            state.records[number] = record
            let pieces = record.body["shipmentCount"]?.int ?? 1
            let labels = (1...max(1, pieces)).map { piece in
                JSON.object(["barcode": .string(atf + String(format: "%03d", piece)), "pieceNo": JSON(piece), "pieceCount": JSON(pieces)])
            }
            return Self.answer(
                200, "STA-100", "ISLEM BASARILI",
                extra: ["barcode": .string(atf + "001"), "atfId": .string(atf), "labels": .array(labels)]
            ).keyed(number, effect: "created")
        }
    }

    func cancelBarcode(_ request: SandboxRequest) -> SandboxResponse {
        guard let number = requestNumber(request), case .string(let atf) = request.json?["atfId"] else {
            return Self.refuse("ERR-20002", "EKSİK PARAMETRE: atfId / TALEP NUMARASI")
        }
        return state.withLock { state in
            guard var record = state.records[number], let index = record.atfIDs.firstIndex(of: atf) else {
                return Self.refuse(Placeholder.notFound, "KAYIT BULUNAMADI: \(atf)", key: number)
            }
            guard record.trackingNumber == nil else {
                return Self.refuse(Placeholder.notCancellable, "OKUTULMUŞ BARKOD İPTAL EDİLEMEZ", key: number)
            }
            record.atfIDs.remove(at: index)
            state.records[number] = record
            return Self.answer(200, "STA-100", "ISLEM BASARILI").keyed(number, effect: "cancelled")
        }
    }

    /// By requestNumber or tracking number. Field names inside are the spec's best guess.
    func listShippingDetails(_ request: SandboxRequest) -> SandboxResponse {
        let number = request.parameters["number"] ?? ""
        return state.withLock { state in
            guard let record = state.records[number] ?? state.records.values.first(where: { $0.trackingNumber == number }) else {
                return Self.refuse(Placeholder.notFound, "KAYIT BULUNAMADI: \(number)", key: number)
            }
            let body = record.body
            let status =
                record.cancelled ? "İPTAL" : record.trackingNumber != nil ? "MAL KABUL YAPILDI" : record.atfIDs.isEmpty ? "SEVK EMRİ ALINDI" : "MAL KABUL BEKLENİYOR"
            let deliveryState: JSON = [
                "orderNumber": .string(record.requestNumber), "trackingNumber": JSON(record.trackingNumber),
                "lastAtf": JSON(record.atfIDs.last), "sender": body["senderTitle"] ?? "", "recipient": body["recipientTitle"] ?? "",
                "totalQuantity": body["shipmentCount"] ?? 0, "deliveryStatus": .string(status),
            ]
            let shipments = record.atfIDs.map { JSON.object(["atfId": .string($0), "barcode": .string($0 + "001")]) }
            var movements: [JSON] = [["description": "SEVK EMRİ ALINDI", "date": .string(Self.stamp(record.createdAt))]]
            if record.trackingNumber != nil { movements.append(["description": "MAL KABUL YAPILDI", "date": .string(Self.stamp(Date()))]) }
            return Self.answer(
                200, "STA-100", "ISLEM BASARILI",
                extra: ["shippingDeliveryState": deliveryState, "listOfShipments": .array(shipments), "listOfMovements": .array(movements)])
        }
    }

    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Istanbul")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }
}
