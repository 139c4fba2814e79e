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

/// Sign-in attempts per address: five a minute, counted as they come (before the token is
/// looked up, so a burst in parallel cannot slip past), forgotten on a success. A token cannot
/// be guessed anyway (256 bits); this slows a script and keeps it visible in the log. Behind a
/// proxy every client has the proxy's address: five wrong tokens a minute from anyone then hold
/// the form for everyone until the minute is over.
final class SignInThrottle: Sendable {
    static let attemptsPerWindow = 5
    static let window: TimeInterval = 60
    /// Addresses remembered at most; past it the oldest windows are dropped.
    static let addresses = 10_000
    /// Refused sign-ins written to the event log a minute, whatever the addresses.
    static let recordedPerWindow = 60

    private struct Window {
        var count: Int
        var since: Date
    }

    private let windows = Mutex<[String: Window]>([:])
    private let recorded = Mutex<Window>(Window(count: 0, since: .distantPast))

    /// Counts an attempt; seconds to wait if this address has made too many.
    func attempt(_ address: String, now: Date) -> Int? {
        windows.withLock { windows in
            var entry = windows[address] ?? Window(count: 0, since: now)
            if entry.since.addingTimeInterval(Self.window) <= now { entry = Window(count: 0, since: now) }
            guard entry.count < Self.attemptsPerWindow else {
                return Int(entry.since.addingTimeInterval(Self.window).timeIntervalSince(now).rounded(.up))
            }
            entry.count += 1
            if windows[address] == nil, windows.count >= Self.addresses {
                windows = windows.filter { $0.value.since.addingTimeInterval(Self.window) > now }
                if windows.count >= Self.addresses {
                    for (key, _) in windows.sorted(by: { $0.value.since < $1.value.since }).prefix(Self.addresses / 10) { windows[key] = nil }
                }
            }
            windows[address] = entry
            return nil
        }
    }

    func succeeded(_ address: String) { windows.withLock { $0[address] = nil } }

    /// Whether one more refusal may go to the event log this minute.
    func mayRecord(now: Date) -> Bool {
        recorded.withLock { window in
            if window.since.addingTimeInterval(Self.window) <= now { window = Window(count: 0, since: now) }
            window.count += 1
            return window.count <= Self.recordedPerWindow
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
