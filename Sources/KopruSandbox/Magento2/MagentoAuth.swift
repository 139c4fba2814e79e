import Crypto
import Foundation
import KopruCore
import Synchronization

/// Who may call: an admin token from `/V1/integration/admin/token` (4 hours), the integration's
/// access token as a bearer (only if the store allows it), or an OAuth 1.0a signature
/// (HMAC-SHA256 or HMAC-SHA1) with a fresh nonce and a timestamp within ten minutes.
struct MagentoAuth {
    static let adminTokenLifetime: TimeInterval = 4 * 3600

    static func refusal(_ request: SandboxRequest, state: inout MagentoSandbox.State, now: Date) -> SandboxResponse? {
        let unauthorized = SandboxResponse.json(
            401,
            [
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": ["resources": "Magento_Sales::sales"],
            ])
        guard let header = request.header("authorization") else { return unauthorized }
        if header.hasPrefix("Bearer ") {
            let token = String(header.dropFirst("Bearer ".count))
            if let issued = state.adminTokens[token], now.timeIntervalSince(issued) < adminTokenLifetime { return nil }
            if token == state.credentials.accessToken, state.credentials.bearerIntegrationTokens { return nil }
            return unauthorized
        }
        guard header.hasPrefix("OAuth ") else { return unauthorized }
        let parameters = parse(header.dropFirst("OAuth ".count))
        let credentials = state.credentials
        guard parameters["oauth_consumer_key"] == credentials.consumerKey,
            parameters["oauth_token"] == credentials.accessToken,
            parameters["oauth_version", default: "1.0"] == "1.0",
            let method = parameters["oauth_signature_method"], ["HMAC-SHA256", "HMAC-SHA1"].contains(method),
            let nonce = parameters["oauth_nonce"], !nonce.isEmpty,
            let timestamp = parameters["oauth_timestamp"].flatMap(TimeInterval.init),
            let signature = parameters["oauth_signature"]
        else { return unauthorized }
        guard abs(now.timeIntervalSince1970 - timestamp) <= 600 else {
            return .json(401, ["message": "The timestamp is out of the allowed range."])
        }
        guard !state.nonces.contains("\(timestamp):\(nonce)") else {
            return .json(401, ["message": "The nonce is already being used by the consumer with ID %1", "parameters": ["1"]])
        }
        let host = request.header("host") ?? "localhost"
        var pairs = request.queryItems.map { ($0.name, $0.value) }
        pairs += parameters.filter { $0.key != "oauth_signature" && $0.key != "realm" }.map { ($0.key, $0.value) }
        let expected = sign(
            method: request.method, url: "http://\(host)\(request.rawPath)", parameters: pairs,
            consumerSecret: credentials.consumerSecret, tokenSecret: credentials.accessTokenSecret, sha1: method == "HMAC-SHA1")
        guard expected == signature else {
            return .json(401, ["message": "The signature is invalid. Verify and try again."])
        }
        state.nonces.insert("\(timestamp):\(nonce)")
        return nil
    }

    /// `key="value", key="value"` with percent-encoded values.
    static func parse(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            result[String(pair[0])] = value.removingPercentEncoding ?? value
        }
        return result
    }

    /// RFC 5849 §3.4: base string over the method, the URL without query, and every parameter
    /// (query + oauth_*) encoded, sorted and joined; keyed by both secrets.
    static func sign(
        method: String, url: String, parameters: [(String, String)], consumerSecret: String, tokenSecret: String, sha1: Bool
    ) -> String {
        let encoded: [(key: String, value: String)] = parameters.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { a, b in a.key == b.key ? a.value < b.value : a.key < b.key }
        let normalized = sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let base = "\(method.uppercased())&\(encode(url))&\(encode(normalized))"
        let key = SymmetricKey(data: Data("\(encode(consumerSecret))&\(encode(tokenSecret))".utf8))
        let mac: Data =
            sha1
            ? Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(base.utf8), using: key))
            : Data(HMAC<SHA256>.authenticationCode(for: Data(base.utf8), using: key))
        return mac.base64EncodedString()
    }

    static func encode(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
