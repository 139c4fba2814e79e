import Foundation
import KopruConnectors
import KopruCore

/// A canonical shipment → the `createPaysSupplierShipping` body (seed 004). Everything the seed
/// rules on is settled here, before a request is made: lines of one product merged, totals as the
/// sums of the lines, desi from the carrier formula, weight standing in as desi where unknown,
/// upper-case Turkish in every string but `shippingType`, field lengths, and city/county pairs
/// resolved against Horoz's own list. What cannot be settled fails naming the wire field.
enum HorozMapping {
    /// Over the limit: descriptive text is shortened; text that would change meaning if cut (an
    /// address, a phone, a code) refuses the shipment instead.
    enum Overflow { case shorten, refuse }

    struct Line: Equatable {
        var code: String
        var name: String
        var quantity: Int
        var weight: Decimal
        var desi: Decimal
        var category: String
    }

    static func body(
        for shipment: Shipment, configuration: HorozConfiguration, directory: CountyDirectory
    ) throws(ConnectorError) -> JSON {
        let lines = try merged(shipment.lines, configuration: configuration)
        var body: [String: JSON] = [:]
        func put(_ field: String, _ value: String?, _ limit: Int, _ overflow: Overflow) throws(ConnectorError) {
            body[field] = .string(try fit(value ?? "", field: field, limit: limit, overflow))
        }
        try put("requestNumber", shipment.reference, 50, .refuse)
        try put("customerRefNo", shipment.orderNumber, 50, .refuse)
        guard !shipment.reference.isEmpty else { throw .permanent("is empty", field: "requestNumber") }

        let (customerSide, supplierSide) = shipment.isReturn ? ("sender", "recipient") : ("recipient", "sender")
        body["\(supplierSide)Code"] = JSON(configuration.supplierCode)
        body["\(customerSide)Code"] = 0
        try party(
            customerSide, title: shipment.customer.company.flatMap { $0.isEmpty ? nil : $0 } ?? shipment.customerName,
            address: shipment.customer, email: shipment.customerEmail, directory: directory, configuration: configuration,
            into: &body)
        if let warehouse = configuration.warehouse {
            try party(
                supplierSide, title: configuration.warehouseTitle, address: warehouse, email: nil, directory: directory,
                configuration: configuration, into: &body)
        } else {
            for field in ["Title", "City", "County", "PhoneNumber"] { body["\(supplierSide)\(field)"] = "" }
            body[addressKey(supplierSide, configuration)] = ""
        }
        if let office = shipment.taxOffice, !office.isEmpty { try put("taxOffice", office, 20, .shorten) }
        if let number = shipment.taxNumber, !number.isEmpty { try put("taxNumber", number, 20, .refuse) }

        body["shipmentCount"] = JSON(lines.reduce(0) { $0 + $1.quantity })
        body["totalDesi"] = .number(lines.reduce(Decimal(0)) { $0 + $1.desi })
        body["shippingType"] = .string(shipment.isReturn ? "PaysSupplierReturn" : "PaysSupplier")
        let deliverBy = shipment.deliverBy ?? shipment.requestedAt.addingTimeInterval(Double(configuration.deliveryDays) * 86_400)
        body["requestDate"] = .string(istanbulDay(shipment.requestedAt))
        body["requestedDeliveryDate"] = .string(istanbulDay(max(deliverBy, shipment.requestedAt)))
        var details: [JSON] = []
        for (index, line) in lines.enumerated() {
            let prefix = "shippingDetail[\(index)]."
            details.append([
                "productCode": .string(try fit(line.code, field: prefix + "productCode", limit: 50, .refuse)),
                "productName": .string(try fit(line.name, field: prefix + "productName", limit: 100, .shorten)),
                "quantity": JSON(line.quantity),
                "weightInKg": .number(line.weight),
                "desi": .number(line.desi),
                "productCategory": .string(try fit(line.category, field: prefix + "productCategory", limit: 100, .shorten)),
            ])
        }
        body["shippingDetail"] = .array(details)
        return .object(body)
    }

    static func addressKey(_ side: String, _ configuration: HorozConfiguration) -> String {
        side == "sender" ? "senderAdress" : configuration.recipientAddressKey
    }

