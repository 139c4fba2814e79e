import KopruApp
import ArgumentParser
import Crypto
import Foundation
import KopruStore
import KopruStoreSQLite

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the master key that encrypts connection secrets.",
        subcommands: [Rotate.self, Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random master key (base64 of 32 bytes), alone on stdout.")

        func run() {
            print(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() })
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every secret under a new master key, in one transaction.",
            discussion: """
                Until the transaction commits, the old key opens everything; if rotation fails or is \
                interrupted, nothing changes. Restart running hub processes afterwards.

                With a key file (SQLite, no KOPRU_MASTER_KEY): a new key is written to <db>.key.new, \
                the secrets are re-sealed, and the new file replaces <db>.key. A run interrupted between \
                the commit and the replacement is finished by the next start of any kopru command.

                With KOPRU_MASTER_KEY: generate the new key first (kopru keys generate), pass it in \
                KOPRU_NEW_MASTER_KEY, then give every hub process the new KOPRU_MASTER_KEY.
                """)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let configuration = try global.load()
            let store = try await Runtime.openStore(configuration)
            if configuration.masterKey != nil {
                guard let next = ProcessInfo.processInfo.environment["KOPRU_NEW_MASTER_KEY"], !next.isEmpty else {
                    throw ValidationError(
                        "KOPRU_MASTER_KEY is set: put the new key in KOPRU_NEW_MASTER_KEY (make one with kopru keys generate)")
                }
                let newBox = SecretBox(masterKey: try MasterKey.decode(base64: next))
                let count = try await store.rotateMasterKey(to: newBox)
                print("re-encrypted the secrets of \(count) connections; now set KOPRU_MASTER_KEY to the new key everywhere")
                return
            }
            guard let path = configuration.sqlitePath else { throw ValidationError("a PostgreSQL store needs KOPRU_MASTER_KEY") }
            let keyFile = Runtime.keyFile(beside: path)
            let pending = keyFile + ".new"
            let newKey = try MasterKey.loadOrCreate(keyFile: pending)
            let count = try await store.rotateMasterKey(to: SecretBox(masterKey: newKey))
            guard rename(pending, keyFile) == 0 else {
                throw ValidationError("rotation committed but \(pending) could not replace \(keyFile); the next start finishes it")
            }
            print("re-encrypted the secrets of \(count) connections under a new key in \(keyFile)")
        }
    }
}
