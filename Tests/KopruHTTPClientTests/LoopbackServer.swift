import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for transport tests: echoes the request back as JSON
/// and answers `/status/NNN` with that status and a Retry-After header. `/hang` is read whole,
/// counted, and never answered.
final class LoopbackServer: Sendable {
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    private let hungRequests = HungRequests()

    /// The bodies of the `/hang` requests that arrived whole.
    var hung: [String] { hungRequests.bodies.withLock { $0 } }

    var port: Int { channel.localAddress!.port! }

    init() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let hungRequests = self.hungRequests
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(EchoHandler(hung: hungRequests)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

final class HungRequests: Sendable {
    let bodies = Mutex<[String]>([])
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let hung: HungRequests
    init(hung: HungRequests) { self.hung = hung }

    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            if head.uri == "/hang" {
                let body = String(buffer: body)
                hung.bodies.withLock { $0.append(body) }
                return
            }
            var status = HTTPResponseStatus.ok
            var headers = HTTPHeaders([("content-type", "application/json")])
            if head.uri == "/moved" {
                status = .temporaryRedirect
                headers.add(name: "location", value: "/moved-here")
            }
            if head.uri.hasPrefix("/status/"), let code = Int(head.uri.dropFirst("/status/".count)) {
                status = HTTPResponseStatus(statusCode: code)
                headers.add(name: "retry-after", value: "7")
            }
            let echo: [String: Any] = [
                "method": head.method.rawValue, "uri": head.uri,
                "headers": Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }),
                "body": String(buffer: body),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: echo, options: [.sortedKeys])) ?? Data()
            headers.add(name: "content-length", value: "\(data.count)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
