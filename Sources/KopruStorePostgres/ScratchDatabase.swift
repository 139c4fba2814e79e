import Foundation
import Logging
import PostgresNIO

/// A throwaway database beside the one a URL names: for tests and benchmarks, which must not
/// touch an operator's data and must not see each other's.
public enum ScratchDatabase {
    /// Creates `kopru_scratch_<random>` and returns its URL.
    public static func create(from url: String) async throws -> String {
        let name = "kopru_scratch_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await administer(url) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        var components = URLComponents(string: url)!
        components.path = "/\(name)"
        return components.string!
    }

    /// Drops the scratch database a URL names, disconnecting whoever is still on it.
    public static func drop(_ url: String) async throws {
        guard let name = URLComponents(string: url)?.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
            name.hasPrefix("kopru_scratch_")
        else { return }
        var components = URLComponents(string: url)!
        components.path = "/postgres"
        try await administer(components.string!) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        }
    }

    private static func administer(_ url: String, _ body: (PostgresClient) async throws -> Void) async throws {
        let parsed = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password, database: parsed.database,
            tls: .disable)
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}
