import Crypto
import Foundation
import KopruCore

/// A webhook as it arrived: the raw bytes (signatures are over these, never over re-encoded
/// JSON) and the headers, looked up case-insensitively.
public struct WebhookRequest: Sendable {
    public var body: [UInt8]
    public var headers: [String: String]
    public var receivedAt: Date

    /// Header names are lowercased here, so lookups need not care how the sender spelled them.
    public init(body: [UInt8], headers: [(name: String, value: String)], receivedAt: Date) {
        self.body = body
        self.headers = Dictionary(headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.receivedAt = receivedAt
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a webhook was refused. The message names what was wrong, never the expected signature.
public struct WebhookRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public static func signatureMissing(_ header: String) -> Self {
        Self(code: "signature_missing", message: "header \(header) with the signature is missing")
    }
    public static func signatureInvalid(_ header: String) -> Self {
        Self(code: "signature_invalid", message: "the signature in \(header) does not match the body")
    }
    public static func timestampMissing(_ header: String) -> Self {
        Self(code: "timestamp_missing", message: "header \(header) with the signing time is missing or not a number")
    }
    public static func stale(_ header: String, toleranceSeconds: Int) -> Self {
        Self(code: "timestamp_stale", message: "the time in \(header) is more than \(toleranceSeconds) s from now")
    }
    public static let noSecret = Self(
        code: "webhook_secret_missing", message: "this connection has no webhook secret configured, so it accepts no webhooks")

    public var description: String { "\(code): \(message)" }
}

/// Checks that a webhook came from whom it claims. Each provider adds its rule; most are a
/// configuration of `HMACWebhookVerifier`.
public protocol WebhookVerifier: Sendable {
    func verify(_ request: WebhookRequest) throws(WebhookRefusal)
}

/// HMAC-SHA256 over the raw body (optionally prefixed by a timestamp header's value), sent in
/// one header as hex or base64, optionally after a prefix such as `sha256=`. Comparison is
/// constant-time.
public struct HMACWebhookVerifier: WebhookVerifier {
    public enum Encoding: String, Sendable, CaseIterable {
        case hex, base64
    }

    public enum SignedBytes: String, Sendable, CaseIterable {
        /// The body as received.
        case body
        /// The timestamp header's value, a dot, then the body (as Stripe and Slack sign).
        case timestampDotBody = "timestamp.body"
    }

    public struct Rule: Hashable, Sendable {
        public var signatureHeader: String
        public var encoding: Encoding
        public var signaturePrefix: String
        public var signedBytes: SignedBytes
        /// Unix seconds; when set, deliveries signed longer than `toleranceSeconds` ago are refused.
        public var timestampHeader: String?
        public var toleranceSeconds: Int

        public init(
            signatureHeader: String = "X-Kopru-Signature", encoding: Encoding = .hex, signaturePrefix: String = "",
            signedBytes: SignedBytes = .body, timestampHeader: String? = nil, toleranceSeconds: Int = 300
        ) {
            self.signatureHeader = signatureHeader
            self.encoding = encoding
            self.signaturePrefix = signaturePrefix
            self.signedBytes = signedBytes
            self.timestampHeader = timestampHeader
            self.toleranceSeconds = toleranceSeconds
        }
    }

    public let rule: Rule
    private let secret: [UInt8]
    /// Made once: a key per webhook would be an allocation and a copy of the secret each time.
    /// Never changed after `init`, so sharing it across threads is safe (swift-crypto does not
    /// mark it Sendable).
    nonisolated(unsafe) private let key: SymmetricKey

    /// With no secret the verifier refuses everything: a connection never fails open.
    public init(secret: [UInt8], rule: Rule = Rule()) {
        self.secret = secret
        self.rule = rule
        self.key = SymmetricKey(data: secret)
    }

    public func verify(_ request: WebhookRequest) throws(WebhookRefusal) {
        guard !secret.isEmpty else { throw .noSecret }
        guard var sent = request.header(rule.signatureHeader)?.trimmingWhitespace, !sent.isEmpty else {
            throw .signatureMissing(rule.signatureHeader)
        }
        if !rule.signaturePrefix.isEmpty {
            guard sent.hasPrefix(rule.signaturePrefix) else { throw .signatureInvalid(rule.signatureHeader) }
            sent.removeFirst(rule.signaturePrefix.count)
        }
        guard let signature = decode(sent), signature.count == SHA256.byteCount else {
            throw .signatureInvalid(rule.signatureHeader)
        }
        // The signed bytes are fed to the HMAC in parts: no copy of the body with the timestamp in front.
        var code = HMAC<SHA256>(key: key)
        if let header = rule.timestampHeader {
            guard let text = request.header(header), let seconds = Int(text.trimmingWhitespace) else {
                throw .timestampMissing(header)
            }
            if abs(request.receivedAt.timeIntervalSince1970 - Double(seconds)) > Double(rule.toleranceSeconds) {
                throw .stale(header, toleranceSeconds: rule.toleranceSeconds)
            }
            if rule.signedBytes == .timestampDotBody {
                code.update(data: Array(text.utf8))
                code.update(data: [UInt8(ascii: ".")])
            }
        }
        code.update(data: request.body)
        // HashedAuthenticationCode == bytes compares in constant time.
        guard code.finalize() == signature else {
            throw .signatureInvalid(rule.signatureHeader)
        }
    }

    /// What a sender puts in the signature header for `body` (for tests, the demo and the benchmark).
    public static func signature(
        for body: [UInt8], secret: [UInt8], rule: Rule = Rule(), timestamp: String? = nil
    ) -> String {
        var signed = body
        if rule.signedBytes == .timestampDotBody, let timestamp { signed = Array(timestamp.utf8) + [UInt8(ascii: ".")] + body }
        let code = Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret)))
        let encoded = rule.encoding == .hex ? code.hexString : Data(code).base64EncodedString()
        return rule.signaturePrefix + encoded
    }

    private func decode(_ text: String) -> [UInt8]? {
        switch rule.encoding {
        case .base64: return Data(base64Encoded: text).map(Array.init)
        case .hex:
            let digits = Array(text.utf8)
            guard digits.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(digits.count / 2)
            var index = 0
            while index < digits.count {
                guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
    }

    private func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    /// Without leading and trailing white space, as `trimmingCharacters(in: .whitespaces)` gives,
    /// but in Swift: Foundation's goes through NSString, and it ran three times per webhook.
    public var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }
}

