import Foundation
import KopruCore
import KopruStore

extension StoreContract {
    static let circuitCases: [ContractCase] = [
        ContractCase(name: "circuit breakers: one state per key, changed only when asked, listed by prefix") { store in
            let first = try await store.updateCircuit("erp:default") { stored in
                (CircuitState(phase: .open, failures: 5, since: t0, probeAt: t0.addingTimeInterval(60), lastError: "HTTP 503"), stored)
            }
            try expectEqual(first, nil, "a new key has no state")
            let kept: CircuitState? = try await store.updateCircuit("erp:default") { stored in (nil, stored) }
            try expectEqual(
                kept, CircuitState(phase: .open, failures: 5, since: t0, probeAt: t0.addingTimeInterval(60), lastError: "HTTP 503"), "stored")
            _ = try await store.updateCircuit("erp:default") { _ in (CircuitState.closed(at: t0.addingTimeInterval(61)), ()) }
            _ = try await store.updateCircuit("erp_x:default") { _ in (CircuitState.closed(at: t0), ()) }
            _ = try await store.updateCircuit("shop:stock") { _ in
                (CircuitState(phase: .halfOpen, failures: 7, since: t0, probeAt: t0.addingTimeInterval(30), probes: 2), ())
            }
            let erp = try await store.circuits(prefix: "erp:")
            try expectEqual(erp, ["erp:default": .closed(at: t0.addingTimeInterval(61))], "by prefix, no wildcard in it")
            let all = try await store.circuits(prefix: "")
            try expectEqual(all.count, 3, "every key")
            try expectEqual(all["shop:stock"]?.probes, 2, "probes kept")
        },
        ContractCase(name: "circuit breakers: concurrent updates of one key take turns, the first ones too") { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.updateCircuit("erp:default") { stored in
                            var state = stored ?? .closed(at: t0)
                            state.failures += 1
                            return (state, ())
                        }
                    }
                }
                try await group.waitForAll()
            }
            let failures = try await store.circuits(prefix: "erp:")["erp:default"]?.failures
            try expectEqual(failures, 20, "no update lost")
        },
    ]
}
