import ArgumentParser
import Foundation
import Testing

@testable import kopru

/// `kopru bench stock` with its sandboxes in a child process: the mechanism, not the figures.
@Suite("Stock bench", .serialized)
struct StockBenchTests {
    @Test("--sandboxes takes process (the default) or in-process")
    func parsing() throws {
        let plain = try #require(try Kopru.parseAsRoot(["bench", "stock", "--skus", "1000"]) as? Bench.Stock)
        #expect(plain.sandboxes == "process" && !plain.serveSandboxes)
        let inProcess = try #require(try Kopru.parseAsRoot(["bench", "stock", "--sandboxes", "in-process"]) as? Bench.Stock)
        #expect(inProcess.sandboxes == "in-process")
        #expect(throws: (any Error).self) { try Kopru.parseAsRoot(["bench", "stock", "--sandboxes", "elsewhere"]) }
    }

    @Test("sandboxes in a child process: every row applied there, the hub's memory and theirs reported apart")
    func childProcessSandboxes() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-bench-stock-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try KopruProcess(
            ["bench", "stock", "--skus", "400", "--changed", "4", "--runs", "1", "--no-budget", "--json"], environment: [:],
            logFile: log)
        let status = try await child.waitForExit(timeout: .seconds(120))
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        // The bench itself checks that Magento applied exactly these rows.
        #expect(object["rows_full"] as? Int == 400)
        #expect(object["rows_delta"] as? Int == 4)
        #expect((object["sandboxes"] as? String)?.hasPrefix("child process") == true)
        #expect((object["sandbox_peak_rss_mb"] as? Double ?? 0) > 0)
        #expect((object["peak_rss_mb"] as? Double ?? 0) > 0)
    }
}
