import Foundation
import KopruStore
import KopruStoreContract
import KopruStorePostgres
import KopruStoreSQLite
import Testing

/// Where the PostgreSQL tests run; without it they are skipped (and say so).
let postgresURL = ProcessInfo.processInfo.environment["KOPRU_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
let postgresSkipped = "KOPRU_TEST_POSTGRES_URL is not set: PostgreSQL store tests skipped (bash .ci/run starts a server and sets it)"

/// A fresh, migrated PostgreSQL store in its own scratch database, dropped afterwards.
func withPostgresStore<T>(
    secretBox: SecretBox = .ephemeral(), _ body: (PostgresStore, String) async throws -> T
) async throws -> T {
    let url = try await ScratchDatabase.create(from: postgresURL!)
    let store = try PostgresStore(url: url, secretBox: secretBox, maximumConnections: 4)
    do {
        try await store.migrate()
        let result = try await body(store, url)
        store.shutdown()
        try await ScratchDatabase.drop(url)
        return result
    } catch {
        store.shutdown()
        try? await ScratchDatabase.drop(url)
        throw error
    }
}

/// A fresh SQLite file in its own temporary folder, removed afterwards.
func withSQLiteStore<T>(
    durability: SQLiteStore.Durability = .full, secretBox: SecretBox = .ephemeral(),
    _ body: (SQLiteStore, URL) async throws -> T
) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("kopru.db")
    let store = try SQLiteStore(path: file.path, secretBox: secretBox, durability: durability)
    try await store.migrate()
    return try await body(store, file)
}

@Suite("Store contract")
struct StoreContractTests {
    @Test("memory store", arguments: StoreContract.cases)
    func memory(_ contract: ContractCase) async throws {
        try await contract.run(MemoryStore())
    }

    @Test("SQLite store", arguments: StoreContract.cases)
    func sqlite(_ contract: ContractCase) async throws {
        try await withSQLiteStore { store, _ in try await contract.run(store) }
    }

    @Test("PostgreSQL store", .enabled(if: postgresURL != nil, Comment(rawValue: postgresSkipped)), arguments: StoreContract.cases)
    func postgres(_ contract: ContractCase) async throws {
        try await withPostgresStore { store, _ in try await contract.run(store) }
    }
}
