import Foundation
import KopruCore
import KopruHTTPClient

/// What a connector can be asked to do: one case per capability protocol in Capabilities.swift,
/// so a flow kind can say what it needs and the admin API can refuse a flow no connector runs.
public enum Capability: String, Hashable, Sendable, CaseIterable, Comparable {
    case orderFeed, orderSink, orderNotes
    case stockSource, stockSink, bulkStockSink, stockReader
    case priceSource, priceSink
    case customerFeed, customerSink
    case shipmentFeed, orderShipmentSink
    case shipmentSink, carrierLabels, carrierTracking

    /// Whether `connector` implements this capability's protocol.
    public func isImplemented(by connector: any Sendable) -> Bool {
        switch self {
        case .orderFeed: connector is any OrderFeed
        case .orderSink: connector is any OrderSink
        case .orderNotes: connector is any OrderNotes
        case .stockSource: connector is any StockSource
        case .stockSink: connector is any StockSink
        case .bulkStockSink: connector is any BulkStockSink
        case .stockReader: connector is any StockReader
        case .priceSource: connector is any PriceSource
        case .priceSink: connector is any PriceSink
        case .customerFeed: connector is any CustomerFeed
        case .customerSink: connector is any CustomerSink
        case .shipmentFeed: connector is any ShipmentFeed
        case .orderShipmentSink: connector is any OrderShipmentSink
        case .shipmentSink: connector is any ShipmentSink
        case .carrierLabels: connector is any CarrierLabels
        case .carrierTracking: connector is any CarrierTracking
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One setting a connector kind reads, with its type and default, so a connection is checked
/// when it is saved (naming the key), and documentation and the admin API can list them.
public struct SettingSpec: Hashable, Sendable {
    public enum ValueType: Hashable, Sendable {
        case text, url, integer, decimal, boolean
        case oneOf([String])
    }

    /// The key, or a prefix ending in "." for a family (`parcel.` covers `parcel.SKU-1`).
    public var key: String
    public var type: ValueType
    public var defaultValue: String?
    public var required: Bool
    public var help: String

    public init(_ key: String, _ type: ValueType = .text, default defaultValue: String? = nil, required: Bool = false, help: String = "") {
        self.key = key
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.help = help
    }

    public var isFamily: Bool { key.hasSuffix(".") }

    func covers(_ name: String) -> Bool { isFamily ? name.hasPrefix(key) : name == key }

    /// Nil when `value` is one of this type; else why not.
    func problem(with value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        switch type {
        case .text: return nil
        case .url:
            guard let url = URL(string: trimmed), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                return "must be an http(s) URL"
            }
            return nil
        case .integer: return Int(trimmed) == nil ? "must be a whole number" : nil
        case .decimal: return Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) == nil ? "must be a number" : nil
        case .boolean: return ["true", "false"].contains(trimmed) ? nil : "must be true or false"
        case .oneOf(let choices): return choices.contains(trimmed) ? nil : "must be one of \(choices.joined(separator: ", "))"
        }
    }
}

/// What a kind's `build` gets: one stored connection's settings and secrets, and the transport
/// its requests go through (rate budgets and the call log already in it).
public struct ConnectorInput: Sendable {
    public var connection: ConnectionID
    public var settings: [String: String]
    public var secrets: [String: Secret]
    public var transport: any HTTPTransport

    public init(connection: ConnectionID, settings: [String: String], secrets: [String: Secret], transport: any HTTPTransport) {
        self.connection = connection
        self.settings = settings
        self.secrets = secrets
        self.transport = transport
    }
}

/// How a kind's connections check the webhooks they receive. The default is the generic
/// HMAC-over-the-raw-body rule read from `webhook.*` settings; a provider with another scheme
/// (fields of the body, Basic authentication) gives its own `verifier`.
public struct WebhookVerification: Sendable {
    /// `webhook.*` settings a connection of this kind starts with (its own settings win).
    public var defaults: [String: String]
    /// Builds the verifier from the connection's settings (defaults merged in) and secrets; a
    /// bad setting is a permanent `ConnectorError` naming it.
    public var verifier: @Sendable (_ settings: [String: String], _ secrets: [String: Secret]) throws(ConnectorError) -> any WebhookVerifier
    /// The headers that sign `body` as the provider would, at `now`: the dashboard's "send test
    /// webhook" goes through the real intake with them. Nil for a kind that cannot sign (its
    /// provider's key is not ours to hold), or a connection with no secret.
    public var sign: @Sendable (_ settings: [String: String], _ secrets: [String: Secret], _ body: [UInt8], _ now: Date) -> [(name: String, value: String)]?

