import Foundation
import Hummingbird
import KopruStore
import Synchronization

/// A form a browser posted (`application/x-www-form-urlencoded`), fields in order, a name
/// repeated for each ticked box.
struct FormFields: Sendable {
    var fields: [(name: String, value: String)]

    static let bodyLimit = 64 << 10

    static func read(_ request: Request) async throws -> FormFields {
        let buffer = try await RequestParsing.body(request, limit: bodyLimit)
        guard buffer.readableBytes > 0 else { return FormFields(fields: []) }
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send the form as application/x-www-form-urlencoded", field: "Content-Type")
        }
        return parse(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func parse(_ text: String) -> FormFields {
        var fields: [(String, String)] = []
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
        return FormFields(fields: fields)
    }

    func first(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
}

/// Failed sign-ins per address: five a minute, then refused until the minute is over, so a
/// token cannot be guessed through the sign-in form (it could not be anyway: 256 bits) and a
/// script hammering it is slowed and shows in the log.
final class SignInThrottle: Sendable {
    static let failuresPerWindow = 5
    static let window: TimeInterval = 60

    private let failures = Mutex<[String: (count: Int, since: Date)]>([:])

    /// Seconds to wait, if this address has failed too often.
    func refusal(_ address: String, now: Date) -> Int? {
        failures.withLock { failures in
            guard let entry = failures[address] else { return nil }
            let left = entry.since.addingTimeInterval(Self.window).timeIntervalSince(now)
            if left <= 0 {
                failures[address] = nil
                return nil
            }
            return entry.count >= Self.failuresPerWindow ? Int(left.rounded(.up)) : nil
        }
    }

    func failed(_ address: String, now: Date) {
        failures.withLock { failures in
            if failures.count > 10_000 { failures = failures.filter { $0.value.since.addingTimeInterval(Self.window) > now } }
            var entry = failures[address] ?? (0, now)
            if entry.since.addingTimeInterval(Self.window) <= now { entry = (0, now) }
            entry.count += 1
            failures[address] = entry
        }
    }
}

/// The counts open dashboards poll for, read from the store at most once a second whatever
/// the number of dashboards, so ten of them open all day cost intake nothing it would notice.
final class LiveCounts: Sendable {
    let store: any Store
    private let cached = Mutex<(at: Date, json: [UInt8])?>(nil)
    static let freshFor: TimeInterval = 1

    init(store: any Store) { self.store = store }

    func json(now: Date) async throws -> [UInt8] {
        if let hit = cached.withLock({ $0 }), now.timeIntervalSince(hit.at) < Self.freshFor, now >= hit.at { return hit.json }
        let counts = try await store.jobCounts()
        let circuits = try await store.circuits(prefix: "")
        var open: [String: String] = [:]
        for (key, circuit) in circuits where circuit.phase != .closed {
            open[String(key.prefix { $0 != ":" })] = circuit.phase.rawValue
        }
        let body: [String: LiveValue] = [
            "pending": .number(counts[.pending] ?? 0), "running": .number(counts[.running] ?? 0),
            "dead": .number(counts[.dead] ?? 0), "succeeded": .number(counts[.succeeded] ?? 0),
            "circuits": .map(open), "at": .text(ISO8601DateFormatter().string(from: now)),
        ]
        let json = Array(try JSONEncoder.api.encode(body))
        cached.withLock { $0 = (now, json) }
        return json
    }

    enum LiveValue: Encodable {
        case number(Int)
        case text(String)
        case map([String: String])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .map(let value): try container.encode(value)
            }
        }
    }
}
