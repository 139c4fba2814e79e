import Foundation
import HTTPTypes
import KopruCore

/// What must never reach a log: credential headers, secret-looking query parameters and JSON
/// keys, card data. Matching is by lower-cased name; values are replaced, never truncated.
public struct Redaction: Sendable {
    public var headerNames: Set<String>
    public var keys: Set<String>

    public init(headerNames: Set<String> = Redaction.defaultHeaders, keys: Set<String> = Redaction.defaultKeys) {
        self.headerNames = Set(headerNames.map { $0.lowercased() })
        self.keys = Set(keys.map { $0.lowercased() })
    }

    public static let defaultHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey", "processkey",
        "x-shopify-access-token", "x-shopify-hmac-sha256", "x-iyz-signature", "x-iyz-signature-v3",
    ]

    public static let defaultKeys: Set<String> = [
        "password", "secret", "token", "access_token", "refresh_token", "apikey", "api_key", "secretkey", "secret_key",
        "processkey", "signature", "hash", "cardnumber", "card_number", "cvc", "cvv", "cardholdername", "pan",
        "consumer_secret", "client_secret", "merchant_key",
    ]

    static let mask = "***"

    public func headers(_ fields: HTTPFields) -> [String: String] {
        var result: [String: String] = [:]
        for field in fields {
            let name = field.name.canonicalName
            result[name] = headerNames.contains(name) ? Self.mask : field.value
        }
        return result
    }

    public func url(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "(unparseable URL)" }
        components.user = nil
        components.password = components.password == nil ? nil : Self.mask
        components.queryItems = components.queryItems?.map { item in
            isSecret(item.name) ? URLQueryItem(name: item.name, value: Self.mask) : item
        }
        return components.string ?? "(unparseable URL)"
    }

    /// A JSON body with secret keys masked at any depth; anything else is summarised by size, as it
    /// may hold personal data we cannot pick out.
    public func body(_ data: Data, limit: Int = 4096) -> String {
        guard !data.isEmpty else { return "" }
        // Our own reader and writer: every call's body goes through here, and Foundation's
        // JSONSerialization (NSString bridging on Linux) cost more than the call it logged.
        guard let json = try? JSON.parse(data) else { return "(\(data.count) bytes, not JSON)" }
        // A body that is one bare string is a token more often than not (Magento's admin token).
        if case .string = json { return "(a JSON string, \(data.count) bytes, masked)" }
        let text = String(decoding: redact(json).data, as: UTF8.self)
        return text.utf8.count > limit ? String(text.prefix(limit)) + "…(\(data.count) bytes)" : text
    }

    private func isSecret(_ key: String) -> Bool { keys.contains(key.lowercased()) }

    private func redact(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            var copy: [String: JSON] = [:]
            copy.reserveCapacity(object.count)
            for (key, inner) in object { copy[key] = isSecret(key) ? .string(Self.mask) : redact(inner) }
            return .object(copy)
        case .array(let array): return .array(array.map(redact))
        case .string(let text): return .string(Self.scrubbingEchoedKeys(text))
        default: return value
        }
    }

    /// Some APIs echo the caller's key inside a message (Horoz ERR-20003: "... - Key: <processKey>
    /// TalepNo: ..."): a `Key:` followed by a value is masked wherever it appears in text.
    public static func scrubbingEchoedKeys(_ text: String) -> String {
        guard mayEchoAKey(text) else { return text }
        return text.replacingOccurrences(of: #"(?i)\b(key|anahtar)\s*:\s*[^\s,;]+"#, with: "$1: \(mask)", options: .regularExpression)
    }

    /// "key" or "anahtar" in any case, by bytes: most strings have neither, and asking Foundation
    /// for each one was most of a call log's cost.
    package static func mayEchoAKey(_ text: String) -> Bool {
        var window: UInt64 = 0
        for byte in text.utf8 {
            // U+212A KELVIN SIGN (E2 84 AA) folds to "k" in the regex's case-insensitive match;
            // its first two bytes are in the window as folded below (E2, 84 | 20).
            if byte == 0xAA, window & 0xFFFF == 0xE2_A4 {
                window = (window << 8) | 0x6B
                continue
            }
            let lower = byte | 0x20
            window = (window << 8) | UInt64(lower)
            if window & 0xFF_FFFF == 0x6B_6579 { return true }  // "key"
            if window & 0xFF_FFFF_FFFF_FFFF == 0x61_6E_61_68_74_61_72 { return true }  // "anahtar"
        }
        return false
    }
}
