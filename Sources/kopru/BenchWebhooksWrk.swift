import Foundation
import KopruApp

/// `kopru bench webhooks --wrk`: the load from wrk, a process of its own that shares nothing
/// with the hub but the two cores. Every request is signed beforehand and written to a file
/// (one per wrk thread); wrk's Lua sends each once, so none is a duplicate. There are more than
/// `duration` seconds at `poolRate` can use, and a run that uses them all up is refused.
struct WrkLoad {
    /// Requests signed per second of load: more than the hub takes on any machine we measure.
    static let poolRate = 9_000

    let hub: BenchHub
    let folder: URL
    let duration: Int
    let connections: Int
    let threads: Int
    let bodyBytes: Int

    func run() async throws -> BenchLoad {
        guard let wrk = Self.which("wrk") else {
            throw BenchError(description: "wrk is not on PATH (Debian: apt-get install -y wrk)")
        }
        let script = folder.appendingPathComponent("webhooks.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let requests = folder.appendingPathComponent("requests").path
        try writeRequests(to: requests)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = [
            "-t", "\(threads)", "-c", "\(connections)", "-d", "\(duration)s", "--timeout", "10s", "-s", script.path, hub.base,
            "--", requests,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let hubBefore = ProcessCPU.microseconds(of: hub.pid)
        let generatorBefore = ProcessCPU.childrenMicroseconds()
        try process.run()
        // Read while it runs, so a full pipe never blocks it.
        let text = try await Task.detached { String(decoding: try output.fileHandleForReading.readToEnd() ?? Data(), as: UTF8.self) }
            .value
        process.waitUntilExit()
        let hubCPU = ProcessCPU.microseconds(of: hub.pid) - hubBefore
        let generatorCPU = ProcessCPU.childrenMicroseconds() - generatorBefore
        for file in 0..<threads { try? FileManager.default.removeItem(atPath: "\(requests).\(file)") }

        guard process.terminationStatus == 0,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("KOPRU-WRK ") }),
            let summary = try JSONSerialization.jsonObject(with: Data(line.dropFirst("KOPRU-WRK ".count).utf8)) as? [String: Any]
        else {
            throw BenchError(description: "wrk did not finish as expected (status \(process.terminationStatus)): \(text.suffix(2000))")
        }
        func number(_ key: String) -> Double { (summary[key] as? NSNumber)?.doubleValue ?? 0 }
        if summary["exhausted"] as? Bool == true {
            throw BenchError(description: "wrk sent every pre-signed request before the time was up: raise WrkLoad.poolRate")
        }
        let errors = ["errors_connect", "errors_read", "errors_write", "errors_status", "errors_timeout"]
            .map { ($0, Int(number($0))) }.filter { $0.1 > 0 }
        // Connections still open when the time is up are cut mid-request: wrk counts those as
        // read errors, at most one per connection, and the hub may have stored them.
        let cut = errors.first { $0.0 == "errors_read" }?.1 ?? 0
        guard errors.allSatisfy({ $0.0 == "errors_read" }), cut <= connections else {
            throw BenchError(description: "wrk saw failures: \(errors.map { "\($0.0) \($0.1)" }.joined(separator: ", "))")
        }
        return BenchLoad(
            acknowledged: Int(number("requests")), inFlightAtEnd: connections, seconds: number("duration_us") / 1_000_000,
            p50: number("p50_us") / 1000, p99: number("p99_us") / 1000, hubCPUMicroseconds: hubCPU,
            generatorCPUMicroseconds: generatorCPU)
    }

    /// Each record: eight ASCII digits giving the length, then the raw HTTP/1.1 request.
    private func writeRequests(to path: String) throws {
        let total = duration * Self.poolRate
        let host = "127.0.0.1:\(hub.port)"
        for file in 0..<threads {
            FileManager.default.createFile(atPath: "\(path).\(file)", contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(path).\(file)"))
            defer { try? handle.close() }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            for order in stride(from: file, to: total, by: threads) {
                let webhook = hub.signed(order: order, bodyBytes: bodyBytes)
                var head = "POST \(BenchHub.path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(webhook.body.count)\r\n"
                for (name, value) in webhook.headers { head += "\(name): \(value)\r\n" }
                head += "\r\n"
                let length = String(head.utf8.count + webhook.body.count)
                buffer += Array((String(repeating: "0", count: max(0, 8 - length.count)) + length).utf8)
                buffer += head.utf8
                buffer += webhook.body
                if buffer.count >= 1 << 20 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: buffer)
        }
    }

    private static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// wrk's side: thread i reads its own file and sends each request once; `done` prints one
    /// line of JSON for the bench to read.
    static let script = #"""
        -- Written by `kopru bench webhooks --wrk`. Each thread sends the pre-signed requests of
        -- its own file (records: 8 ASCII digits of length, then the raw request), each once.
        local threads = {}

        function setup(thread)
          thread:set("id", #threads)
          table.insert(threads, thread)
        end

        function init(args)
          file = assert(io.open(args[1] .. "." .. id, "rb"))
          exhausted = false
          fallback = wrk.format("GET", "/healthz")
        end

        function request()
          local length = tonumber(file:read(8) or "")
          if length == nil then
            exhausted = true
            wrk.thread:stop()
            return fallback
          end
          return file:read(length)
        end

        function done(summary, latency, requests)
          local exhausted = false
          for _, thread in ipairs(threads) do
            if thread:get("exhausted") then exhausted = true end
          end
          local e = summary.errors
          io.write(string.format(
            'KOPRU-WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
            '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"exhausted":%s}\n',
            summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
            latency.max, e.connect, e.read, e.write, e.status, e.timeout, tostring(exhausted)))
        end
        """#
}
