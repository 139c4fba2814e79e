import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Every error the hub's HTTP side returns, in one shape:
/// `{"error": {"code": "...", "message": "...", "field": "..."}}` (`field` when one is to blame).
/// A struct with static factories, as Hummingbird's own errors are, so codes can be added freely.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let field: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status.code) \(code): \(message)" + (field.map { " (\($0))" } ?? "") }

    public static func badRequest(_ message: String, field: String? = nil, code: String = "bad_request") -> APIError {
        APIError(.badRequest, code: code, message: message, field: field)
    }
    public static func invalid(_ message: String, field: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid", message: message, field: field)
    }
    public static func notFound(_ message: String, code: String = "not_found") -> APIError {
        APIError(.notFound, code: code, message: message)
    }
    public static func conflict(_ message: String, code: String = "conflict") -> APIError {
        APIError(.conflict, code: code, message: message)
    }
    public static let unauthenticated = APIError(
        .unauthorized, code: "unauthenticated", message: "an admin API token is required: Authorization: Bearer <token>")
    public static let readOnlyToken = APIError(
        .forbidden, code: "read_only_token", message: "this token is read-only: it may look (GET) but not change anything")
    public static let tokenRefused = APIError(.unauthorized, code: "token_invalid", message: "the token is unknown or revoked")
    public static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "body_too_large", message: "the body is larger than \(limit) bytes")
    }
    public static let unsupportedMediaType = APIError(
        .unsupportedMediaType, code: "unsupported_media_type", message: "send the body as application/json", field: "Content-Type")
    public static func rateLimited(retryAfterSeconds: Int) -> APIError {
        var error = APIError(
            .tooManyRequests, code: "rate_limited", message: "too many requests for this connection; retry after \(retryAfterSeconds) s")
        error.headers[.retryAfter] = "\(retryAfterSeconds)"
        return error
    }
    public static let methodNotAllowed = APIError(.methodNotAllowed, code: "method_not_allowed", message: "this route does not take that method")
    public static let internalError = APIError(
        .internalServerError, code: "internal", message: "the hub could not complete this request; see its log")
    public static let unavailable = APIError(.serviceUnavailable, code: "unavailable", message: "the store is not reachable")
    /// The store cannot take the request now: nothing was stored, and the sender should try again.
    /// The reason goes to the log only: a database's own words may name hosts or values.
    public static func storeUnavailable(retryAfterSeconds: Int = 5) -> APIError {
        var error = APIError(
            .serviceUnavailable, code: "store_unavailable",
            message: "the hub's store cannot take this now and nothing was stored; retry after \(retryAfterSeconds) s")
        error.headers[.retryAfter] = "\(retryAfterSeconds)"
        return error
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: String] = ["code": code, "message": message]
        if let field { body["field"] = field }
        var response = Response.json(["error": body], status: status)
        for header in headers { response.headers.append(header) }
        return response
    }
}

extension Response {
    /// Sorted keys, so responses are stable for people and for tests.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder.api.encode(value)) ?? Data(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension JSONEncoder {
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }()
}
