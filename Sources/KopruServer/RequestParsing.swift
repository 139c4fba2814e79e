import Foundation
import HTTPTypes
import Hummingbird
import KopruCore
import NIOCore

/// Reading what a client sent, with errors that name the field.
enum RequestParsing {
    static let bodyLimit = 1 << 20

    /// The whole body, refused with 413 past `limit`: at once when Content-Length says so,
    /// else as soon as the bytes read pass it.
    static func body(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.tooLarge(limit: limit) }
        do { return try await request.body.collect(upTo: limit) } catch { throw APIError.tooLarge(limit: limit) }
    }

    /// The body as a JSON object; an empty body is an empty object when `optional`.
    static func jsonObject(_ request: Request, optional: Bool = false) async throws -> [String: JSON] {
        let buffer = try await body(request, limit: bodyLimit)
        if buffer.readableBytes == 0 && optional { return [:] }
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
            throw APIError.unsupportedMediaType
        }
        let parsed: JSON
        do {
            parsed = try JSONDecoder().decode(JSON.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not valid JSON", code: "malformed_json")
        }
        guard case .object(let object) = parsed else {
            throw APIError.badRequest("the body must be a JSON object", code: "malformed_json")
        }
        return object
    }

    /// A JSON scalar as text (settings are text); nil for null. Objects and arrays are refused.
    static func scalar(_ value: JSON, field: String) throws -> String? {
        switch value {
        case .null: return nil
        case .string(let string): return string
        case .bool(let bool): return bool ? "true" : "false"
        case .number(let number): return number.plainString
        case .array, .object: throw APIError.invalid("must be a string, number, boolean or null", field: field)
        }
    }

    static func bool(_ value: JSON, field: String) throws -> Bool {
        guard case .bool(let bool) = value else { throw APIError.invalid("must be true or false", field: field) }
        return bool
    }

    static func string(_ value: JSON, field: String, maxLength: Int = 200) throws -> String {
        guard case .string(let string) = value, !string.isEmpty, string.count <= maxLength else {
            throw APIError.invalid("must be a non-empty string of at most \(maxLength) characters", field: field)
        }
        return string
    }

    static func int(_ text: String?, field: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: field, code: "invalid_query")
        }
        return value
    }

    static func date(_ text: String?, field: String) throws -> Date? {
        guard let text else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
        throw APIError.badRequest("must be an ISO 8601 time such as 2026-11-23T10:00:00Z", field: field, code: "invalid_query")
    }

    static func jobID(_ context: HubRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.notFound("no such job")
        }
        return id
    }

    /// Connection ids: lowercase letters, digits, `.`, `_`, `-`; up to 64; starting with a letter or digit.
    static func isIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.enumerated().allSatisfy { index, byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): index > 0
            default: false
            }
        }
    }
}
