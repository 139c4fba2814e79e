import Crypto
import Foundation
import KopruConnectors

/// OAuth 1.0a request signing (RFC 5849) as Magento verifies it for integration tokens when
/// they may not be used as bearer tokens (2.4.4+ default). JSON bodies are not signed.
struct OAuth1Signer: Sendable {
    enum Method: String, Sendable {
        case hmacSHA256 = "HMAC-SHA256"
        case hmacSHA1 = "HMAC-SHA1"
    }

    var consumerKey: String
    var consumerSecret: String
    var token: String
    var tokenSecret: String
    var method: Method = .hmacSHA256

    /// The `Authorization` header for a request to `url` (query included) with `method`.
    func authorization(method httpMethod: String, url: URL, nonce: String, timestamp: Int) -> String {
        let oauth: [(String, String)] = [
            ("oauth_consumer_key", consumerKey), ("oauth_nonce", nonce), ("oauth_signature_method", method.rawValue),
            ("oauth_timestamp", "\(timestamp)"), ("oauth_token", token), ("oauth_version", "1.0"),
        ]
        let signature = self.signature(method: httpMethod, url: url, oauth: oauth)
        let fields = (oauth + [("oauth_signature", signature)]).map { "\($0.0)=\"\(PercentEncoding.encode($0.1))\"" }
        return "OAuth " + fields.joined(separator: ", ")
    }

    func baseString(method httpMethod: String, url: URL, oauth: [(String, String)]) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        let query = (components.percentEncodedQueryItems ?? []).map {
            ($0.name.removingPercentEncoding ?? $0.name, ($0.value ?? "").removingPercentEncoding ?? ($0.value ?? ""))
        }
        components.query = nil
        components.fragment = nil
        components.scheme = components.scheme?.lowercased()
        components.host = components.host?.lowercased()
        if (components.scheme == "http" && components.port == 80) || (components.scheme == "https" && components.port == 443) {
            components.port = nil
        }
        let pairs: [(key: String, value: String)] = (query + oauth).map {
            (PercentEncoding.encode($0.0), PercentEncoding.encode($0.1))
        }
        let sorted = pairs.sorted { a, b in a.key == b.key ? a.value < b.value : a.key < b.key }
        let normalized = sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let base = components.string ?? url.absoluteString
        return "\(httpMethod.uppercased())&\(PercentEncoding.encode(base))&\(PercentEncoding.encode(normalized))"
    }

    func signature(method httpMethod: String, url: URL, oauth: [(String, String)]) -> String {
        let base = Data(baseString(method: httpMethod, url: url, oauth: oauth).utf8)
        let key = SymmetricKey(data: Data("\(PercentEncoding.encode(consumerSecret))&\(PercentEncoding.encode(tokenSecret))".utf8))
        switch method {
        case .hmacSHA256: return Data(HMAC<SHA256>.authenticationCode(for: base, using: key)).base64EncodedString()
        case .hmacSHA1: return Data(HMAC<Insecure.SHA1>.authenticationCode(for: base, using: key)).base64EncodedString()
        }
    }
}
