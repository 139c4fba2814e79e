import Foundation
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import Testing

@testable import KopruApp
@testable import kopru

/// Issue 15.5 as `kopru` wires it: `events.callBodyBytes` is read and checked, and a connector
/// `HubConnectors` builds records its calls under its own connection.
@Suite("Call log wiring")
struct CallLogWiringTests {
    func load(_ yaml: String) throws -> HubConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-calllog-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try HubConfiguration.load(environment: ["KOPRU_CONFIG": file.path])
    }

    @Test("events.callBodyBytes: 2048 by default, 0 allowed, anything else out of range refused naming the key")
    func bodyBytesSetting() throws {
        #expect(HubConfiguration().callBodyBytes == 2048)
        #expect(try load("events: {callBodyBytes: 512}").callBodyBytes == 512)
        #expect(try load("events: {callBodyBytes: 0}").callBodyBytes == 0)
        for bad in ["-1", "1048577", "lots"] {
            #expect(throws: HubConfiguration.Problem.self, "\(bad)") { try load("events: {callBodyBytes: \(bad)}") }
            do { _ = try load("events: {callBodyBytes: \(bad)}") } catch let problem as HubConfiguration.Problem {
                #expect(problem.key == "events.callBodyBytes", "\(problem)")
            }
        }
    }

    @Test("a connector HubConnectors builds records each call in its connection's log")
    func connectorsRecordTheirCalls() async throws {
        let erp = ERPSandbox()
        let server = try await SandboxServer(erp.sandbox)
        defer { Task { await server.shutdown() } }
        let store = MemoryStore()
        let log = CallLog(store: store)
        let connectors = HubConnectors(transport: AsyncHTTPClientTransport(), callLog: log)
        _ = connectors.resolver(store: store)
        let connection = Connection(
            id: "erp-logo", type: "erp-rest", name: "ERP",
            settings: ["baseURL": server.baseURL.absoluteString + "/api/v2/"], secrets: ["api_key": Secret("erp-sandbox-key")])
        _ = try? await connectors.check(connection, probe: true)
        await log.flush()
        let calls = try await store.events(EventFilter(connection: "erp-logo", kind: "external_call"))
        #expect(!calls.isEmpty, "the probe's call is in the log")
        #expect(calls.allSatisfy { $0.details["path"]?.hasPrefix("/api/v2/") == true && $0.details["status"] != nil }, "\(calls)")
    }
}
