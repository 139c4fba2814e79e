import Crypto
import Foundation
import KopruCore
import KopruStore
import KopruStoreSQLite
import Testing

@testable import KopruApp
@testable import kopru

@Suite("kopru keys rotate and kopru tokens")
struct KeysAndTokensTests {
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func configuration(_ directory: URL) throws -> HubConfiguration {
        try HubConfiguration.load(environment: ["KOPRU_STORE": "sqlite:\(directory.appendingPathComponent("hub.db").path)"])
    }

    static func seed(_ configuration: HubConfiguration, count: Int) async throws {
        let store = try await Runtime.openStore(configuration)
        for index in 1...count {
            try await store.saveConnection(
                Connection(id: ConnectionID("c\(index)"), type: "erp-rest", name: "ERP \(index)", secrets: ["apiKey": Secret("key-\(index)")]),
                now: Date())
        }
    }

    static func expectIntact(_ configuration: HubConfiguration, count: Int) async throws {
        let store = try await Runtime.openStore(configuration)
        let connections = try await store.connections()
        #expect(connections.count == count)
        for connection in connections {
            #expect(connection.secrets["apiKey"]?.reveal() == "key-\(connection.id.rawValue.dropFirst())")
        }
    }

    @Test("kopru keys rotate re-seals every secret under a new key file; nothing is lost")
    func rotateWithKeyFile() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try Self.configuration(directory)
        try await Self.seed(configuration, count: 40)
        let keyFile = directory.appendingPathComponent("hub.key")
        let oldKey = try String(contentsOf: keyFile, encoding: .utf8)
        let (status, output) = try await KopruProcess.run(
            ["keys", "rotate"], environment: ["KOPRU_STORE": "sqlite:\(directory.appendingPathComponent("hub.db").path)"],
            logFile: directory.appendingPathComponent("rotate.log"))
        #expect(status == 0, "\(output)")
        #expect(output.contains("40 connections"))
        #expect(try String(contentsOf: keyFile, encoding: .utf8) != oldKey)
        #expect(!FileManager.default.fileExists(atPath: keyFile.path + ".new"))
        try await Self.expectIntact(configuration, count: 40)
        // The old key no longer opens the store: it is refused by name, not by garbled secrets.
        let old = try SQLiteStore(
            path: directory.appendingPathComponent("hub.db").path,
            secretBox: SecretBox(masterKey: try MasterKey.decode(base64: oldKey)))
        await #expect(throws: StoreError.wrongMasterKey) { try await old.checkMasterKey() }
    }

    @Test("an interrupted rotation settles on the next start: discarded before the commit, completed after it")
    func interruptedRotation() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try Self.configuration(directory)
        try await Self.seed(configuration, count: 5)
        let keyFile = directory.appendingPathComponent("hub.key").path
        // Crashed before the commit: a new key file exists, the store still uses the old key.
        _ = try MasterKey.loadOrCreate(keyFile: keyFile + ".new")
        try await Self.expectIntact(configuration, count: 5)
        #expect(!FileManager.default.fileExists(atPath: keyFile + ".new"))

        // Crashed after the commit, before the file was replaced.
        let store = try await Runtime.openStore(configuration)
        let newKey = try MasterKey.loadOrCreate(keyFile: keyFile + ".new")
        _ = try await store.rotateMasterKey(to: SecretBox(masterKey: newKey))
        try await Self.expectIntact(configuration, count: 5)
        #expect(try MasterKey.loadOrCreate(keyFile: keyFile).withUnsafeBytes { Data($0) } == newKey.withUnsafeBytes { Data($0) })
    }

    @Test("tokens create prints a token alone on stdout; list shows names only; revoke marks it")
    func tokens() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ["KOPRU_STORE": "sqlite:\(directory.appendingPathComponent("hub.db").path)"]
        let (status, output) = try await KopruProcess.run(
            ["tokens", "create", "--name", "agency"], environment: environment, logFile: directory.appendingPathComponent("create.log"))
        #expect(status == 0)
        let token = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("kopru_") && token.count > 40 && !token.contains("\n"))
        let (_, listed) = try await KopruProcess.run(
            ["tokens", "list"], environment: environment, logFile: directory.appendingPathComponent("list.log"))
        #expect(listed.contains("agency") && listed.contains("active") && !listed.contains(token))
        let (revokeStatus, _) = try await KopruProcess.run(
            ["tokens", "revoke", "agency"], environment: environment, logFile: directory.appendingPathComponent("revoke.log"))
        #expect(revokeStatus == 0)
        let (again, _) = try await KopruProcess.run(
            ["tokens", "revoke", "agency"], environment: environment, logFile: directory.appendingPathComponent("again.log"))
        #expect(again != 0)
    }
}
