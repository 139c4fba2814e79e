import Crypto
import Foundation
import KopruStore

/// A dashboard sign-in, carried in a cookie the hub signs: which token signed in (by its hash),
/// until when, and a random id the session's anti-forgery token is derived from. Nothing is
/// kept on the server, so every web process sharing the store (and the master key the signing
/// key is derived from) accepts it; the token behind it is looked up on every request, so
/// revoking the token ends its sessions at once.
package struct DashboardSession: Sendable, Equatable {
    package var tokenHash: String
    package var expires: Date
    package var id: String

    package init(tokenHash: String, expires: Date, id: String) {
        self.tokenHash = tokenHash
        self.expires = expires
        self.id = id
    }

    static let cookieName = "kopru_session"
    static let lifetime: TimeInterval = 8 * 3600

    var issuedAt: Date { expires.addingTimeInterval(-Self.lifetime) }
}

/// Signs and reads session cookies and the anti-forgery tokens that go with them.
package struct DashboardSessionSigner: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    package init(key: DashboardKey) { keyBytes = key.bytes }

    package func cookieValue(for session: DashboardSession) -> String {
        let payload = "v1.\(session.expires.millisecondsSince1970).\(session.id).\(session.tokenHash)"
        return payload + "." + Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)))
    }

    /// The session a cookie carries, if the hub signed it and it has not expired.
    func session(fromCookie value: String, now: Date) -> DashboardSession? {
        guard value.utf8.count <= 400, let cut = value.lastIndex(of: ".") else { return nil }
        let payload = value[..<cut]
        guard let mac = Self.data(base64URL: value[value.index(after: cut)...]),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(payload.utf8), using: key)
        else { return nil }
        let parts = payload.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let milliseconds = Int64(parts[1]) else { return nil }
        let expires = Date(millisecondsSince1970: milliseconds)
        guard expires > now else { return nil }
        return DashboardSession(tokenHash: String(parts[3]), expires: expires, id: String(parts[2]))
    }

    /// The anti-forgery token every form of this session carries: a MAC of the session's id, so
    /// a page on another site, which cannot read it, cannot make a request that has it.
    func csrfToken(for session: DashboardSession) -> String {
        Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data("csrf.\(session.id)".utf8), using: key)))
    }

    func checkCSRF(_ presented: String?, for session: DashboardSession) -> Bool {
        guard let presented, let mac = Self.data(base64URL: Substring(presented)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("csrf.\(session.id)".utf8), using: key)
    }

    static func newSessionID() -> String {
        base64URL(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: Substring) -> Data? {
        guard text.count <= 100 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// The key that signs dashboard sessions (held as bytes: Crypto's key type is not `Sendable`).
public struct DashboardKey: Sendable {
    let bytes: [UInt8]

    public init(_ key: SymmetricKey) { bytes = key.withUnsafeBytes { Array($0) } }

    /// Derived from the master key, so every web process with the same store accepts the same
    /// sessions and a rotated master key ends them all.
    public static func derived(fromMasterKey masterKey: SymmetricKey) -> DashboardKey {
        DashboardKey(HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("kopru dashboard sessions v1".utf8), outputByteCount: 32))
    }

    /// A key of this process alone: its sessions end with it (tests, the demo).
    public static func random() -> DashboardKey { DashboardKey(SymmetricKey(size: .bits256)) }
}
