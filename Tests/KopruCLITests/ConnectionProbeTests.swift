import Foundation
import KopruSandbox
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 14.2 as an operator meets it, through `kopru serve`'s admin API: saving an ERP profile
/// probes its order lookup; one that cannot tell "no such order" from "no such route" is refused
/// naming the setting, and one that can neither be asked nor given keys is saved with a warning
/// its health keeps showing.
@Suite("Connection probe on save", .serialized)
struct ConnectionProbeTests {
    struct Reply {
        let status: Int
        let body: [String: Any]
    }

    func call(_ method: String, _ url: URL, token: String, body: [String: Any]? = nil) async throws -> Reply {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: json)
    }

    @Test("an ERP lookup that reads a missing route as 'absent' is refused; one without lookup or keys is saved with a warning")
    func probeOnSave() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-probe-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let erp = ERPSandbox()
        let erpServer = try await SandboxServer(erp.sandbox)
        defer { Task { await erpServer.shutdown() } }
        let port = try freeLoopbackPort()
        let environment = ["KOPRU_STORE": "sqlite:\(folder.appendingPathComponent("hub.db").path)", "KOPRU_HTTP_PORT": "\(port)"]
        let log = folder.appendingPathComponent("kopru.log")
        let (status, output) = try await KopruProcess.run(["tokens", "create", "--name", "probe"], environment: environment, logFile: log)
        try #require(status == 0)
        let token = try #require(output.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces))
        let hub = try KopruProcess(["serve", "--role", "web"], environment: environment, logFile: log)
        defer { hub.signal(SIGKILL) }
        let base = URL(string: "http://127.0.0.1:\(port)")!
        try await eventually("the hub is ready") {
            var ready = URLRequest(url: base.appendingPathComponent("readyz"))
            ready.timeoutInterval = 1
            return ((try? await URLSession.shared.data(for: ready))?.1 as? HTTPURLResponse)?.statusCode == 200
        }
        let erpURL = erpServer.baseURL.absoluteString + "/api/v2/"
        let config = base.appendingPathComponent("api/integrations/erp-rest/config")

        // A bare 404 is also what a route the ERP does not have answers: refused, naming the setting.
        let ambiguous = try await call(
            "POST", config, token: token,
            body: ["id": "erp", "settings": ["baseURL": erpURL, "lookup.absent": "404"], "secrets": ["api_key": "erp-sandbox-key"]])
        #expect(ambiguous.status == 422, "\(ambiguous.body)")
        #expect((ambiguous.body["error"] as? [String: Any])?["field"] as? String == "settings.lookup.absent", "\(ambiguous.body)")
        let missing = try await call("GET", base.appendingPathComponent("api/integrations/erp"), token: token)
        #expect(missing.status == 404, "nothing was stored")

        // The default lookup tells the two apart: saved, without warnings.
        let good = try await call(
            "POST", config, token: token, body: ["id": "erp", "settings": ["baseURL": erpURL], "secrets": ["api_key": "erp-sandbox-key"]])
        #expect(good.status == 201, "\(good.body)")
        #expect((good.body["warnings"] as? [String]) == [])

        // Neither a lookup nor honoured keys: saved, and its health says so, loudly.
        let blind = try await call(
            "POST", config, token: token,
            body: ["id": "erp", "settings": ["lookup": "none", "idempotency": "ignored"], "secrets": [:]])
        #expect(blind.status == 200, "\(blind.body)")
        let shown = try await call("GET", base.appendingPathComponent("api/integrations/erp"), token: token)
        let warnings = shown.body["warnings"] as? [String] ?? []
        #expect(warnings.count == 1 && warnings[0].contains("held for an operator"), "\(shown.body)")
        #expect(!String(decoding: try JSONSerialization.data(withJSONObject: shown.body), as: UTF8.self).contains("erp-sandbox-key"))
    }
}
