import Foundation
import HTTPTypes
import HummingbirdTesting
import KopruCore
import KopruStore
import KopruStoreSQLite
import NIOCore
import Testing

/// The companion Magento module (integrations/magento2) signs with PHP; the hub verifies in
/// Swift. Runs the module's own Signer with the `php` CLI (CI installs it), then posts what it
/// produced to the hub's intake.
@Suite("Magento module notifications")
struct MagentoModuleTests {
    static let module = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("integrations/magento2/Kopru/Notifier")

    static var php: String? {
        ["/usr/bin/php", "/usr/local/bin/php"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Without `php` these tests are reported as skipped, not as passes.
    static let needsPHP = ConditionTrait.enabled(if: php != nil, "php is not installed; .ci/run installs php-cli so this runs in CI")

    @Test("every PHP file of the module passes php -l", needsPHP)
    func lint() throws {
        let php = try #require(Self.php)
        let files = FileManager.default.enumerator(atPath: Self.module.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".php") } ?? []
        #expect(files.count >= 3)
        for file in files {
            let result = try Self.run(php, ["-l", Self.module.appendingPathComponent(file).path])
            #expect(result.status == 0, "\(file): \(result.output)")
        }
    }

    @Test("a notification signed by the module's PHP Signer is accepted; a tampered one is refused", needsPHP)
    func phpSignatureVerifiesInSwift() async throws {
        let php = try #require(Self.php)
        let secret = "whsec-module-test-0001"
        let body = #"{"event":"order.placed","entity_id":1042,"increment_id":"000000123","store_id":1}"#
        let script = """
            require '\(Self.module.appendingPathComponent("Model/Signer.php").path)';
            $h = (new \\Kopru\\Notifier\\Model\\Signer())->headers($argv[1], $argv[2], time(), 'delivery-1');
            foreach ($h as $k => $v) { echo $k, ': ', $v, "\\n"; }
            """
        let result = try Self.run(php, ["-r", script, secret, body])
        #expect(result.status == 0, "\(result.output)")
        var headers = HTTPFields()
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let name = HTTPField.Name(parts[0]) { headers[name] = parts[1] }
        }
        #expect(headers[HTTPField.Name("X-Kopru-Signature")!]?.hasPrefix("sha256=") ?? false)
        let signed = headers

        let hub = try await HubFixture()
        defer { hub.cleanUp() }
        // A magento2 connection needs no webhook.* settings: the module's scheme is the default.
        try await hub.store.saveConnection(
            Connection(id: "magento", type: "magento2", name: "Shop", settings: ["baseURL": "https://shop.example.com"],
                       secrets: ["webhookSecret": Secret(secret)]), now: Date())
        try await hub.live { client in
            let accepted = try await client.execute(uri: "/webhooks/magento", method: .post, headers: signed, body: ByteBuffer(string: body))
            #expect(accepted.status == .ok)
            let tampered = try await client.execute(
                uri: "/webhooks/magento", method: .post, headers: signed, body: ByteBuffer(string: body.replacingOccurrences(of: "1042", with: "1043")))
            #expect(tampered.status == .unauthorized)
        }
        let event = try await hub.store.webhookEvent(connection: "magento", deliveryKey: "id:delivery-1")
        #expect(event?.topic == "order.placed")
    }
}
