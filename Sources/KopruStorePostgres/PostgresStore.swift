import Foundation
import KopruCore
import KopruStore
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The store for several hub processes sharing one queue: PostgreSQL through PostgresNIO.
/// Claims take `FOR UPDATE SKIP LOCKED` so workers never wait on each other's rows; an enqueue
/// sends `NOTIFY kopru_jobs` at commit and idle workers `LISTEN`, so they wake at once instead of
/// polling fast. Every commit is durable (PostgreSQL's default `synchronous_commit = on`).
public final class PostgresStore: Store, Sendable {
    let postgres: PostgresClient
    /// The pool, each query bounded by `DeadlinedClient.deadline`.
    var client: DeadlinedClient { DeadlinedClient(postgres: postgres) }
    private let currentSecretBox: Mutex<SecretBox>
    /// Replaced when the master key is rotated.
    var secretBox: SecretBox {
        get { currentSecretBox.withLock { $0 } }
        set { currentSecretBox.withLock { $0 = newValue } }
    }
    let logger: Logger
    let notifications = WorkNotifications()
    /// When (by the callers' clock) this process last returned expired leases to the queue.
    let lastReclaim = Mutex<Date?>(nil)
    private let description: String
    private let tasks: Mutex<[Task<Void, Never>]>

    static let channel = "kopru_jobs"

    /// `postgres://user:password@host:port/database[?sslmode=disable|require]`.
    public init(url: String, secretBox: SecretBox, maximumConnections: Int = 16, logger: Logger = Logger(label: "kopru.postgres")) throws {
        let parsed = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password, database: parsed.database,
            tls: parsed.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        // The pool warns when a query arrives before its run loop has started, which happens on
        // every start-up here; real connection trouble still reaches the caller as an error.
        var backgroundLogger = logger
        backgroundLogger.logLevel = .error
        postgres = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger)
        self.currentSecretBox = Mutex(secretBox)
        self.logger = logger
        description = "postgres (\(parsed.user)@\(parsed.host):\(parsed.port)/\(parsed.database ?? parsed.user))"
        let client = postgres
        tasks = Mutex([Task { await client.run() }])
        startListening()
    }

    deinit {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// Stops the connection pool and the listener.
    public func shutdown() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    public var summary: String { description }

    public func migrate() async throws {
        try await transaction { connection in
            // Two hubs starting together must not both apply the same step.
            try await connection.query("SELECT pg_advisory_xact_lock(72657373)", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS kopru_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: self.logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM kopru_migrations", logger: self.logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO kopru_migrations (name, applied_at) VALUES (\(migration.name), \(Date().millisecondsSince1970))",
                    logger: self.logger)
            }
        }
    }

    /// The names of the migrations applied, in order.
    public func appliedMigrations() async throws -> [String] {
        var names: [String] = []
        for try await name in try await client.query("SELECT name FROM kopru_migrations ORDER BY name", logger: logger)
            .decode(String.self)
        {
            names.append(name)
        }
        return names
    }

    /// Runs `body` in a transaction. Failures come out as the error `body` threw (a `StoreError`
    /// stays one) or as `StoreError.unavailable` with the server's message, never with the query's
    /// bound values.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await postgres.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError as? StoreError { throw inner }
            if let inner = error.closureError as? CancellationError { throw inner }
            let cause = error.closureError ?? error.beginError ?? error.commitError ?? error
            // Only a database that is away is "unavailable" (intake's 503, a job deferred without
            // an attempt); a statement it refused is a failure like any other.
            if outage(cause) != nil { throw StoreError.unavailable(describe(cause)) }
            throw StoreError.failed(describe(cause))
        }
    }

    // MARK: LISTEN/NOTIFY

    private func startListening() {
        let client = postgres
        let notifications = self.notifications
        let logger = self.logger
        let listener = Task {
            // Reconnects after a lost connection; wakes waiters meanwhile so nobody relies on it.
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { sequence in
                            notifications.wakeAll()
                            for try await _ in sequence { notifications.wakeAll() }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.debug("job notification listener reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                }
                notifications.wakeAll()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        tasks.withLock { $0.append(listener) }
    }

    public func waitForWork(upTo timeout: Duration) async {
        await notifications.wait(upTo: timeout)
    }
}

/// The parts of a `postgres://` URL; the password never appears in `description`.
struct PostgresURL {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String?
    var requireTLS: Bool

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "")
        else { throw StoreError.invalidState("the store URL must look like postgres://user:password@host:5432/database") }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError.invalidState("the postgres store URL needs a user name (postgres://user@host/database)")
        }
        self.user = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        database = path.isEmpty ? nil : path
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        switch sslmode {
        case "disable": requireTLS = false
        case "require", "verify-full": requireTLS = true
        default: throw StoreError.invalidState("sslmode must be disable, require or verify-full (got \(sslmode))")
        }
    }
}

extension PSQLError {
    /// SQLSTATE 23505.
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}

/// The server's message without the query or its bound values (which may hold secrets).
func describe(_ error: any Error) -> String {
    if let error = error as? PSQLError {
        if let message = error.serverInfo?[.message] {
            return "\(message) (\(error.serverInfo?[.sqlState] ?? "?"))"
        }
        return "database error: \(error.code)"
    }
    return "\(error)"
}

extension PostgresStore {
    /// PostgreSQL unreachable (refused, reset, closed), shutting down or restarting (SQLSTATE
    /// 57P01–57P03), out of connections or resources (class 53), or a connection failure (class 08).
    public func unavailability(of error: any Error) -> String? {
        if let error = error as? StoreError, error.isUnavailable { return error.message }
        return outage(error)
    }

    func outage(_ error: any Error) -> String? {
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return "PostgreSQL is not reachable (\(error.code))"
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            guard state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P") else { return nil }
            return "PostgreSQL cannot serve now (SQLSTATE \(state))"
        default: return nil
        }
    }
}

/// PostgresNIO's client with a deadline on each query: a query in flight when the server went
/// away has been seen never to return, and a job waiting on it held its worker's slot (and its
/// lease, renewed by the heartbeat) for good. Past the deadline it fails as the store being away.
struct DeadlinedClient: Sendable {
    static let deadline: Duration = .seconds(30)
    let postgres: PostgresClient

    func query(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await StoreDeadline.within(Self.deadline, "answer") { try await postgres.query(query, logger: logger) }.get()
    }
}
