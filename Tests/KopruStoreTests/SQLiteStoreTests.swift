import Foundation
import KopruCore
import KopruStore
import KopruStoreSQLite
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("the writer commits with synchronous = FULL by default")
    func durabilityFull() async throws {
        try await withSQLiteStore { store, _ in
            let setting = try await store.writerSynchronousSetting()
            #expect(setting == 2)
            #expect(store.summary.contains("synchronous=FULL"))
        }
        try await withSQLiteStore(durability: .normal) { store, _ in
            let setting = try await store.writerSynchronousSetting()
            #expect(setting == 1)
        }
    }

    @Test("migrations are named, ordered and idempotent")
    func migrations() async throws {
        try await withSQLiteStore { store, file in
            try await store.migrate()
            let applied = try await store.appliedMigrations()
            #expect(applied.count >= 1)
            #expect(applied.first?.hasPrefix("v1") == true)
            let reopened = try SQLiteStore(path: file.path, secretBox: .ephemeral())
            try await reopened.migrate()
            let reapplied = try await reopened.appliedMigrations()
            #expect(reapplied == applied)
        }
    }

    @Test("the database file never holds a secret in plain text")
    func secretsEncryptedAtRest() async throws {
        let secret = "sk_live_9f8e7d6c5b4a39281706"
        try await withSQLiteStore { store, file in
            try await store.saveConnection(
                Connection(id: "shop", type: "shopify", name: "Shop", secrets: ["accessToken": Secret(secret)]), now: Date())
            // Push the WAL into the main file too, then read every byte of both.
            _ = try await store.jobCounts()
            let folder = file.deletingLastPathComponent()
            var bytes = Data()
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
                bytes += try Data(contentsOf: folder.appendingPathComponent(name))
            }
            #expect(!bytes.isEmpty)
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
            #expect(bytes.range(of: Data(secret.utf8.suffix(12))) == nil)
            let readBack = try await store.connection("shop")
            #expect(readBack?.secrets["accessToken"]?.reveal() == secret)
        }
    }

    @Test("secrets sealed under one master key do not open under another")
    func wrongMasterKey() async throws {
        try await withSQLiteStore { store, file in
            try await store.saveConnection(
                Connection(id: "shop", type: "shopify", name: "Shop", secrets: ["token": Secret("abc")]), now: Date())
            let other = try SQLiteStore(path: file.path, secretBox: .ephemeral())
            await #expect(throws: StoreError.self) { _ = try await other.connection("shop") }
        }
    }

    @Test("a secret prints as a mask")
    func secretMasked() {
        let secret = Secret("pk-0123456789abcdef")
        #expect("\(secret)" == "••••cdef")
        #expect(String(reflecting: secret) == "••••cdef")
        #expect("\(Secret("short"))" == "••••")
    }

    @Test("a key file is created with mode 0600 and read back")
    func keyFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("kopru.key").path
        let created = try MasterKey.loadOrCreate(keyFile: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let loaded = try MasterKey.loadOrCreate(keyFile: path)
        #expect(created == loaded)
        chmod(path, 0o644)
        #expect(throws: MasterKey.LoadError.self) { _ = try MasterKey.loadOrCreate(keyFile: path) }
        #expect(throws: MasterKey.LoadError.self) { _ = try MasterKey.decode(base64: "c2hvcnQ=") }
    }
}
