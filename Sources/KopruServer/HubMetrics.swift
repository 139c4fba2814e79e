import CoreMetrics
import KopruCore
import KopruStore
import Prometheus
import Synchronization

/// The hub's metrics, in Prometheus text format at `/metrics`. Counters are recorded through
/// swift-metrics wherever they happen (requests, webhooks, job outcomes); queue depth is read
/// from the store at each scrape, so every process reports the shared queue as it is.
public enum HubMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Routes swift-metrics into `registry`. Once per process; later calls do nothing.
    public static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
            ]
            MetricsSystem.bootstrap(factory)
            done = true
        }
    }

    static func scrape(store: any Store) async throws -> [UInt8] {
        let counts = try await store.jobCounts()
        for status in JobStatus.allCases {
            registry.makeGauge(name: "kopru_jobs", labels: [("status", status.rawValue)]).set(Double(counts[status] ?? 0))
        }
        registry.makeGauge(name: "kopru_dead_letters").set(Double(counts[.dead] ?? 0))
        // One series per circuit and phase, 1 for the phase it is in: `kopru_circuit_state{phase="open"} == 1`
        // alerts on any open circuit. Keys are `<connection>:<endpoint class>`; a connection id has no colon.
        for (key, circuit) in try await store.circuits(prefix: "") {
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            for phase in CircuitState.Phase.allCases {
                registry.makeGauge(
                    name: "kopru_circuit_state", labels: [("connection", parts[0]), ("endpoint", parts[1]), ("phase", phase.rawValue)]
                ).set(Double(phase == circuit.phase ? 1 : 0))
            }
        }
        return registry.emitToBuffer()
    }
}
