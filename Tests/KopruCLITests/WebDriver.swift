import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Headless Chromium, driven through chromedriver's W3C WebDriver protocol (JSON over HTTP on
/// loopback): the browser the dashboard's tests sign in with. `nil` when Debian's `chromium` and
/// `chromium-driver` are not installed, and the tests say they were skipped.
final class Browser: @unchecked Sendable {
    let driver: Process
    let base: URL
    let session: String
    let client: HTTPClient

    static var installed: (browser: String, driver: String)? {
        let browsers = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        let drivers = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        guard let browser = browsers.first(where: FileManager.default.isExecutableFile(atPath:)),
            let driver = drivers.first(where: FileManager.default.isExecutableFile(atPath:))
        else { return nil }
        return (browser, driver)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(log: URL) async throws {
        guard let installed = Self.installed else { throw Failure(description: "chromium or chromedriver is not installed") }
        let port = try freeLoopbackPort()
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: installed.driver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        driver.standardOutput = handle
        driver.standardError = handle
        try driver.run()
        base = URL(string: "http://127.0.0.1:\(port)")!
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        var ready = false
        var last = "no answer"
        for _ in 0..<100 where !ready {
            do {
                let data = try await Self.send(client, base.appendingPathComponent("status"), method: "GET")
                let status = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                ready = (status?["value"] as? [String: Any])?["ready"] as? Bool == true
                last = String(decoding: data.prefix(200), as: UTF8.self)
            } catch {
                last = "\(error)"
            }
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else {
            try? await client.shutdown()
            driver.terminate()
            throw Failure(description: "chromedriver did not start: \(last)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": installed.browser,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=tr-TR"],
                    ],
                ]
            ]
        ]
        let answer = try await Self.call(client, base.appendingPathComponent("session"), method: "POST", body: capabilities)
        guard let value = answer as? [String: Any], let id = value["sessionId"] as? String else {
            try? await client.shutdown()
            driver.terminate()
            throw Failure(description: "no WebDriver session: \(String(describing: answer))")
        }
        session = id
    }

    private static func send(_ client: HTTPClient, _ url: URL, method: String, body: Any? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .init(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        return Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
    }

    private static func call(_ client: HTTPClient, _ url: URL, method: String, body: Any? = nil) async throws -> Any? {
        let data = try await send(client, url, method: method, body: body)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let value = object?["value"]
        if let error = value as? [String: Any], let code = error["error"] as? String {
            throw Failure(description: "WebDriver \(code): \(error["message"] as? String ?? "")")
        }
        return value is NSNull ? nil : value
    }

    @discardableResult
    private func command(_ path: String, method: String = "POST", body: Any? = [String: Any]()) async throws -> Any? {
        try await Self.call(client, base.appendingPathComponent("session/\(session)/\(path)"), method: method, body: method == "GET" ? nil : body)
    }

    func open(_ url: URL) async throws { try await command("url", body: ["url": url.absoluteString]) }

    var currentURL: URL {
        get async throws { URL(string: try await command("url", method: "GET") as? String ?? "")! }
    }

    var source: String {
        get async throws { try await command("source", method: "GET") as? String ?? "" }
    }

    /// The element's WebDriver id, found by CSS selector.
    func element(_ selector: String) async throws -> String {
        let found = try await command("element", body: ["using": "css selector", "value": selector]) as? [String: Any]
        guard let id = found?.values.first as? String else { throw Failure(description: "no element \(selector)") }
        return id
    }

    func elements(_ selector: String) async throws -> [String] {
        let found = try await command("elements", body: ["using": "css selector", "value": selector]) as? [[String: Any]] ?? []
        return found.compactMap { $0.values.first as? String }
    }

    func click(_ selector: String) async throws { try await command("element/\(try await element(selector))/click") }

    func type(_ text: String, into selector: String) async throws {
        try await command("element/\(try await element(selector))/value", body: ["text": text])
    }

    func text(_ selector: String) async throws -> String {
        try await command("element/\(try await element(selector))/text", method: "GET") as? String ?? ""
    }

    @discardableResult
    func run(_ script: String, _ arguments: [Any] = []) async throws -> Any? {
        try await command("execute/sync", body: ["script": script, "args": arguments])
    }

    /// Waits (polling, up to `timeout`) until `condition` holds for the page.
    func wait(_ what: String, timeout: Duration = .seconds(20), until condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure(description: "timed out waiting for \(what)")
    }

    /// A PNG of the viewport, written to `file`.
    func screenshot(to file: URL) async throws {
        guard let base64 = try await command("screenshot", method: "GET") as? String, let png = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: file)
    }

    func quit() async {
        _ = try? await Self.call(client, base.appendingPathComponent("session/\(session)"), method: "DELETE")
        try? await client.shutdown()
        driver.terminate()
        driver.waitUntilExit()
    }
}
