import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Per request: who is calling (the admin token's name, once authenticated) and from where.
public struct HubRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Shared by every copy of this context, so the access log (outside) sees what the
    /// authenticator (inside) learned.
    let notes = RequestNotes()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies are read with explicit limits per route; this is the ceiling for anything else.
    public var maxUploadSize: Int { 1 << 20 }
}

final class RequestNotes: Sendable {
    private let name = Mutex<String?>(nil)

    var tokenName: String? {
        get { name.withLock { $0 } }
        set { name.withLock { $0 = newValue } }
    }
}
