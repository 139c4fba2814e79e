import Foundation

/// The failures a sandbox injects on one route (or on all, under `*`). Shares are fractions of
/// requests, drawn independently per request from one seeded generator, so a run can be repeated.
public struct FaultPlan: Hashable, Sendable {
    /// Added before every answer, in milliseconds, uniformly within the range.
    public var latencyMilliseconds: ClosedRange<Int>?
    /// Answered 500 (or 503) without doing anything.
    public var serverErrorShare: Double = 0
    /// Answered 429 with `Retry-After: retryAfterSeconds`.
    public var rateLimitShare: Double = 0
    public var retryAfterSeconds: Int = 1
    /// Accepted and never answered; nothing is done.
    public var timeoutShare: Double = 0
    /// The connection is closed without an answer; nothing is done.
    public var dropShare: Double = 0
    /// The work is done (the record exists) but the answer is a 500, or never arrives.
    public var commitThenFailShare: Double = 0
    /// The whole system is down: every request gets 503.
    public var down = false

    public init(
        latencyMilliseconds: ClosedRange<Int>? = nil, serverErrorShare: Double = 0, rateLimitShare: Double = 0,
        retryAfterSeconds: Int = 1, timeoutShare: Double = 0, dropShare: Double = 0, commitThenFailShare: Double = 0,
        down: Bool = false
    ) {
        self.latencyMilliseconds = latencyMilliseconds
        self.serverErrorShare = serverErrorShare
        self.rateLimitShare = rateLimitShare
        self.retryAfterSeconds = retryAfterSeconds
        self.timeoutShare = timeoutShare
        self.dropShare = dropShare
        self.commitThenFailShare = commitThenFailShare
        self.down = down
    }

    public static let none = FaultPlan()

    enum Draw: Equatable {
        case pass, serverError, rateLimited, timeout, drop
        /// Do the work, then answer 500 (`hang == false`) or never answer.
        case commitThenFail(hang: Bool)
    }

    func draw(_ random: inout SplitMix64) -> Draw {
        if down { return .serverError }
        var roll = random.nextUnit()
        for (share, draw) in [
            (serverErrorShare, Draw.serverError), (rateLimitShare, .rateLimited), (timeoutShare, .timeout),
            (dropShare, .drop),
        ] {
            if roll < share { return draw }
            roll -= share
        }
        if roll < commitThenFailShare { return .commitThenFail(hang: random.nextUnit() < 0.5) }
        return .pass
    }

    /// Parses the `--faults` syntax: `ROUTE:KEY=VALUE,KEY=VALUE;ROUTE:...`, route `*` for all.
    /// Keys: `latency=MIN-MAX` (ms), `5xx`, `429`, `timeout`, `drop`, `commit-fail` (shares 0…1),
    /// `retry-after` (seconds), `down` (true/false).
    /// Example: `orders.create:5xx=0.3,timeout=0.1,commit-fail=0.05;*:latency=5-20`.
    public static func parse(_ spec: String) throws -> [String: FaultPlan] {
        var plans: [String: FaultPlan] = [:]
        for part in spec.split(separator: ";") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2 else { throw FaultSpecError(message: "\"\(part)\" needs ROUTE:KEY=VALUE") }
            let route = pieces[0].trimmingCharacters(in: .whitespaces)
            var plan = FaultPlan()
            for setting in pieces[1].split(separator: ",") {
                let pair = setting.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { throw FaultSpecError(message: "\"\(setting)\" needs KEY=VALUE") }
                func share() throws -> Double {
                    guard let value = Double(pair[1]), (0...1).contains(value) else {
                        throw FaultSpecError(message: "\(pair[0]) must be a share between 0 and 1")
                    }
                    return value
                }
                switch pair[0] {
                case "latency":
                    let bounds = pair[1].split(separator: "-").compactMap { Int($0) }
                    guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 >= 0 }), bounds.first! <= bounds.last! else {
                        throw FaultSpecError(message: "latency must be MS or MIN-MAX in milliseconds")
                    }
                    plan.latencyMilliseconds = bounds.first!...bounds.last!
                case "5xx": plan.serverErrorShare = try share()
                case "429": plan.rateLimitShare = try share()
                case "timeout": plan.timeoutShare = try share()
                case "drop": plan.dropShare = try share()
                case "commit-fail": plan.commitThenFailShare = try share()
                case "retry-after":
                    guard let seconds = Int(pair[1]), seconds >= 0 else {
                        throw FaultSpecError(message: "retry-after must be whole seconds")
                    }
                    plan.retryAfterSeconds = seconds
                case "down": plan.down = pair[1] == "true"
                default:
                    throw FaultSpecError(
                        message: "unknown fault \"\(pair[0])\" (known: latency, 5xx, 429, timeout, drop, commit-fail, retry-after, down)")
                }
            }
            plans[route] = plan
        }
        return plans
    }
}

public struct FaultSpecError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "faults: \(message)" }
}

/// A small seeded generator (SplitMix64): sandboxes and generated data repeat run to run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
