import Foundation
import KopruCore
import KopruStore
import PostgresNIO

extension PostgresStore: CircuitBreakerStore {
    /// The row is locked with `FOR UPDATE` when it exists; a first record for a key is inserted
    /// with `ON CONFLICT DO NOTHING` and read again, so two processes recording a key's first
    /// failure at once take turns instead of one overwriting the other.
    public func updateCircuit<T: Sendable>(
        _ key: String, _ decide: @Sendable (CircuitState?) -> (state: CircuitState?, result: T)
    ) async throws -> T {
        try await transaction { connection in
            var stored = try await circuit(key, connection)
            var (circuit, result) = decide(stored)
            guard let state = circuit else { return result }
            if stored == nil {
                let inserted = try await connection.query(
                    """
                    INSERT INTO circuit_breakers (key, phase, failures, since_at, probe_at, last_error, probes)
                    VALUES (\(key), \(state.phase.rawValue), \(state.failures), \(state.since.millisecondsSince1970),
                            \(state.probeAt?.millisecondsSince1970), \(state.lastError), \(state.probes))
                    ON CONFLICT (key) DO NOTHING RETURNING key
                    """, logger: logger)
                var won = false
                for try await _ in inserted { won = true }
                if won { return result }
                // Another process recorded it first: decide again on what it stored.
                stored = try await self.circuit(key, connection)
                (circuit, result) = decide(stored)
                guard circuit != nil else { return result }
            }
            guard let state = circuit else { return result }
            try await connection.query(
                """
                UPDATE circuit_breakers SET phase = \(state.phase.rawValue), failures = \(state.failures),
                    since_at = \(state.since.millisecondsSince1970), probe_at = \(state.probeAt?.millisecondsSince1970),
                    last_error = \(state.lastError), probes = \(state.probes)
                WHERE key = \(key)
                """, logger: logger)
            return result
        }
    }

    private func circuit(_ key: String, _ connection: PostgresConnection) async throws -> CircuitState? {
        let rows = try await connection.query(
            "SELECT phase, failures, since_at, probe_at, last_error, probes FROM circuit_breakers WHERE key = \(key) FOR UPDATE",
            logger: logger)
        for try await row in rows.decode((String, Int, Int64, Int64?, String?, Int).self) { return Self.circuit(row) }
        return nil
    }

    public func circuits(prefix: String) async throws -> [String: CircuitState] {
        let rows = try await client.query(
            """
            SELECT key, phase, failures, since_at, probe_at, last_error, probes FROM circuit_breakers
            WHERE starts_with(key, \(prefix))
            """, logger: logger)
        var found: [String: CircuitState] = [:]
        for try await (key, phase, failures, since, probeAt, lastError, probes) in rows.decode(
            (String, String, Int, Int64, Int64?, String?, Int).self)
        {
            found[key] = Self.circuit((phase, failures, since, probeAt, lastError, probes))
        }
        return found
    }

    static func circuit(_ row: (String, Int, Int64, Int64?, String?, Int)) -> CircuitState {
        CircuitState(
            phase: CircuitState.Phase(rawValue: row.0) ?? .closed, failures: row.1, since: Date(millisecondsSince1970: row.2),
            probeAt: row.3.map(Date.init(millisecondsSince1970:)), lastError: row.4, probes: row.5)
    }
}
