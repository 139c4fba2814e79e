import Foundation
import HTTPTypes
import KopruCore
import KopruHTTPClient

/// The failure classes every HTTP connector shares (DESIGN: connectors classify, the engine
/// decides). A platform's own rules (Magento's "try again" messages, an ERP's 409) come first in
/// its `Errors.swift`; this is what is left.
extension ConnectorError {
    /// By status alone: 429 → rate limited, 401/403 → authentication, 408/5xx → retryable, other
    /// 4xx → permanent. `message` is the platform's own words, already free of secrets.
    public static func http(status: Int, message: String, headers: HTTPFields = [:], now: Date = Date()) -> ConnectorError {
        let text = "HTTP \(status): \(message)"
        switch status {
        case 429: return .rateLimited(text, retryAfter: RetryAfter.from(headers, now: now) ?? .seconds(30))
        case 401, 403: return .authentication(text)
        case 408, 500...599: return .retryable(text, after: RetryAfter.from(headers, now: now))
        default: return .permanent(text)
        }
    }

    /// The request may or may not have reached the target (timeout, connection reset): retry,
    /// and reconcile first where the effect is not idempotent.
    public static func network(_ error: any Error) -> ConnectorError {
        .retryable("no answer (outcome unknown): \(type(of: error)) \(String(describing: error).prefix(200))")
    }
}

/// RFC 3986 percent-encoding of a query name or value (also what OAuth 1.0a signs).
public enum PercentEncoding {
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    public static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    public static func query(_ items: [(String, String)]) -> String {
        items.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}

extension HTTPTransport {
    /// Sends, turning a transport failure into a classified `ConnectorError`. A middleware that
    /// refused to send (a spent rate budget, an open circuit) has classified its refusal already.
    public func exchange(_ request: OutboundRequest) async throws(ConnectorError) -> InboundResponse {
        do {
            return try await send(request)
        } catch let refused as ConnectorError {
            throw refused
        } catch let unsent as RequestNotSent {
            throw .notSent("no answer (\(unsent))")
        } catch {
            throw .network(error)
        }
    }
}

extension HTTPFields {
    public static func json(_ extra: [(HTTPField.Name, String)] = []) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json", .accept: "application/json"]
        for (name, value) in extra { fields[name] = value }
        return fields
    }
}
