import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KopruStore
import KopruCore

/// Admin API tokens: `kopru_` and 32 random bytes in base64url. The store keeps only the SHA-256;
/// a token this long needs no slow hash, as nobody can guess it.
public enum AdminTokens {
    public static func generate() -> (token: String, hash: String) {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let token = "kopru_" + bytes.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (token, hash(token))
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }
}

/// Admits a request only with `Authorization: Bearer <token>` for a token that is not revoked,
/// and a change only for an admin token (a read-only one may GET).
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let store: any Store

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthenticated }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthenticated }
        let presented = parts[1].trimmingCharacters(in: .whitespaces)
        guard presented.count <= 200, let token = try await store.token(hash: AdminTokens.hash(presented)), token.revokedAt == nil
        else { throw APIError.tokenRefused }
        context.notes.tokenName = token.name
        if token.role == .read && request.method != .get && request.method != .head { throw APIError.readOnlyToken }
        return try await next(request, context)
    }
}
