import AsyncHTTPClient
import Foundation
import KopruApp
import Logging
import NIOCore
import NIOHTTP1

/// What the bench commands share: their quiet logging, a port for a child hub, and waiting
/// for that hub to be ready.

/// A loopback port nobody is listening on (the kernel's choice for port 0), for a child `kopru`
/// process to take.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw BenchError(description: "cannot find a free port (errno \(errno))") }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Bench output is the figures: only errors are logged.
func quietBenchLogging() {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .error
        return handler
    }
}

/// Until the hub at `base` answers `/readyz` (60 s at most); fails early if `child` exits.
func waitUntilHubReady(_ base: String, child: Process? = nil) async throws {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let child, !child.isRunning { throw BenchError(description: "kopru serve exited with status \(child.terminationStatus)") }
            if let response = try? await client.execute(HTTPClientRequest(url: "\(base)/readyz"), timeout: .seconds(1)),
                response.status == .ok
            {
                try await client.shutdown()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError(description: "the hub did not become ready within 60 s")
    } catch {
        try? await client.shutdown()
        throw error
    }
}
