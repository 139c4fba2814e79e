import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A sandbox served over HTTP/1.1 on loopback, so connectors are tested over real sockets,
/// dropped connections and unanswered requests included.
public final class SandboxServer: Sendable {
    public let sandbox: Sandbox
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup

    public var port: Int { channel.localAddress?.port ?? 0 }
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    public init(_ sandbox: Sandbox, host: String = "127.0.0.1", port: Int = 0) async throws {
        self.sandbox = sandbox
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(SandboxChannelHandler(sandbox: sandbox))
                }
            }
            .bind(host: host, port: port).get()
    }

    public func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class SandboxChannelHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sandbox: Sandbox
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(sandbox: Sandbox) { self.sandbox = sandbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            let request = SandboxRequest(
                method: head.method.rawValue, target: head.uri,
                headers: Dictionary(head.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { "\($0), \($1)" }),
                body: Data(body.readableBytesView))
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let sandbox = self.sandbox
            let version = head.version
            Task {
                let outcome = await sandbox.process(request)
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.answer(outcome, version: version, context: context)
                }
            }
        }
    }

    private func answer(_ outcome: SandboxOutcome, version: HTTPVersion, context: ChannelHandlerContext) {
        switch outcome {
        case .hang: return
        case .drop: context.close(promise: nil)
        case .respond(let response):
            var headers = HTTPHeaders(response.headers.map { ($0.key, $0.value) })
            headers.replaceOrAdd(name: "content-length", value: "\(response.body.count)")
            let status = HTTPResponseStatus(statusCode: response.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
