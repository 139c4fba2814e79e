import AsyncHTTPClient
import Crypto
import Foundation
import KopruApp
import KopruConnectors
import KopruSandbox
import NIOCore
import NIOHTTP1

/// What `kopru bench orders` and `kopru bench soak` share: a hub configuration over a Magento
/// store and a REST ERP served as sandboxes, the `kopru serve` child processes that run it, and
/// the companion module's signed "order placed" webhook.
enum MagentoERPHub {
    static let webhookSecret = "bench-magento-module-secret"

    /// The YAML: connections `shop` (Magento, webhooks signed with `webhookSecret`) and `erp`,
    /// `workers` as a YAML flow mapping's inside, each connection's extra settings, and `flows`
    /// as YAML list lines.
    static func configuration(
        magento: MagentoSandbox, magentoURL: URL, erpURL: URL, workers: String, shopSettings: [String: String] = [:],
        erpSettings: [String: String] = [:], flows: [String] = ["{name: orders, kind: orders, from: shop, to: erp}"]
    ) -> String {
        let credentials = magento.credentials
        func lines(_ settings: [String: String]) -> String {
            settings.sorted { $0.key < $1.key }.map { "\n      \($0.key): \"\($0.value)\"" }.joined()
        }
        return """
            workers: {\(workers)}
            connections:
              - id: shop
                type: magento2
                settings:
                  baseURL: \(magentoURL.absoluteString)
                  pageSize: 100\(lines(shopSettings))
                secrets:
                  consumerKey: \(credentials.consumerKey)
                  consumerSecret: \(credentials.consumerSecret)
                  accessToken: \(credentials.accessToken)
                  accessTokenSecret: \(credentials.accessTokenSecret)
                  webhookSecret: \(webhookSecret)
              - id: erp
                type: erp-rest
                settings:
                  baseURL: \(erpURL.absoluteString)/api/v2/\(lines(erpSettings))
                secrets:
                  api_key: erp-sandbox-key
            flows:
            \(flows.map { "  - \($0)" }.joined(separator: "\n"))
            """
    }

    /// The children's environment: none of the caller's `KOPRU_*`, a fresh master key.
    static func environment(store: String, config: URL, port: Int, logLevel: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KOPRU_") }
        environment["KOPRU_STORE"] = store
        environment["KOPRU_MASTER_KEY"] = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        environment["KOPRU_CONFIG"] = config.path
        environment["KOPRU_HTTP_PORT"] = "\(port)"
        environment["KOPRU_LOG_LEVEL"] = logLevel
        return environment
    }

    /// Starts this executable as `kopru ARGUMENTS…`.
    static func spawn(_ arguments: [String], environment: [String: String], log: FileHandle?) throws -> Process {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = arguments
        child.environment = environment
        child.standardOutput = log ?? FileHandle.nullDevice
        child.standardError = log ?? FileHandle.standardError
        try child.run()
        return child
    }

    /// A log file opened for appending, made if missing.
    static func appending(to path: String?) throws -> FileHandle? {
        try path.map { path in
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            handle.seekToEndOfFile()
            return handle
        }
    }

    /// What the companion module sends when an order is placed (its Signer's headers); the
    /// status the hub answered.
    @discardableResult
    static func announce(
        _ placed: (entityID: Int, incrementID: String), client: HTTPClient, base: String, requireOK: Bool = true
    ) async throws -> UInt {
        let body = #"{"event":"order.placed","entity_id":\#(placed.entityID),"increment_id":"\#(placed.incrementID)","store_id":1}"#
        let timestamp = "\(Int(Date().timeIntervalSince1970))"
        var request = HTTPClientRequest(url: "\(base)/webhooks/shop")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Kopru-Timestamp", value: timestamp)
        request.headers.add(
            name: "X-Kopru-Signature",
            value: "sha256=" + HMACWebhookVerifier.signature(for: Array("\(timestamp).\(body)".utf8), secret: Array(webhookSecret.utf8)))
        request.headers.add(name: "X-Kopru-Topic", value: "order.placed")
        request.headers.add(name: "X-Kopru-Delivery", value: "order-\(placed.incrementID)")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 16)
        if requireOK && response.status != .ok {
            throw BenchError(description: "the webhook for order \(placed.incrementID) was answered \(response.status.code)")
        }
        return response.status.code
    }
}
