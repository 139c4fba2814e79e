import Foundation
import HTTPTypes
import KopruConnectors
import KopruHTTPClient
import Logging
import Synchronization
import Testing

@Suite("HTTP client")
struct HTTPClientTests {
    @Test("the AsyncHTTPClient transport sends method, headers and exact body bytes over real HTTP")
    func liveTransport() async throws {
        let server = try await LoopbackServer()
        defer { Task { try await server.shutdown() } }
        let transport = AsyncHTTPClientTransport()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("processKey")!] = "pk-secret"
        let body = Data(#"{"requestNumber":"R-1","city":"İSTANBUL"}"#.utf8)
        let response = try await transport.send(
            OutboundRequest(
                method: .post, url: URL(string: "http://127.0.0.1:\(server.port)/createPaysSupplierShipping")!, headers: headers,
                body: body))
        #expect(response.status == 200)
        let echo = try JSONSerialization.jsonObject(with: response.body) as! [String: Any]
        #expect(echo["method"] as? String == "POST")
        #expect(echo["uri"] as? String == "/createPaysSupplierShipping")
        #expect(echo["body"] as? String == String(decoding: body, as: UTF8.self))
        #expect((echo["headers"] as? [String: String])?["processkey"] == "pk-secret")

        let limited = try await transport.send(
            OutboundRequest(method: .get, url: URL(string: "http://127.0.0.1:\(server.port)/status/429")!))
        #expect(limited.status == 429)
        #expect(RetryAfter.from(limited.headers) == .seconds(7))
    }

    @Test("a POST answered 307 is sent again, body and all, to the new address")
    func temporaryRedirect() async throws {
        let server = try await LoopbackServer()
        defer { Task { try await server.shutdown() } }
        let body = Data(#"{"order_id":"000100001"}"#.utf8)
        let response = try await AsyncHTTPClientTransport().send(
            OutboundRequest(method: .post, url: URL(string: "http://127.0.0.1:\(server.port)/moved")!, body: body))
        #expect(response.status == 200)
        let echo = try JSONSerialization.jsonObject(with: response.body) as! [String: Any]
        #expect(echo["uri"] as? String == "/moved-here")
        #expect(echo["body"] as? String == String(decoding: body, as: UTF8.self))
    }

    @Test("a refused connection is an error, not a hang")
    func refused() async throws {
        let server = try await LoopbackServer()
        let port = server.port
        try await server.shutdown()
        await #expect(throws: (any Error).self) {
            _ = try await AsyncHTTPClientTransport().send(
                OutboundRequest(method: .get, url: URL(string: "http://127.0.0.1:\(port)/")!, timeout: .seconds(2)))
        }
    }

