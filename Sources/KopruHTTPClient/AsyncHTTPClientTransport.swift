import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

/// The live transport over AsyncHTTPClient. Bodies are capped so a misbehaving server cannot
/// exhaust memory.
public struct AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    private let maximumResponseBytes: Int

    public init(client: HTTPClient = .shared, maximumResponseBytes: Int = 32 << 20) {
        self.client = client
        self.maximumResponseBytes = maximumResponseBytes
    }

    public func send(_ request: OutboundRequest) async throws -> InboundResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers { outgoing.headers.add(name: field.name.rawName, value: field.value) }
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let response = try await client.execute(outgoing, timeout: .nanoseconds(Self.nanoseconds(request.timeout)))
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        let body = try await response.body.collect(upTo: maximumResponseBytes)
        return InboundResponse(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
    }

    /// Whole nanoseconds, sub-second parts included (a 300 ms timeout must not become 0).
    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