extension HMACWebhookVerifier.Rule {
    /// The rule a connection's `webhook.*` settings describe; a bad value names its setting.
    public init(settings: [String: String]) throws(ConnectorError) {
        self.init()
        func field(_ key: String) -> String { "settings.\(key)" }
        let value = { (key: String) -> String? in
            settings[key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        if let header = value("webhook.signatureHeader") { signatureHeader = header }
        if let text = value("webhook.encoding") {
            guard let parsed = HMACWebhookVerifier.Encoding(rawValue: text) else {
                throw .permanent("must be hex or base64", field: field("webhook.encoding"))
            }
            encoding = parsed
        }
        if let prefix = value("webhook.signaturePrefix") { signaturePrefix = prefix }
        if let signed = value("webhook.signedBytes") {
            guard let parsed = HMACWebhookVerifier.SignedBytes(rawValue: signed) else {
                throw .permanent("must be body or timestamp.body", field: field("webhook.signedBytes"))
            }
            signedBytes = parsed
        }
        timestampHeader = value("webhook.timestampHeader")
        if signedBytes == .timestampDotBody, timestampHeader == nil {
            throw .permanent("timestamp.body needs webhook.timestampHeader", field: field("webhook.timestampHeader"))
        }
        if let tolerance = value("webhook.toleranceSeconds") {
            guard let seconds = Int(tolerance), seconds > 0 else {
                throw .permanent("must be a positive whole number of seconds", field: field("webhook.toleranceSeconds"))
            }
            toleranceSeconds = seconds
        }
        // A sender whose clock is off by the configured skew signs times that far from ours.
        if timestampHeader != nil { toleranceSeconds += Int(try ClockSkew.from(settings: settings).components.seconds) }
    }
}