    @Test("a request that timed out waiting for a pooled connection, or found none, is known not sent")
    func notSent() async throws {
        let server = try await LoopbackServer()
        // A pool size no other test uses: its own client, with all nine connections to hold.
        let transport = AsyncHTTPClientTransport(connectionsPerHost: 9)
        let port = server.port
        func hang(_ order: Int) -> OutboundRequest {
            OutboundRequest(
                method: .post, url: URL(string: "http://127.0.0.1:\(port)/hang")!, body: Data(#"{"order":\#(order)}"#.utf8),
                timeout: .seconds(2))
        }
        let failures = await withTaskGroup(of: (order: Int, error: any Error)?.self) { group in
            for order in 1...24 {
                group.addTask {
                    do { _ = try await transport.send(hang(order)) } catch { return (order, error) }
                    return nil
                }
            }
            return await group.reduce(into: [(order: Int, error: any Error)]()) { if let failure = $1 { $0.append(failure) } }
        }
        #expect(failures.count == 24)
        // The pool grows to about nine connections; the requests queued behind them time out
        // there and are "not sent". One that got a connection at its last moment may be sent
        // and time out before the server has read it: that one stays ambiguous, as it must.
        let unsent = Set(failures.filter { $0.error is RequestNotSent }.map(\.order))
        let arrived = Set(server.hung.map { $0.filter(\.isNumber) }.compactMap { Int($0) })
        #expect(unsent.count >= 1, "\(failures.map { "\($0.error)" })")
        #expect(arrived.count >= 9)
        #expect(unsent.isDisjoint(with: arrived), "a request the server read was counted as not sent")
        // The classification connectors see: retried, never read as "may have landed".
        let classified = ConnectorError.notSent("x")
        #expect(!classified.outcomeUnknown && classified.disposition == .retryable(after: nil))
        let sentButUnanswered = try #require(failures.first { !($0.error is RequestNotSent) }?.error)
        #expect(ConnectorError.network(sentButUnanswered).outcomeUnknown, "an error from after sending stays ambiguous")

        try await server.shutdown()
        do {
            // A client with no connection to the closed port left (this one's may linger).
            _ = try await AsyncHTTPClientTransport(connectionsPerHost: 10).exchange(hang(0))
            Issue.record("a closed port answered")
        } catch {
            #expect(!error.outcomeUnknown, "a refused connection sent nothing: \(error)")
        }
    }

    @Test("Retry-After as seconds or as an HTTP date")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21T14:13:20Z
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: now) == .seconds(0))
        #expect(RetryAfter.parse("Mon, 21 Sep 2026 14:14:20 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("Mon, 21 Sep 2026 14:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(RetryAfter.parse("soon", now: now) == nil)
    }

    @Test("a body that is one bare JSON string (Magento's admin token) is masked whole")
    func bareStringBodyIsMasked() {
        let body = Redaction().body(Data(#""mt3y8k2token0secret""#.utf8))
        #expect(!body.contains("mt3y8k2token0secret") && body.contains("masked"), "\(body)")
        #expect(Redaction().body(Data(#"{"sku":"A-1"}"#.utf8)).contains("A-1"))
    }

    @Test("redaction masks credential headers, query secrets and JSON keys at any depth")
    func redaction() {
        let redaction = Redaction()
        var headers = HTTPFields()
        headers[.authorization] = "Bearer abc"
        headers[HTTPField.Name("processKey")!] = "pk-1"
        headers[.contentType] = "application/json"
        let cleaned = redaction.headers(headers)
        #expect(cleaned["authorization"] == "***")
        #expect(cleaned["processkey"] == "***")
        #expect(cleaned["content-type"] == "application/json")
        #expect(
            redaction.url(URL(string: "https://u:p@shop.example/rest/V1/orders?apiKey=k1&page=2")!)
                == "https://:***@shop.example/rest/V1/orders?apiKey=***&page=2")
        let body = redaction.body(
            Data(#"{"order":{"id":7,"payment":{"cardNumber":"4111111111111111","cvc":"123"}},"password":"x","items":[{"token":"t"}]}"#.utf8))
        #expect(!body.contains("4111") && !body.contains("\"123\"") && !body.contains("\"x\"") && !body.contains("\"t\""))
        #expect(body.contains(#""id":7"#))
        #expect(redaction.body(Data("name=Ayşe&card=4111".utf8)) == "(20 bytes, not JSON)")
        // A key echoed inside a message, in any case, in English or Turkish, is masked too.
        let echoed = redaction.body(
            Data(#"{"errors":[{"message":"ERR-20003 kayıtlı - KEY: pk-live-9 TalepNo: 5"},{"m":"Anahtar: gizli-42"}],"note":"keyless ok"}"#.utf8))
        #expect(!echoed.contains("pk-live-9") && !echoed.contains("gizli-42"), "\(echoed)")
        #expect(echoed.contains("TalepNo: 5") && echoed.contains("keyless ok"))
        #expect(Redaction.mayEchoAKey("Monkey") && Redaction.mayEchoAKey("ANAHTAR") && !Redaction.mayEchoAKey("Ayşe Yılmaz, İstanbul"))
        #expect(Redaction.mayEchoAKey("\u{212A}ey: x") && !redaction.body(Data(#"{"m":"\#u{212A}ey: s3cr3t"}"#.utf8)).contains("s3cr3t"))
    }

    @Test("middleware runs outermost first around the transport")
    func middlewareOrder() async throws {
        final class Trail: Sendable {
            let entries = Mutex<[String]>([])
        }
        struct Recorder: HTTPMiddleware {
            let name: String
            let trail: Trail
            func handle(
                _ request: OutboundRequest, next: @Sendable (OutboundRequest) async throws -> InboundResponse
            ) async throws -> InboundResponse {
                trail.entries.withLock { $0.append("\(name)>") }
                var signed = request
                signed.headers[HTTPField.Name("x-\(name)")!] = "1"
                let response = try await next(signed)
                trail.entries.withLock { $0.append("<\(name)") }
                return response
            }
        }
        struct Terminal: HTTPTransport {
            func send(_ request: OutboundRequest) async throws -> InboundResponse {
                InboundResponse(status: request.headers[HTTPField.Name("x-sign")!] == "1" ? 204 : 400)
            }
        }
        let trail = Trail()
        let transport = MiddlewareTransport(
            Terminal(), middleware: [Recorder(name: "log", trail: trail), Recorder(name: "sign", trail: trail)])
        let response = try await transport.send(OutboundRequest(method: .get, url: URL(string: "http://127.0.0.1/")!))
        #expect(response.status == 204)
        #expect(trail.entries.withLock { $0 } == ["log>", "sign>", "<sign", "<log"])
    }
}
