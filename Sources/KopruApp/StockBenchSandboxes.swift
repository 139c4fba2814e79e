import Foundation
import KopruCore
import KopruSandbox
import Synchronization

/// The stock bench's two systems with one catalogue: `SKU-000001`… in a Magento store (all at
/// zero) and in the REST ERP (on hand `index % 50`), the ERP serving pages of up to 5 000 rows.
package final class StockBenchSandboxes: Sendable {
    package let erp: ERPSandbox
    package let magento = MagentoSandbox()
    package let count: Int

    package init(skus count: Int, profile: StockBenchWorld.Profile) {
        self.count = count
        var settings = ERPSandbox.Settings()
        settings.honoursIdempotencyKey = false
        settings.maxPageSize = 5_000
        erp = ERPSandbox(settings: settings)
        var levels: [String: Int] = [:]
        levels.reserveCapacity(count)
        var zeros: [String: Int] = [:]
        zeros.reserveCapacity(count)
        for index in 0..<count {
            let sku = Self.sku(index)
            levels[sku] = index % 50
            zeros[sku] = 0
        }
        erp.setStock(levels)
        magento.setStock(zeros)
        for sandbox in [magento.sandbox, erp.sandbox] { sandbox.ledger.keepBodies(false) }
        magento.configure { _, settings in
            settings.asyncInputLimit = 5_000
            settings.inputLimit = profile == .ozon ? 100 : nil
        }
    }

    /// The `index`-th SKU (from 0): `SKU-000001`, …, `SKU-1000000`.
    package static func sku(_ index: Int) -> String {
        let digits = String(index + 1)
        return "SKU-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The ERP's on-hand level of the `index`-th SKU before any change.
    package static func initialLevel(_ index: Int) -> Int { index % 50 }

    /// Raises `changing` SKUs, spread evenly over the catalogue, by 7 in the ERP.
    package func changeStock(_ changing: Int) {
        guard changing > 0 else { return }
        let step = max(1, count / changing)
        var levels: [String: Int] = [:]
        for index in stride(from: 0, to: count, by: step).prefix(changing) {
            let sku = Self.sku(index)
            levels[sku] = (erp.stockLevel(code: sku) ?? 0) + 7
        }
        erp.setStock(levels)
    }

    package var counters: StockBenchCounters {
        StockBenchCounters(
            requests: magento.sandbox.ledger.count + erp.sandbox.ledger.count, rowsApplied: magento.stockRowsApplied,
            busySeconds: magento.sandbox.busySeconds + erp.sandbox.busySeconds, peakRSSMegabytes: StockBenchWorld.peakRSSMegabytes())
    }
}

/// What the sandboxes did so far: requests received, stock rows Magento applied, time spent
/// answering, and the memory of the process they run in.
package struct StockBenchCounters: Sendable {
    package var requests: Int
    package var rowsApplied: Int
    package var busySeconds: Double
    package var peakRSSMegabytes: Double

    var json: JSON {
        [
            "requests": JSON(requests), "rows_applied": JSON(rowsApplied), "busy_ns": JSON(Int(busySeconds * 1e9)),
            "peak_rss_kb": JSON(Int(peakRSSMegabytes * 1024)),
        ]
    }

    init(requests: Int, rowsApplied: Int, busySeconds: Double, peakRSSMegabytes: Double) {
        (self.requests, self.rowsApplied, self.busySeconds, self.peakRSSMegabytes) = (requests, rowsApplied, busySeconds, peakRSSMegabytes)
    }

    init(_ json: JSON) throws {
        guard let requests = json["requests"]?.int, let rows = json["rows_applied"]?.int, let busy = json["busy_ns"]?.int,
            let rss = json["peak_rss_kb"]?.int
        else { throw BenchError(description: "the sandbox process sent counters without their fields") }
        self.init(requests: requests, rowsApplied: rows, busySeconds: Double(busy) / 1e9, peakRSSMegabytes: Double(rss) / 1024)
    }
}

/// The bench's sandboxes in a process of their own, so the hub's memory and CPU are measured
/// apart from the simulators'. The child (`kopru bench stock --serve-sandboxes`) prints one
/// JSON line saying how to reach each system, then answers one command a line on its stdin with
/// one JSON line on its stdout — `change N` (N SKUs' ERP stock raised), `counters` — and exits
/// when its stdin closes, so it never outlives the bench.
package final class StockBenchChild: Sendable {
    package let erp: SandboxConnection
    package let magento: SandboxConnection
    private let process: Process
    private let pipes: Pipes

    /// The child's stdin and stdout, read and written off the concurrency pool's threads.
    private final class Pipes: Sendable {
        let input: FileHandle
        let output: FileHandle
        let unread = Mutex(Data())
        let queue = DispatchQueue(label: "kopru.bench.sandbox-child")

        init(input: FileHandle, output: FileHandle) { (self.input, self.output) = (input, output) }

        /// Writes `line` (if any) and reads one answer line.
        func exchange(_ line: String?) async throws -> JSON {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSON, any Error>) in
                queue.async {
                    do {
                        if let line { try self.input.write(contentsOf: Data((line + "\n").utf8)) }
                        var buffer = self.unread.withLock { $0 }
                        while !buffer.contains(0x0A) {
                            let more = self.output.availableData
                            guard !more.isEmpty else { throw BenchError(description: "the sandbox process ended") }
                            buffer.append(more)
                        }
                        let end = buffer.firstIndex(of: 0x0A)!
                        let answer = try JSON.parse(Data(buffer[buffer.startIndex..<end]))
                        self.unread.withLock { $0 = Data(buffer[(end + 1)...]) }
                        continuation.resume(returning: answer)
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    package init(executable: URL, arguments: [String]) async throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        self.process = process
        pipes = Pipes(input: stdin.fileHandleForWriting, output: stdout.fileHandleForReading)
        // The catalogue is built before the first line: a million SKUs take a few seconds.
        let hello = try await pipes.exchange(nil)
        guard let erp = Self.connection(hello["erp"]), let magento = Self.connection(hello["magento"]) else {
            throw BenchError(description: "the sandbox process did not say where its systems are")
        }
        (self.erp, self.magento) = (erp, magento)
    }

    package func changeStock(_ count: Int) async throws {
        let answer = try await pipes.exchange("change \(count)")
        guard answer["changed"]?.int == count else { throw BenchError(description: "the sandbox process did not change \(count) SKUs") }
    }

    package func counters() async throws -> StockBenchCounters { try StockBenchCounters(try await pipes.exchange("counters")) }

    package func shutdown() async {
        try? pipes.input.close()
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pipes.queue.async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }

    private static func connection(_ json: JSON?) -> SandboxConnection? {
        guard let settings = json?["settings"]?.object, let secrets = json?["secrets"]?.object else { return nil }
        return SandboxConnection(settings: settings.compactMapValues(\.string), secrets: secrets.compactMapValues(\.string))
    }

    /// The child's side: builds the catalogue, serves both systems on loopback and answers
    /// commands until its stdin closes.
    package static func serve(skus: Int) async throws {
        let sandboxes = StockBenchSandboxes(skus: skus, profile: .unlimited)
        let erpServer = try await SandboxServer(sandboxes.erp.sandbox)
        let magentoServer = try await SandboxServer(sandboxes.magento.sandbox)
        func describe(_ connection: SandboxConnection) -> JSON {
            ["settings": .object(connection.settings.mapValues { .string($0) }), "secrets": .object(connection.secrets.mapValues { .string($0) })]
        }
        let hello: JSON = [
            "erp": describe(sandboxes.erp.connection(at: erpServer.baseURL)),
            "magento": describe(sandboxes.magento.connection(at: magentoServer.baseURL)),
        ]
        write(hello)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                while let line = readLine() {
                    let words = line.split(separator: " ")
                    switch words.first {
                    case "change":
                        let count = words.count > 1 ? Int(words[1]) ?? 0 : 0
                        sandboxes.changeStock(count)
                        write(["changed": JSON(count)])
                    case "counters": write(sandboxes.counters.json)
                    default: write(["error": .string("unknown command: \(line.prefix(40))")])
                    }
                }
                continuation.resume()
            }.start()
        }
        await erpServer.shutdown()
        await magentoServer.shutdown()
    }

    private static func write(_ json: JSON) {
        FileHandle.standardOutput.write(json.data + Data("\n".utf8))
    }
}
