import Crypto
import Foundation
import KopruCore

/// Encrypts connection secrets at rest with AES-256-GCM under the master key. The connection id
/// is authenticated data, so a ciphertext copied onto another connection's row will not open.
public struct SecretBox: Sendable {
    // SymmetricKey is not Sendable in swift-crypto 3, so keep the bytes and rebuild the key on use.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    /// First byte of every sealed value, so a later key rotation can tell formats apart.
    private static let version: UInt8 = 1

    public init(masterKey: SymmetricKey) { self.keyBytes = masterKey.withUnsafeBytes { Array($0) } }

    /// A box under a fresh random key: for tests and the in-memory store.
    public static func ephemeral() -> SecretBox { SecretBox(masterKey: SymmetricKey(size: .bits256)) }

    /// Identifies the key without revealing it: an HMAC of a fixed label under the key.
    public var fingerprint: String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("kopru master key fingerprint v1".utf8), using: key)
        return code.prefix(16).hexString
    }

    public func seal(_ secrets: [String: Secret], for connection: ConnectionID) throws -> Data {
        let plain = try JSONEncoder.kopru.encode(secrets.mapValues { $0.reveal() })
        let box = try AES.GCM.seal(plain, using: key, authenticating: Data(connection.rawValue.utf8))
        guard let combined = box.combined else { throw StoreError.invalidState("AES-GCM produced no combined form") }
        return Data([Self.version]) + combined
    }

    public func open(_ sealed: Data, for connection: ConnectionID) throws -> [String: Secret] {
        guard sealed.first == Self.version else {
            throw StoreError.decryption("secrets of connection \(connection) are in an unknown format")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            let plain = try AES.GCM.open(box, using: key, authenticating: Data(connection.rawValue.utf8))
            return try JSONDecoder.kopru.decode([String: String].self, from: plain).mapValues(Secret.init)
        } catch {
            throw StoreError.decryption(
                "secrets of connection \(connection) cannot be decrypted with this master key (wrong KOPRU_MASTER_KEY or key file?)")
        }
    }
}

/// Where the master key comes from: `KOPRU_MASTER_KEY` (base64 of 32 bytes), else a key file
/// created on first run with mode 0600 beside the database.
public enum MasterKey {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func decode(base64: String) throws(LoadError) -> SymmetricKey {
        guard let bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        else { throw LoadError(description: "KOPRU_MASTER_KEY must be the base64 of exactly 32 bytes") }
        return SymmetricKey(data: bytes)
    }

    /// Reads the key file, or creates it (0600, never world-readable, not even briefly).
    public static func loadOrCreate(keyFile path: String) throws -> SymmetricKey {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            let attributes = try manager.attributesOfItem(atPath: path)
            if let mode = attributes[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0 {
                throw LoadError(description: "key file \(path) is readable by others; chmod 600 it")
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return try decode(base64: text)
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw LoadError(description: "cannot create key file \(path) (errno \(errno))") }
        defer { close(fd) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(fd) == 0 else {
            throw LoadError(description: "cannot write key file \(path) (errno \(errno))")
        }
        return key
    }
}
