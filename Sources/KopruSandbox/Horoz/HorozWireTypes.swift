import Foundation
import KopruCore

/// The JSON type of every body field, from seed 004's table (`string`, `integer`, `float`,
/// `DATE` as a string, `ArrayList`): a count or a code sent as text, or a name sent as a
/// number, is refused with the field's name (placeholder `ERR-20099`; the seed lists no code).
enum HorozWireTypes {
    static let strings = [
        "requestNumber", "customerRefNo", "senderTitle", "senderCity", "senderCounty", "senderAdress", "senderPhoneNumber",
        "senderEmail", "recipientTitle", "recipientCity", "recipientCounty", "recipientAddress", "recipientAdress",
        "recipientPhoneNumber", "recipientEmail", "taxOffice", "taxNumber", "shippingType", "requestDate", "requestedDeliveryDate",
    ]

    static let create: [String: WireReader.Expected] = Dictionary(uniqueKeysWithValues: strings.map { ($0, .string) }).merging([
        "senderCode": .integer, "recipientCode": .integer, "shipmentCount": .integer, "totalDesi": .number,
        "shippingDetail": .array, "shippingDetail[]": .object, "shippingDetail[].productCode": .string,
        "shippingDetail[].productName": .string, "shippingDetail[].productCategory": .string,
        "shippingDetail[].quantity": .integer, "shippingDetail[].weightInKg": .number, "shippingDetail[].desi": .number,
    ]) { $1 }

    /// `cancel*`, `createBarcode`, `cancelBarcode`.
    static let byRequestNumber: [String: WireReader.Expected] = ["requestNumber": .string, "atfId": .string]

    static let typeNames: [WireReader.Expected: String] = [
        .string: "STRING", .integer: "INTEGER", .number: "FLOAT", .boolean: "BOOLEAN", .object: "NESNE", .array: "DİZİ",
    ]
}
