import Foundation
import HTTPTypes
import HummingbirdTesting
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruStore
import KopruStoreSQLite
import Testing

/// The connection's log page reads what the call log wrote (issue 15.5): failed calls by
/// `?kind=external_call&level=warning`, each with its duration and details.
@Suite("Call log through the API")
struct CallLogRouteTests {
    /// Answers each request with the status its path names (`/status/503`), or fails without one.
    struct StatusTransport: HTTPTransport {
        struct Refused: Error {}

        func send(_ request: OutboundRequest) async throws -> InboundResponse {
            guard let status = Int(request.url.lastPathComponent) else { throw Refused() }
            return InboundResponse(status: status, body: Data(#"{"status":\#(status)}"#.utf8))
        }
    }

    @Test("?kind=external_call&level=warning lists the failed calls, with duration and details")
    func failedCallsByFilter() async throws {
        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        try await hub.addWebhookConnection("shop")
        let log = CallLog(store: hub.store)
        let transport = log.recording(StatusTransport(), for: "shop")
        for path in ["status/200", "status/404", "status/429", "status/503", "nowhere"] {
            _ = try? await RunningJob.$id.withValue(7) {
                try await transport.send(OutboundRequest(method: .post, url: URL(string: "https://shop.example/rest/\(path)")!))
            }
        }
        await log.flush()
        try await hub.store.append([EventRecord(at: Date(), level: .warning, kind: "job", connection: "shop", message: "not a call")])

        try await hub.live { client in
            let page = try await client.execute(
                uri: "/api/integrations/shop/logs?kind=external_call&level=warning", method: .get, headers: hub.auth)
            #expect(page.status == .ok)
            let items = try #require(page.json["items"] as? [[String: Any]], "\(page.text)")
            #expect(items.map { $0["level"] as? String } == ["error", "error", "warning", "warning"], "\(page.text)")
            #expect(items.allSatisfy { $0["kind"] as? String == "external_call" && $0["durationMs"] is Int && $0["subject"] as? String == "job:7" })
            let details = items.compactMap { $0["details"] as? [String: String] }
            try #require(details.count == 4)
            #expect(details.map { $0["status"] } == [nil, "503", "429", "404"])
            #expect(details.first?["error"] == "Refused")
            #expect(details.map { $0["method"] } == ["POST", "POST", "POST", "POST"])
            #expect(details[1]["path"] == "/rest/status/503" && details[1]["response_body"] == #"{"status":503}"#)

            let all = try await client.execute(uri: "/api/integrations/shop/logs?kind=external_call", method: .get, headers: hub.auth)
            #expect((all.json["items"] as? [[String: Any]])?.count == 5, "\(all.text)")
        }
    }
}
