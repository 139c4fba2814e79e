import Foundation
import KopruCore

/// A request as a simulated system sees it: decoded path, query, lower-cased header names and
/// the exact body bytes (signatures are checked over them).
public struct SandboxRequest: Sendable {
    public var method: String
    public var path: String
    /// The path exactly as sent, percent-encoding intact (what an OAuth signature covers).
    public var rawPath: String
    /// The raw query string, without `?`, exactly as sent.
    public var rawQuery: String
    public var headers: [String: String]
    public var body: Data
    /// Values of the route's `:name` segments.
    public var parameters: [String: String] = [:]

    public init(
        method: String, path: String, rawPath: String? = nil, rawQuery: String = "", headers: [String: String] = [:],
        body: Data = Data()
    ) {
        self.method = method.uppercased()
        self.path = path
        self.rawPath = rawPath ?? path
        self.rawQuery = rawQuery
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body
    }

    /// Parses `/path?query` as a server receives it.
    public init(method: String, target: String, headers: [String: String] = [:], body: Data = Data()) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0]).removingPercentEncoding ?? String(parts[0])
        self.init(
            method: method, path: path, rawPath: String(parts[0]), rawQuery: parts.count > 1 ? String(parts[1]) : "", headers: headers, body: body)
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Query pairs decoded as PHP and most servers do (`+` is a space), in order.
    public var queryItems: [(name: String, value: String)] {
        rawQuery.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    public func query(_ name: String) -> String? { queryItems.last { $0.name == name }?.value }

    /// The body as JSON, or nil if it is not JSON.
    public var json: JSON? { try? JSON.parse(body) }
}

public struct SandboxResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    /// The business record the request was about (an order number, a SKU), for the ledger.
    public var businessKey: String?
    /// What the request changed, if anything ("created", "commented"), for the ledger.
    public var effect: String?

    public init(status: Int, headers: [String: String] = [:], body: Data = Data(), businessKey: String? = nil, effect: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.businessKey = businessKey
        self.effect = effect
    }

    public static func json(_ status: Int, _ value: JSON, businessKey: String? = nil, effect: String? = nil) -> SandboxResponse {
        SandboxResponse(
            status: status, headers: ["content-type": "application/json"], body: value.data, businessKey: businessKey,
            effect: effect)
    }

    public static func text(_ status: Int, _ text: String) -> SandboxResponse {
        SandboxResponse(status: status, headers: ["content-type": "text/plain; charset=utf-8"], body: Data(text.utf8))
    }

    public func keyed(_ businessKey: String?, effect: String? = nil) -> SandboxResponse {
        var copy = self
        copy.businessKey = businessKey ?? copy.businessKey
        copy.effect = effect ?? copy.effect
        return copy
    }
}

/// What the simulated network does with a request.
public enum SandboxOutcome: Sendable {
    case respond(SandboxResponse)
    /// Close the connection without answering.
    case drop
    /// Accept and never answer: the client's timeout decides.
    case hang
}
