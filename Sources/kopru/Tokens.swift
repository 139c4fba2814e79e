import KopruApp
import ArgumentParser
import Foundation
import KopruServer
import KopruStore

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage admin API tokens.",
        discussion: """
            A token is shown once, when created; the hub keeps only its SHA-256. Send it as \
            Authorization: Bearer <token>.

            Examples:
              TOKEN=$(kopru tokens create --name agency)
              kopru tokens create --name staff --role read   # sees, changes nothing
              curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/integrations
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it, alone on stdout.")
        @Option(help: "Who or what uses the token; shown in the access log.") var name: String
        @Option(help: "admin (everything) or read (look, in the API and the dashboard, but change nothing).")
        var role: String = "admin"
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard (1...100).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) }) else {
                throw ValidationError("--name: 1-100 letters, digits, '.', '_', '-' or '@'")
            }
            guard APIToken.Role(rawValue: role) != nil else { throw ValidationError("--role: admin or read") }
        }

        func run() async throws {
            let store = try await Runtime.openStore(try global.load())
            let (token, hash) = AdminTokens.generate()
            do {
                try await store.createToken(APIToken(name: name, hash: hash, role: APIToken.Role(rawValue: role) ?? .admin, createdAt: Date()))
            } catch let error as StoreError where error.isConflict {
                throw ValidationError("a token named \(name) exists; choose another name")
            }
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens by name (never the tokens themselves).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await Runtime.openStore(try global.load())
            for token in try await store.tokens() {
                let state = token.revokedAt.map { "revoked \($0.formatted(.iso8601))" } ?? "active"
                print("\(token.name)\t\(token.role.rawValue)\tcreated \(token.createdAt.formatted(.iso8601))\t\(state)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name; it stops working at once.")
        @Argument(help: "The token's name.") var name: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await Runtime.openStore(try global.load())
            do {
                try await store.revokeToken(name: name, now: Date())
            } catch let error as StoreError where error.isNotFound {
                throw ValidationError("no active token named \(name)")
            }
            print("revoked \(name)")
        }
    }
}
