import Foundation
import GRDB
import KopruCore
import KopruStore
import Synchronization

/// The embedded store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// Durability: GRDB's pool sets `synchronous = NORMAL`, with which a power cut can lose the
/// last commits. We acknowledge webhooks and complete jobs on the strength of a commit, so the
/// writer runs with `FULL` by default; batching (many jobs per transaction) keeps that cheap.
public final class SQLiteStore: Store, Sendable {
    public enum Durability: String, Sendable, CaseIterable {
        /// fsync on every commit: a committed job survives power loss.
        case full
        /// fsync at checkpoints only: survives a process crash, not a power cut. For benchmarks.
        case normal
    }

    let pool: DatabasePool
    /// This process's workers waiting for jobs; woken by every write that makes one ready. Workers
    /// in other processes on the same file poll.
    let notifications = WorkNotifications()
    private let currentSecretBox: Mutex<SecretBox>
    /// Replaced when the master key is rotated.
    var secretBox: SecretBox {
        get { currentSecretBox.withLock { $0 } }
        set { currentSecretBox.withLock { $0 = newValue } }
    }
    public let path: String
    public let durability: Durability

    public init(path: String, secretBox: SecretBox, durability: Durability = .full) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        // Bound values may be secrets or personal data: never in error messages.
        configuration.publicStatementArguments = false
        pool = try DatabasePool(path: path, configuration: configuration)
        // After the pool's own WAL set-up, which lowers synchronous to NORMAL on the writer.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            // The writer's page cache (SQLite's default is 2 MB): a queue with a long backlog and
            // the webhook dedupe index are written at random places, and every page the writer
            // must read back from the file first costs a system call inside the transaction.
            try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKilobytes)")
        }
        self.currentSecretBox = Mutex(secretBox)
        self.path = path
        self.durability = durability
    }

    /// 64 MB: the pages of about a million pending jobs' indexes.
    static let writerCacheKilobytes = 65_536

    public var summary: String { "sqlite (WAL, synchronous=\(durability.rawValue.uppercased()))" }

    public func migrate() async throws {
        try Migrations.migrator.migrate(pool)
    }

    /// What `PRAGMA synchronous` reads on the writer connection (2 = FULL, 1 = NORMAL).
    public func writerSynchronousSetting() async throws -> Int {
        try await pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The names of the migrations applied, in order.
    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in try Migrations.migrator.appliedMigrations(db) }
    }
}

extension Date {
    var ms: Int64 { millisecondsSince1970 }
}

extension Row {
    func date(_ column: String) -> Date { Date(millisecondsSince1970: self[column]) }
    func optionalDate(_ column: String) -> Date? { (self[column] as Int64?).map(Date.init(millisecondsSince1970:)) }
}

func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

extension SQLiteStore {
    /// SQLite's answers that are about the database file, not the statement: another process
    /// holding the write lock past the busy timeout, a full disk, an I/O error, a file that
    /// cannot be opened or written.
    public func unavailability(of error: any Error) -> String? {
        if let error = error as? StoreError, error.isUnavailable { return error.message }
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the SQLite database is locked by another writer"
        case .SQLITE_FULL: return "the disk holding the SQLite database is full"
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PROTOCOL:
            return "the SQLite database cannot be read or written (\(error.resultCode))"
        default: return nil
        }
    }
}
