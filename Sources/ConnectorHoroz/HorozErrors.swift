import Foundation
import KopruConnectors
import KopruCore
import KopruHTTPClient

/// Horoz's response codes (seed 004's table, spec §4) → the engine's classes. The code in the
/// body decides, whatever the HTTP status (Horoz's statuses are not established); without a
/// code, the status does.
enum HorozErrors {
    /// The code and message of an answer, wherever the method puts them.
    static func code(_ json: JSON?) -> (code: String, message: String)? {
        for pointer in ["/response", "/listCountiesOutput", ""] {
            if let code = json?.at(pointer: pointer)?["responseCode"]?.string {
                return (code, json?.at(pointer: pointer)?["responseMessage"]?.string ?? "")
            }
        }
        return nil
    }

    /// Nil for success (STA-*); else how the engine should treat the failure. `side` is the
    /// customer's side of the shipment, which ERR-20071 is about in practice.
    static func classify(_ response: InboundResponse, requestNumber: String?, side: String = "recipient") -> ConnectorError? {
        let json = try? JSON.parse(response.body)
        guard let (code, raw) = code(json) else {
            if (200..<300).contains(response.status) {
                // An answer we cannot read may still have created the order: retrying is safe,
                // because a repeat of the request number comes back as ERR-20003.
                return .retryable("Horoz answered \(response.status) without a response code")
            }
            return .http(status: response.status, message: String(decoding: response.body.prefix(200), as: UTF8.self), headers: response.headers)
        }
        if code.hasPrefix("STA-") { return nil }
        let message = "Horoz \(code): \(Redaction.scrubbingEchoedKeys(raw))"
        switch code {
        case "ERR-20001": return .authentication(message)
        case "ERR-20003": return .alreadyDone(message, reference: requestNumber)
        case "ERR-20071":
            return .permanent(
                "\(message) — fix the \(side) city/county (or map it with alias.* on the connection) and replay: the same request number is sent again",
                field: "\(side)City/\(side)County")
        case "ERR-20002": return .permanent(message, field: field(after: ":", in: raw, fallback: "requestNumber"))
        case "ERR-20005": return .permanent(message, field: "senderCode")
        case "ERR-20006": return .permanent(message, field: "recipientCode")
        case "ERR-20007": return .permanent(message, field: "shipmentCount/totalDesi")
        case "ERR-20008": return .permanent(message, field: "shippingDetail")
        case "ERR-20009": return .permanent(message, field: "shippingDetail[].desi")
        case "ERR-20012": return .permanent(message, field: "totalDesi")
        case "ERR-20056": return .permanent(message, field: "shippingType")
        default:
            if response.status >= 500 { return .retryable(message) }
            // Codes the seed does not list; the field, where the message ends with one.
            return .permanent(message, field: field(after: ":", in: raw, fallback: nil))
        }
    }

    /// "GİRİLEN DEĞER ÇOK UZUN: recipientAdress" → "recipientAdress"; Turkish descriptions
    /// ("TALEP NUMARASI") map to the field they describe.
    static func field(after separator: Character, in message: String, fallback: String?) -> String? {
        guard let index = message.lastIndex(of: separator) else { return fallback }
        let tail = message[message.index(after: index)...].trimmingCharacters(in: .whitespaces)
        if tail == "TALEP NUMARASI" { return "requestNumber" }
        let word = tail.split(separator: " ").first.map(String.init) ?? ""
        return word.isEmpty || word.contains(where: { !$0.isASCII }) ? fallback : word
    }
}
