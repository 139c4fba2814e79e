import Foundation

/// A PostgreSQL cluster of a test's own on a free loopback port, which the test may stop and
/// start as an operator would (`pg_ctl`), without touching the server other tests share.
/// Needs the server binaries (Debian's `postgresql`); as root it runs them as `postgres`.
final class PrivatePostgres {
    static let binaries: URL? = {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.map {
            root.appendingPathComponent($0).appendingPathComponent("bin")
        }.last { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path) }
    }()

    let folder: URL
    /// The cluster's directory, inside `folder` (initdb wants it empty and its own).
    let data: URL
    let port: Int
    let database = "kopru_outage"
    var url: String { "postgres://kopru@127.0.0.1:\(port)/\(database)" }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    init() throws {
        guard Self.binaries != nil else { throw Failed(description: "no PostgreSQL server binaries") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopru-pg-\(UUID().uuidString.prefix(8))")
        data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        if getuid() == 0 { try run("/bin/chown", "postgres:postgres", data.path) }
        try tool("initdb", "-D", data.path, "-A", "trust", "-U", "kopru")
        try start()
        try tool("createdb", "-h", "127.0.0.1", "-p", "\(port)", "-U", "kopru", database)
    }

    /// The server as a child of this process, not a daemon: Foundation's `Process` waits for
    /// every process that inherited its descriptors, so `pg_ctl start` would never return.
    private var server: Process?

    func start() throws {
        let server = Process()
        let binary = Self.binaries!.appendingPathComponent("postgres").path
        let arguments = ["-D", data.path, "-c", "listen_addresses=127.0.0.1", "-p", "\(port)", "-k", data.path]
        if getuid() == 0 {
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            server.arguments = ["-u", "postgres", "--", binary] + arguments
        } else {
            server.executableURL = URL(fileURLWithPath: binary)
            server.arguments = arguments
        }
        let log = folder.appendingPathComponent("server.log")
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        server.standardOutput = handle
        server.standardError = handle
        try server.run()
        self.server = server
        let deadline = Date().addingTimeInterval(30)
        while (try? tool("pg_isready", "-h", "127.0.0.1", "-p", "\(port)")) == nil {
            guard Date() < deadline, server.isRunning else { throw Failed(description: "the server did not start") }
            usleep(100_000)
        }
    }

    /// A fast shutdown (SIGINT to the postmaster): open connections are closed and new ones
    /// refused until `start`.
    func stop() throws {
        guard let server, server.isRunning else { return }
        let pidFile = data.appendingPathComponent("postmaster.pid")
        if let line = (try? String(contentsOf: pidFile, encoding: .utf8))?.split(separator: "\n").first, let pid = Int32(line) {
            kill(pid, SIGINT)
        }
        let deadline = Date().addingTimeInterval(30)
        while server.isRunning, Date() < deadline { usleep(50_000) }
        self.server = nil
    }

    /// One value from psql, as text.
    func value(_ sql: String) throws -> String {
        try tool("psql", "-h", "127.0.0.1", "-p", "\(port)", "-U", "kopru", "-d", database, "-tAc", sql)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func destroy() {
        try? stop()
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    private func tool(_ name: String, _ arguments: String...) throws -> String {
        let path = Self.binaries!.appendingPathComponent(name).path
        return getuid() == 0 ? try run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments) : try run(path, arguments)
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: String...) throws -> String { try run(executable, arguments) }

    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        // A file, not a pipe: the server pg_ctl starts would hold a pipe open long after pg_ctl exits.
        let outputFile = folder.appendingPathComponent("tool-\(UUID().uuidString.prefix(8)).out")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let handle = try FileHandle(forWritingTo: outputFile)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw Failed(description: "\(executable) \(arguments): \(output)") }
        return output
    }
}
