import Foundation
import KopruSandbox
import Synchronization

/// Holds a sandbox's answer after the target committed, so a test can kill (or stop) the hub
/// process exactly there: the effect exists at the target, the hub has not heard of it. Which
/// effects are held is decided here, not by chance: every `every`-th effect of each armed route,
/// one at a time (an effect arriving while one is held passes, and the next one is held instead).
final class CommitWindow: Sendable {
    struct Held: Sendable {
        let system: String
        let route: String
        let key: String?
    }

    private struct State {
        var every: [String: Int]
        var seen: [String: Int] = [:]
        var next: [String: Int]
        var holding: CheckedContinuation<Void, Never>?
        var busy = false
        var current: Held?
        var held: [String: Int] = [:]
        var open = true
    }

    private let state: Mutex<State>
    /// `every`: route name → hold every n-th effect of it (the first at n / 2, so holds start early).
    init(every: [String: Int]) {
        state = Mutex(State(every: every, next: every.mapValues { max(1, $0 / 2) }))
    }

    /// Arms the window on one sandbox (`system` names it in reports).
    func watch(_ sandbox: Sandbox, as system: String, effects: Set<String>) {
        sandbox.holdAnswers { [self] entry in
            guard let route = entry.route, let effect = entry.effect, effects.contains(effect) else { return }
            await hold(system: system, route: route, key: entry.businessKey)
        }
    }

    private func hold(system: String, route: String, key: String?) async {
        let route = "\(system):\(route)"
        let mine = state.withLock { state -> Bool in
            guard state.open, state.every[route] != nil else { return false }
            state.seen[route, default: 0] += 1
            guard !state.busy, state.seen[route]! >= state.next[route]! else { return false }
            state.busy = true
            state.next[route]! += state.every[route]!
            state.held[route, default: 0] += 1
            return true
        }
        guard mine else { return }
        await withCheckedContinuation { continuation in
            state.withLock { state in
                state.holding = continuation
                state.current = Held(system: system, route: route, key: key)
            }
        }
    }

    /// Lets the held answer go (to a caller that is, by now, dead or stopped).
    func release() {
        let waiting = state.withLock { state in
            defer { (state.holding, state.busy, state.current) = (nil, false, nil) }
            return state.holding
        }
        waiting?.resume()
    }

    /// No more holds; a held answer goes at once.
    func close() {
        state.withLock { $0.open = false }
        release()
    }

    /// The answer being held now, once there is one; nil if none comes within `timeout`.
    func waitForHold(timeout: Duration) async -> Held? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let held = state.withLock({ $0.current }) { return held }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    var heldPerRoute: [String: Int] { state.withLock { $0.held } }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Waits for a condition without fixed sleeps: checks often, fails after the timeout.
func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimedOut(what: what)
}
