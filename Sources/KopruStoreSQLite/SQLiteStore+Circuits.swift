import Foundation
import GRDB
import KopruCore
import KopruStore

extension SQLiteStore: CircuitBreakerStore {
    public func updateCircuit<T: Sendable>(
        _ key: String, _ decide: @Sendable (CircuitState?) -> (state: CircuitState?, result: T)
    ) async throws -> T {
        try await pool.write { db in
            let stored = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM circuit_breakers WHERE key = ?"), arguments: [key])
                .map(Self.circuit)
            let (circuit, result) = decide(stored)
            if let circuit {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO circuit_breakers (key, phase, failures, since_at, probe_at, last_error, probes)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (key) DO UPDATE SET phase = excluded.phase, failures = excluded.failures,
                            since_at = excluded.since_at, probe_at = excluded.probe_at, last_error = excluded.last_error,
                            probes = excluded.probes
                        """
                ).execute(arguments: [
                    key, circuit.phase.rawValue, circuit.failures, circuit.since.ms, circuit.probeAt?.ms, circuit.lastError, circuit.probes,
                ])
            }
            return result
        }
    }

    public func circuits(prefix: String) async throws -> [String: CircuitState] {
        try await pool.read { db in
            // A range on the primary key rather than LIKE, whose wildcards a key may contain.
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM circuit_breakers WHERE key >= ? AND key < ?", arguments: [prefix, prefix + "\u{10FFFF}"])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as String, Self.circuit($0)) })
        }
    }

    static func circuit(_ row: Row) -> CircuitState {
        CircuitState(
            phase: CircuitState.Phase(rawValue: row["phase"]) ?? .closed, failures: row["failures"], since: row.date("since_at"),
            probeAt: row.optionalDate("probe_at"), lastError: row["last_error"], probes: row["probes"])
    }
}
