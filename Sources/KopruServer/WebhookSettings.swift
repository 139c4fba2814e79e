import Foundation
import KopruConnectors
import KopruCore
import KopruStore

#if canImport(Glibc)
import Glibc
#endif

/// How one connection receives webhooks: the verifier its connector kind builds from its
/// settings and secrets, and the intake rules every kind shares (`webhook.*` keys: delivery id,
/// topic, allow-list, rate, routing). Bad values are reported with the setting's name when the
/// connection is saved, so intake never meets them.
struct WebhookSettings: Sendable {
    var verifier: any WebhookVerifier
    /// The provider's delivery id; without one, deliveries are told apart by a hash of the body.
    var deliveryIDHeader: String?
    var topicHeader: String?
    var allowedNetworks: [IPNetwork] = []
    var ratePerSecond = Self.defaultRatePerSecond
    var burst = Self.defaultRatePerSecond * 2
    /// For `POST /api/integrations/webhook/{provider}`: which request value names this connection.
    var route: RouteKey?
    var routeValue: String?

    enum RouteKey: Hashable, Sendable {
        case header(String)
        /// A JSON pointer into the body, e.g. `/merchant/id`.
        case json(String)
    }

    /// The per-connection token bucket when `webhook.ratePerSecond` is unset: above what one hub
    /// process takes in on a 2-core machine (about 5,000 a second, docs/benchmarks.md), so a shop's
    /// real burst (a flash sale, a marketplace flushing its retries) meets the intake's own pace
    /// rather than 429s; it still stops one sender stuck in a loop from taking a bigger machine's
    /// whole intake. The burst is twice the rate, as when the rate is set.
    static let defaultRatePerSecond: Double = 10_000

    /// For a connection of `kind`: its defaults under the connection's own settings.
    init(connection: Connection, kind: ConnectorKind?) throws(APIError) {
        let webhooks = kind?.webhooks ?? .hmac()
        let settings = webhooks.defaults.merging(connection.settings) { $1 }
        do {
            verifier = try webhooks.verifier(settings, connection.secrets)
        } catch {
            throw .invalid(error.message, field: error.field ?? "settings")
        }
        func field(_ key: String) -> String { "settings.\(key)" }
        let value = { (key: String) -> String? in
            settings[key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        deliveryIDHeader = value("webhook.deliveryIdHeader")
        topicHeader = value("webhook.topicHeader")
        if let list = value("webhook.allowedIPs") {
            for entry in list.split(separator: ",") {
                guard let network = IPNetwork(entry.trimmingCharacters(in: .whitespaces)) else {
                    throw .invalid("\(entry) is not an IP address or CIDR block", field: field("webhook.allowedIPs"))
                }
                allowedNetworks.append(network)
            }
        }
        if let rate = value("webhook.ratePerSecond") {
            guard let parsed = Double(rate), parsed > 0 else {
                throw .invalid("must be a positive number", field: field("webhook.ratePerSecond"))
            }
            ratePerSecond = parsed
            burst = max(parsed * 2, 1)
        }
        if let burst = value("webhook.burst") {
            guard let parsed = Double(burst), parsed >= 1 else { throw .invalid("must be at least 1", field: field("webhook.burst")) }
            self.burst = parsed
        }
        if let routeBy = value("webhook.routeBy") {
            if routeBy.hasPrefix("header:"), routeBy.count > 7 {
                route = .header(String(routeBy.dropFirst(7)))
            } else if routeBy.hasPrefix("json:/") {
                route = .json(String(routeBy.dropFirst(5)))
            } else {
                throw .invalid("must be header:NAME or json:/POINTER", field: field("webhook.routeBy"))
            }
            guard let routeValue = value("webhook.routeValue") else {
                throw .invalid("is required with webhook.routeBy", field: field("webhook.routeValue"))
            }
            self.routeValue = routeValue
        }
    }

    /// Does this request name this connection (provider route)?
    func routes(_ request: WebhookRequest, json: @autoclosure () -> Any?) -> Bool {
        guard let route, let routeValue else { return false }
        switch route {
        case .header(let name): return request.header(name)?.trimmingCharacters(in: .whitespaces) == routeValue
        case .json(let pointer): return Self.resolve(pointer: pointer, in: json()).map { $0 == routeValue } ?? false
        }
    }

    private static func resolve(pointer: String, in document: Any?) -> String? {
        var current = document
        for token in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = current as? [String: Any] {
                current = object[key]
            } else if let array = current as? [Any], let index = Int(key), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        switch current {
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}

/// An IPv4 or IPv6 address or CIDR block, for the per-connection allow-list.
struct IPNetwork: Hashable, Sendable {
    let bytes: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = parts.first, let bytes = Self.parse(address) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...(bytes.count * 8)).contains(length) else { return nil }
        self.bytes = bytes
        self.prefixLength = length
    }

    func contains(_ address: String) -> Bool {
        guard var candidate = Self.parse(address) else { return false }
        // An IPv4 client seen through an IPv6 socket: ::ffff:a.b.c.d
        if candidate.count == 16, bytes.count == 4, candidate.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
            candidate = Array(candidate.suffix(4))
        }
        guard candidate.count == bytes.count else { return false }
        var remaining = prefixLength
        for (have, want) in zip(candidate, bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if have & mask != want & mask { return false }
            remaining -= bits
        }
        return true
    }

    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
