import Foundation
import KopruStore
import KopruStoreContract
import KopruStoreSQLite
import Testing

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
}
