import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient

/// Wire calls to one store: URLs under `/rest/{store}/V1`, auth on every request, errors
/// classified. Holds no state but the admin token, which it renews when it runs out.
struct Magento2Client: Sendable {
    let configuration: Magento2Configuration
    let transport: any HTTPTransport
    let now: @Sendable () -> Date
    let adminToken = AdminTokenCache()

    enum Area: String {
        case sync = ""
        case bulk = "/async/bulk"
    }

    func url(_ path: String, query: [(String, String)] = [], area: Area = .sync) -> URL {
        var text = "\(configuration.baseURL.absoluteString)/rest/\(configuration.storeCode)\(area.rawValue)/V1\(path)"
        if !query.isEmpty { text += "?" + PercentEncoding.query(query) }
        return URL(string: text)!
    }

    func call(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], body: JSON? = nil, area: Area = .sync
    ) async throws(ConnectorError) -> JSON {
        let target = url(path, query: query, area: area)
        var response = try await send(method, target, body: body)
        if response.status == 401, case .admin = configuration.auth {
            // An admin token runs out after its lifetime: fetch a new one, once.
            await adminToken.clear()
            response = try await send(method, target, body: body)
        }
        guard (200..<300).contains(response.status) else {
            throw Magento2Errors.classify(status: response.status, body: response.body, headers: response.headers)
        }
        do { return try JSON.parse(response.body) } catch {
            throw .retryable("HTTP \(response.status) with a body that is not JSON")
        }
    }

    private func send(_ method: HTTPRequest.Method, _ url: URL, body: JSON?) async throws(ConnectorError) -> InboundResponse {
        var headers = HTTPFields.json()
        headers[.authorization] = try await authorization(method: method, url: url)
        return try await transport.exchange(
            OutboundRequest(method: method, url: url, headers: headers, body: body?.data ?? Data(), timeout: configuration.timeout))
    }

    private func authorization(method: HTTPRequest.Method, url: URL) async throws(ConnectorError) -> String {
        switch configuration.auth {
        case .integrationBearer(let token): return "Bearer \(token)"
        case .oauth(let credentials):
            let signer = OAuth1Signer(
                consumerKey: credentials.consumerKey, consumerSecret: credentials.consumerSecret,
                token: credentials.accessToken, tokenSecret: credentials.accessTokenSecret,
                method: credentials.sha1 ? .hmacSHA1 : .hmacSHA256)
            return signer.authorization(
                method: method.rawValue, url: url, nonce: UUID().uuidString.replacingOccurrences(of: "-", with: ""),
                timestamp: Int(now().timeIntervalSince1970))
        case .admin(let username, let password):
            if let token = await adminToken.current(now: now()) { return "Bearer \(token)" }
            let tokenURL = URL(string: "\(configuration.baseURL.absoluteString)/rest/V1/integration/admin/token")!
            let body: JSON = ["username": .string(username), "password": .string(password)]
            let response = try await transport.exchange(
                OutboundRequest(method: .post, url: tokenURL, headers: .json(), body: body.data, timeout: configuration.timeout))
            guard response.status == 200, let token = (try? JSON.parse(response.body))?.string else {
                throw Magento2Errors.classify(status: response.status, body: response.body, headers: response.headers)
            }
            await adminToken.store(token, now: now())
            return "Bearer \(token)"
        }
    }
}

/// The admin token and when it was issued; renewed before Magento's 4-hour lifetime ends.
actor AdminTokenCache {
    private var token: (value: String, issued: Date)?
    static let renewAfter: TimeInterval = 3.5 * 3600

    func current(now: Date) -> String? {
        guard let token, now.timeIntervalSince(token.issued) < Self.renewAfter else { return nil }
        return token.value
    }

    func store(_ value: String, now: Date) { token = (value, now) }
    func clear() { token = nil }
}
