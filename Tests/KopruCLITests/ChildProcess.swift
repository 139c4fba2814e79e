import Foundation

/// The `kopru` binary built beside this test bundle.
enum KopruBinary {
    static var url: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kopru"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/kopru"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }
}

/// A `kopru` child process whose output goes to a log file (read when a test fails).
final class KopruProcess {
    let process = Process()
    let logFile: URL

    init(_ arguments: [String], environment: [String: String], logFile: URL) throws {
        self.logFile = logFile
        if !FileManager.default.fileExists(atPath: logFile.path) {
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: logFile)
        handle.seekToEndOfFile()
        process.executableURL = KopruBinary.url
        process.arguments = arguments
        // Only what the test gives: a developer's own KOPRU_STORE or KOPRU_CONFIG must not leak in.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KOPRU_") }.merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// A test that fails or throws half-way must not leave a hub running behind it.
    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    var pid: Int32 { process.processIdentifier }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to end; returns its exit status, or nil on timeout.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Runs a short command to completion and returns its output.
    static func run(_ arguments: [String], environment: [String: String], logFile: URL) async throws -> (Int32?, String) {
        let child = try KopruProcess(arguments, environment: environment, logFile: logFile)
        let status = try await child.waitForExit()
        return (status, (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
    }
}

/// A loopback port below the kernel's ephemeral range (so no client connection takes it while a
/// restarted hub is down) that could be bound a moment ago.
func freeLoopbackPort() throws -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<30_000)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound == 0 { return port }
    }
    throw POSIXError(.EADDRINUSE)
}

/// A number counted with the sqlite3 shell, apart from the store's own code.
func sqliteCount(_ database: String, _ sql: String) throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [database, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    return Int(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
}
