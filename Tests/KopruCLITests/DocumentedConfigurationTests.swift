import Foundation
import Testing

@testable import KopruApp
@testable import kopru

/// What the documents show a user must load as written (issue 14.8): every YAML block in docs/
/// and the README, alone and all together.
@Suite("Documented configuration")
struct DocumentedConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (file, first line, text) of every ```yaml block.
    static func yamlBlocks() throws -> [(file: String, line: Int, text: String)] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/\($0)" }
        var blocks: [(String, Int, String)] = []
        for file in (docs + ["README.md"]).sorted() {
            let lines = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            var start: Int?
            for (number, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if start == nil, trimmed == "```yaml" {
                    start = number + 1
                } else if let first = start, trimmed == "```" {
                    blocks.append((file, first + 1, lines[first..<number].joined(separator: "\n")))
                    start = nil
                }
            }
        }
        return blocks
    }

    func load(_ yaml: String) throws -> HubConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-doc-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try HubConfiguration.load(environment: ["KOPRU_CONFIG": file.path])
    }

    @Test("every YAML block in the documents loads as it stands")
    func everyBlockLoads() throws {
        let blocks = try Self.yamlBlocks()
        #expect(blocks.count >= 3, "found \(blocks.count) blocks")
        for block in blocks {
            #expect(throws: Never.self, "\(block.file):\(block.line)") { _ = try load(block.text) }
        }
    }

    @Test("the documented defaults are the defaults, and the blocks load together")
    func defaultsAsDocumented() throws {
        let blocks = try Self.yamlBlocks().filter { $0.file == "docs/configuration.md" }
        let everyKey = try #require(blocks.first)
        var documented = try load(everyKey.text)
        #expect(documented.schedules.map(\.name) == ["erp-stock"], "the block's one example schedule")
        documented.schedules = []
        #expect(documented == HubConfiguration(), "the \"every key, with its default\" block sets the defaults")
        let together = try load(blocks.map(\.text).joined(separator: "\n"))
        #expect(!together.connections.isEmpty && !together.flows.isEmpty)
    }

    @Test("connectionConcurrency: a number for every connection, or a mapping with default and named connections")
    func connectionConcurrencyBothShapes() throws {
        #expect(try load("workers: {connectionConcurrency: 6}").connectionConcurrency == 6)
        let mapped = try load("workers: {connectionConcurrency: {default: 2, erp-logo: 1}}")
        #expect(mapped.connectionConcurrency == 2 && mapped.connectionConcurrencyOverrides == ["erp-logo": 1])
        #expect(throws: HubConfiguration.Problem.self) { try load("workers: {connectionConcurrency: [1]}") }
    }

    @Test("a connection's retry settings are checked when the file loads, naming the key")
    func retrySettingsChecked() throws {
        let good = try load(
            "connections: [{id: erp, type: erp-rest, settings: {baseURL: \"https://erp.example.com/\", retry: {maxAttempts: 12, baseMilliseconds: 500, capMilliseconds: 60000}}}]")
        #expect(good.connections.first?.settings["retry.maxAttempts"] == "12")
        #expect {
            try load("connections: [{id: erp, type: erp-rest, settings: {baseURL: \"https://erp.example.com/\", retry: {maxAttempts: zero}}}]")
        } throws: { error in
            (error as? HubConfiguration.Problem)?.key == "connections[0].settings.retry.maxAttempts"
        }
    }
}
