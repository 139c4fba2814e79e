import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Synchronization

/// The live transport over AsyncHTTPClient. Bodies are capped so a misbehaving server cannot
/// exhaust memory.
public struct AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    private let maximumResponseBytes: Int

    public init(client: HTTPClient = .shared, maximumResponseBytes: Int = 32 << 20) {
        self.client = client
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// Over a process-wide client keeping up to `connectionsPerHost` connections to each host.
    /// The shared client keeps 8, and a request waiting for one of them spends its timeout
    /// waiting: with more jobs of a connection running at once than that, calls queue in the
    /// client, not at the target, and a burst runs at 8 calls in flight whatever the limits say.
    public init(connectionsPerHost: Int, maximumResponseBytes: Int = 32 << 20) {
        self.init(client: Self.pooledClient(connectionsPerHost: max(8, connectionsPerHost)), maximumResponseBytes: maximumResponseBytes)
    }

    /// One client per pool size, for the life of the process (a client must be shut down before
    /// it is released; these never are).
    private static let clients = Mutex<[Int: HTTPClient]>([:])

    private static func pooledClient(connectionsPerHost: Int) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[connectionsPerHost] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[connectionsPerHost] = client
            return client
        }
    }

    public func send(_ request: OutboundRequest) async throws -> InboundResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers { outgoing.headers.add(name: field.name.rawName, value: field.value) }
        let sent = SentBytes(Array(request.body))
        if !request.body.isEmpty { outgoing.body = .bytes(sent, length: .known(Int64(request.body.count))) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .nanoseconds(Self.nanoseconds(request.timeout)))
        } catch {
            // The client waits for a pooled connection within the request's timeout; a request
            // that timed out there, or whose connection never opened, never reached the target.
            if error is CancellationError { throw error }
            if !request.body.isEmpty, !sent.pulled { throw RequestNotSent(underlying: error) }
            throw error
        }
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

    /// The body's bytes, noting when the client first reads them. The client makes the body it
    /// writes from these once it holds a connection for the request, so before that nothing can
    /// have been sent. (Replayable, so a 307 or 308 is still followed.)
    private struct SentBytes: RandomAccessCollection, Sendable {
        final class Flag: Sendable {
            let value = Atomic<Bool>(false)
        }

        let bytes: [UInt8]
        let flag = Flag()

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var pulled: Bool { flag.value.load(ordering: .relaxed) }
        var startIndex: Int { bytes.startIndex }
        var endIndex: Int { bytes.endIndex }

        subscript(position: Int) -> UInt8 {
            flag.value.store(true, ordering: .relaxed)
            return bytes[position]
        }

        func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
            flag.value.store(true, ordering: .relaxed)
            return try bytes.withUnsafeBufferPointer(body)
        }
    }
}