    public init(
        defaults: [String: String] = [:],
        verifier: @escaping @Sendable (_ settings: [String: String], _ secrets: [String: Secret]) throws(ConnectorError) -> any WebhookVerifier,
        sign: @escaping @Sendable (_ settings: [String: String], _ secrets: [String: Secret], _ body: [UInt8], _ now: Date) -> [(name: String, value: String)]? = {
            _, _, _, _ in nil
        }
    ) {
        self.defaults = defaults
        self.verifier = verifier
        self.sign = sign
    }

    /// HMAC-SHA256 of the raw body with the `webhookSecret`, shaped by `webhook.*` settings.
    public static func hmac(defaults: [String: String] = [:]) -> Self {
        Self(defaults: defaults) { settings, secrets throws(ConnectorError) in
            HMACWebhookVerifier(
                secret: secrets["webhookSecret"].map { Array($0.reveal().utf8) } ?? [], rule: try HMACWebhookVerifier.Rule(settings: settings))
        } sign: { settings, secrets, body, now in
            guard let secret = secrets["webhookSecret"].map({ Array($0.reveal().utf8) }), !secret.isEmpty,
                let rule = try? HMACWebhookVerifier.Rule(settings: settings)
            else { return nil }
            let timestamp = "\(Int(now.timeIntervalSince1970))"
            var headers = [(name: rule.signatureHeader, value: HMACWebhookVerifier.signature(for: body, secret: secret, rule: rule, timestamp: timestamp))]
            if let header = rule.timestampHeader { headers.append((header, timestamp)) }
            return headers
        }
    }
}

/// A connector kind, described once in its own target: the admin API, the configuration
/// reader, the runtime and the OpenAPI test read this instead of repeating it.
public struct ConnectorKind: Sendable {
    /// DESIGN.md's type id (`magento2`, `erp-rest`, `horoz`, ...).
    public var id: String
    public var name: String
    public var capabilities: Set<Capability>
    public var settings: [SettingSpec]
    public var webhooks: WebhookVerification
    /// The kind's endpoint classes and their rate limits, `rateLimit.<class>` settings applied.
    public var endpointLimits: @Sendable (_ settings: [String: String]) throws(ConnectorError) -> EndpointLimits
    public var build: @Sendable (ConnectorInput) throws(ConnectorError) -> any Sendable

    public init(
        id: String, name: String, capabilities: Set<Capability>, settings: [SettingSpec] = [], webhooks: WebhookVerification = .hmac(),
        endpointLimits: @escaping @Sendable (_ settings: [String: String]) throws(ConnectorError) -> EndpointLimits,
        build: @escaping @Sendable (ConnectorInput) throws(ConnectorError) -> any Sendable
    ) {
        self.id = id
        self.name = name
        self.capabilities = capabilities
        self.settings = settings
        self.webhooks = webhooks
        self.endpointLimits = endpointLimits
        self.build = build
    }

    /// Checks the settings this kind declares: types, required keys. Keys it does not declare
    /// pass (a profile may carry mapping keys), `settings.` prefixed in the error's field.
    public func validate(settings values: [String: String]) throws(ConnectorError) {
        for spec in settings where spec.required && !spec.isFamily {
            if values[spec.key]?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
                throw .permanent("is required for a \(id) connection", field: "settings.\(spec.key)")
            }
        }
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let spec = settings.first(where: { $0.covers(key) }), let problem = spec.problem(with: value) else { continue }
            // A URL may carry a password in its user part: only short, typed values are repeated.
            let shown = spec.type == .url || spec.type == .text ? "" : " (got \"\(value.prefix(32))\")"
            throw .permanent(problem + shown, field: "settings.\(key)")
        }
    }
}
