import Foundation
import KopruApp
import Hummingbird
import HummingbirdTesting
import KopruServer
import KopruStore
import Testing

@Suite("OpenAPI document")
struct OpenAPITests {
    /// `{name}` and `:name` both become `{}`: the router cannot name one segment both `:type` and
    /// `:id`, so names may differ; methods and shapes may not.
    static func normalise(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") ? "{}" : String($0) }.joined(separator: "/")
    }

    @Test("every route is documented and every documented route exists")
    func routerMatchesDocument() async throws {
        let router = buildRouter(HubServerDependencies(store: MemoryStore(), kinds: Installed.kinds))
        // The dashboard's pages are for people, not API clients: they are left out, and only they.
        let pages = DashboardRoutes.routeSignatures()
        #expect(pages.contains("GET /") && pages.contains("POST /dead-letters/replay"))
        #expect(pages.allSatisfy { !$0.contains(" /api/") }, "no API route is taken for a page")
        let routed = Set(router.routes.map { "\($0.method.rawValue) \(Self.normalise("\($0.path)"))" }).subtracting(pages)

        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        let text = try await hub.live { client in try await client.execute(uri: "/openapi.json", method: .get).text }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(Self.normalise(path))" } })

        #expect(routed.subtracting(documented).sorted() == [], "routes missing from /openapi.json")
        #expect(documented.subtracting(routed).sorted() == [], "documented routes the router does not have")
        #expect(routed.count >= 17)
    }
}