    /// One side's title, city, county, address, phone and e-mail.
    static func party(
        _ side: String, title: String, address: Address, email: String?, directory: CountyDirectory,
        configuration: HorozConfiguration, into body: inout [String: JSON]
    ) throws(ConnectorError) {
        let place = try resolve(side, address: address, directory: directory)
        body["\(side)Title"] = .string(try fit(title, field: "\(side)Title", limit: 100, .shorten))
        body["\(side)City"] = .string(place.city)
        body["\(side)County"] = .string(place.county)
        let street = [address.line1, address.line2 ?? ""].joined(separator: " ")
        let key = addressKey(side, configuration)
        body[key] = .string(try fit(street, field: key, limit: 500, .refuse))
        let phone = TurkishPhone.national(address.phone ?? "")
        guard !phone.isEmpty else { throw .permanent("is empty: the carrier calls the \(side) before delivery", field: "\(side)PhoneNumber") }
        body["\(side)PhoneNumber"] = .string(try fit(phone, field: "\(side)PhoneNumber", limit: 20, .refuse))
        if let email, !email.isEmpty { body["\(side)Email"] = .string(try fit(email, field: "\(side)Email", limit: 100, .refuse)) }
    }

    /// The pair as Horoz lists it, or a permanent failure naming the field and the nearest names.
    static func resolve(_ side: String, address: Address, directory: CountyDirectory) throws(ConnectorError) -> CountyDirectory.Place {
        let hint = "fix the address, or map it with settings alias.<CITY>/<COUNTY>: <CITY>/<COUNTY>, then replay (the request number stays the same)"
        switch directory.resolve(city: address.city, county: address.district) {
        case .found(let place): return place
        case .unknownCity(let typed, let nearest):
            throw .permanent(
                "\"\(typed)\" is not a city in Horoz's list; nearest: \(nearest.joined(separator: ", ")); \(hint)", field: "\(side)City")
        case .unknownCounty(let city, let county, let nearest):
            throw .permanent(
                "\"\(county)\" is not a county of \(city) in Horoz's list; nearest: \(nearest.joined(separator: ", ")); \(hint)",
                field: "\(side)County")
        }
    }

    /// Lines of one product become one line (the seed's "wrong" and "right" tables): quantities,
    /// weights and desi add up. Desi is unit desi × quantity, 3 decimals; a line's weight is its
    /// units' weight, or — where any unit's weight is unknown — its desi, as the seed asks.
    static func merged(_ lines: [ShipmentLine], configuration: HorozConfiguration) throws(ConnectorError) -> [Line] {
        guard !lines.isEmpty else { throw .permanent("needs at least one line", field: "shippingDetail") }
        var order: [String] = []
        var byCode: [String: (line: ShipmentLine, quantity: Int, weight: Decimal?, desi: Decimal)] = [:]
        for (index, line) in lines.enumerated() {
            guard line.quantity > 0 else {
                throw .permanent("quantity of \(line.sku) is \(line.quantity); it must be positive", field: "shippingDetail[\(index)].quantity")
            }
            guard let parcel = configuration.parcel(for: line) else {
                throw .permanent(
                    "no desi known for \(line.sku): set parcel.\(line.sku) (30x20x40 in cm, or a desi) or desi.default on the Horoz connection",
                    field: "shippingDetail[\(index)].desi")
            }
            let unitDesi = parcel.desi(divisor: configuration.desiDivisor)
            guard unitDesi > 0 else {
                throw .permanent("desi of \(line.sku) rounds to 0; Horoz refuses it (ERR-20009)", field: "shippingDetail[\(index)].desi")
            }
            let code = line.sku.rawValue
            let desi = (unitDesi * Decimal(line.quantity)).rounded(scale: 3, .halfAwayFromZero)
            let weight = line.unitWeightKg.flatMap { $0 > 0 ? ($0 * Decimal(line.quantity)) : nil }
            if var existing = byCode[code] {
                existing.quantity += line.quantity
                existing.desi += desi
                existing.weight = existing.weight.flatMap { total in weight.map { total + $0 } }
                byCode[code] = existing
            } else {
                order.append(code)
                byCode[code] = (line, line.quantity, weight, desi)
            }
        }
        return order.map { code in
            let entry = byCode[code]!
            let category = entry.line.category ?? configuration.categories[code] ?? configuration.defaultCategory
            return Line(
                code: upper(code), name: upper(entry.line.name), quantity: entry.quantity,
                weight: (entry.weight ?? entry.desi).rounded(scale: 3, .halfAwayFromZero), desi: entry.desi,
                category: upper(category))
        }
    }

    static func upper(_ text: String) -> String { TurkishText.uppercased(TurkishText.normalizingWhitespace(text)) }

    /// Upper-cased Turkish, white space collapsed, within `limit` characters.
    static func fit(_ text: String, field: String, limit: Int, _ overflow: Overflow) throws(ConnectorError) -> String {
        let value = upper(text)
        guard value.count > limit else { return value }
        switch overflow {
        case .shorten: return String(value.prefix(limit)).trimmingCharacters(in: .whitespaces)
        case .refuse:
            throw .permanent("is \(value.count) characters; Horoz takes at most \(limit) (ERR-20002)", field: field)
        }
    }

    /// `YYYY-MM-DD` on the calendar in Türkiye, whatever the server's time zone.
    static func istanbulDay(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Istanbul")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}
