import Foundation
import HTTPTypes

/// A request as a connector builds it: method, absolute URL, headers and the exact body bytes
/// (signatures are computed over these bytes, so nothing may re-encode them on the way).
public struct OutboundRequest: Sendable {
    public var method: HTTPRequest.Method
    public var url: URL
    public var headers: HTTPFields
    public var body: Data
    public var timeout: Duration

    public init(
        method: HTTPRequest.Method, url: URL, headers: HTTPFields = [:], body: Data = Data(), timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct InboundResponse: Sendable {
    public var status: Int
    public var headers: HTTPFields
    public var body: Data

    public init(status: Int, headers: HTTPFields = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A request that failed before any of it left the hub (no connection, or none free in time):
/// the target cannot have acted on it.
public struct RequestNotSent: Error, CustomStringConvertible {
    public let underlying: any Error
    public init(underlying: any Error) { self.underlying = underlying }
    public var description: String { "not sent: \(type(of: underlying)) \(String(describing: underlying).prefix(200))" }
}

/// Sends one request. The live implementation uses AsyncHTTPClient; tests and the demo pass a
/// sandbox, so the same connector code runs against both.
public protocol HTTPTransport: Sendable {
    func send(_ request: OutboundRequest) async throws -> InboundResponse
}

/// One step around every request: signing, logging, metrics.
public protocol HTTPMiddleware: Sendable {
    func handle(
        _ request: OutboundRequest, next: @Sendable (OutboundRequest) async throws -> InboundResponse
    ) async throws -> InboundResponse
}

/// A transport wrapped in middleware, outermost first.
public struct MiddlewareTransport: HTTPTransport {
    private let base: any HTTPTransport
    private let middleware: [any HTTPMiddleware]

    public init(_ base: any HTTPTransport, middleware: [any HTTPMiddleware]) {
        self.base = base
        self.middleware = middleware
    }

    public func send(_ request: OutboundRequest) async throws -> InboundResponse {
        try await Self.run(request, middleware[...], base)
    }

    private static func run(
        _ request: OutboundRequest, _ chain: ArraySlice<any HTTPMiddleware>, _ base: any HTTPTransport
    ) async throws -> InboundResponse {
        guard let first = chain.first else { return try await base.send(request) }
        let rest = chain.dropFirst()
        return try await first.handle(request) { try await run($0, rest, base) }
    }
}
