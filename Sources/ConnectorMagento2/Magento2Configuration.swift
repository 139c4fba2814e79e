import Foundation
import KopruConnectors
import KopruCore

/// A Magento connection's settings and secrets, checked once, with errors naming the setting.
/// Every key is listed in README.md beside this file.
public struct Magento2Configuration: Sendable {
    public enum Auth: Sendable {
        /// The integration's access token as `Authorization: Bearer` (store must allow it, 2.4.4+).
        case integrationBearer(token: String)
        /// OAuth 1.0a signatures with the integration's four credentials (works on every 2.4).
        case oauth(OAuth1Credentials)
        /// `POST /V1/integration/admin/token` with an admin login; the token lasts 4 hours. For tests.
        case admin(username: String, password: String)
    }

    public struct OAuth1Credentials: Sendable {
        public var consumerKey, consumerSecret, accessToken, accessTokenSecret: String
        public var sha1: Bool
    }

    public enum StockMode: String, Sendable, CaseIterable {
        /// `POST /async/bulk/V1/inventory/source-items`, followed by bulk status (the 100 k path).
        case bulk
        /// `POST /V1/inventory/source-items`, in chunks of `inputLimit`.
        case sourceItems = "source-items"
        /// `PUT /V1/products/{sku}/stockItems/1`, one SKU per call (stores without MSI).
        case legacy
    }

    /// Where a customer's tax number lives in this store.
    public enum TaxNumberField: Sendable, Equatable {
        case taxvat
        case attribute(String)
        case addressVatID
    }

    public var baseURL: URL
    public var storeCode: String
    public var auth: Auth
    public var timeout: Duration
    public var pageSize: Int
    public var stockMode: StockMode
    public var sourceCode: String
    /// Items per synchronous list request (Magento's *Web API Input Limits*: 20 when on).
    public var inputLimit: Int
    public var bulkOperationSize: Int
    public var taxNumber: TaxNumberField

    public init(settings: [String: String], secrets: [String: Secret]) throws(ConnectorError) {
        func value(_ key: String) -> String? { settings[key].flatMap { $0.isEmpty ? nil : $0 } }
        func secret(_ key: String) -> String? { secrets[key]?.reveal() ?? value(key) }
        func int(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(ConnectorError) -> Int {
            guard let text = value(key) else { return fallback }
            guard let number = Int(text), range.contains(number) else {
                throw .permanent("must be a whole number in \(range.lowerBound)…\(range.upperBound)", field: "settings.\(key)")
            }
            return number
        }
        guard let base = value("baseURL"), let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) : base),
            ["http", "https"].contains(url.scheme ?? "")
        else { throw .permanent("is required: the store's address, e.g. https://shop.example.com", field: "settings.baseURL") }
        baseURL = url
        storeCode = value("storeCode") ?? "default"
        let mode = value("auth") ?? (secret("consumerKey") != nil ? "oauth" : secret("accessToken") != nil ? "bearer" : "admin")
        switch mode {
        case "oauth":
            guard let key = secret("consumerKey"), let consumerSecret = secret("consumerSecret"),
                let token = secret("accessToken"), let tokenSecret = secret("accessTokenSecret")
            else {
                throw .permanent(
                    "oauth needs consumerKey, consumerSecret, accessToken and accessTokenSecret from the integration",
                    field: "secrets")
            }
            auth = .oauth(
                OAuth1Credentials(
                    consumerKey: key, consumerSecret: consumerSecret, accessToken: token, accessTokenSecret: tokenSecret,
                    sha1: value("oauthSignatureMethod") == "HMAC-SHA1"))
        case "bearer":
            guard let token = secret("accessToken") else { throw .permanent("bearer needs accessToken", field: "secrets.accessToken") }
            auth = .integrationBearer(token: token)
        case "admin":
            guard let username = value("adminUsername"), let password = secret("adminPassword") else {
                throw .permanent("admin needs settings.adminUsername and secrets.adminPassword", field: "settings.adminUsername")
            }
            auth = .admin(username: username, password: password)
        default: throw .permanent("must be oauth, bearer or admin", field: "settings.auth")
        }
        timeout = .seconds(try int("timeoutSeconds", 30, 1...300))
        pageSize = try int("pageSize", 100, 1...300)
        guard let stock = StockMode(rawValue: value("stock.mode") ?? "bulk") else {
            throw .permanent("must be bulk, source-items or legacy", field: "settings.stock.mode")
        }
        stockMode = stock
        sourceCode = value("stock.sourceCode") ?? "default"
        inputLimit = try int("inputLimit", 20, 1...5000)
        bulkOperationSize = try int("stock.bulkOperationSize", 1000, 1...5000)
        switch value("customer.taxNumber") ?? "taxvat" {
        case "taxvat": taxNumber = .taxvat
        case "address:vat_id": taxNumber = .addressVatID
        case let text where text.hasPrefix("attribute:"): taxNumber = .attribute(String(text.dropFirst("attribute:".count)))
        default: throw .permanent("must be taxvat, address:vat_id or attribute:CODE", field: "settings.customer.taxNumber")
        }
    }
}
