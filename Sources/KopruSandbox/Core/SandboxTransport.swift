import Foundation
import HTTPTypes
import KopruHTTPClient

/// The sandbox in-process, as an `HTTPTransport`: no sockets, same routes, faults and ledger.
/// A dropped connection or an unanswered request surfaces as the error a real client gives.
public struct SandboxTransport: HTTPTransport {
    public struct NetworkError: Error, CustomStringConvertible {
        public let description: String
    }

    private let sandbox: Sandbox

    public init(_ sandbox: Sandbox) { self.sandbox = sandbox }

    public func send(_ request: OutboundRequest) async throws -> InboundResponse {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        if let host = request.url.host { headers["host"] = request.url.port.map { "\(host):\($0)" } ?? host }
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)
        let incoming = SandboxRequest(
            method: request.method.rawValue, path: components?.path ?? request.url.path,
            rawPath: components?.percentEncodedPath,
            rawQuery: components?.percentEncodedQuery ?? "", headers: headers, body: request.body)
        switch await sandbox.process(incoming) {
        case .drop: throw NetworkError(description: "connection closed by the remote side")
        case .hang:
            try await Task.sleep(for: request.timeout)
            throw NetworkError(description: "request timed out after \(request.timeout)")
        case .respond(let response):
            var fields = HTTPFields()
            for (name, value) in response.headers {
                if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            return InboundResponse(status: response.status, headers: fields, body: response.body)
        }
    }
}
