import CoreMetrics
import Foundation
import HTTPTypes
import KopruCore
import KopruHTTPClient
import KopruStore
import Logging
import ServiceLifecycle
import Synchronization

/// The job a task is running, set by `JobProcessor` around each handler, so that work far below
/// it (an HTTP call inside a connector) can say which job it served without being told.
public enum RunningJob {
    @TaskLocal public static var id: JobID?
}

/// Every outbound call of every connection, in that connection's event log (kind
/// `external_call`; DESIGN invariant 7, seed 003's log page): method, redacted URL, status or
/// the error's type, duration, the job it served, and both bodies redacted and cut to
/// `bodyBytes`.
///
/// The call never waits on the store: `record` only appends to a bounded buffer, and `run()`
/// (a Service) writes the buffer in one batch every `interval`, or sooner once `batchSize`
/// calls wait. Redaction happens there too, off the caller's path: parsing a 5000-row page to
/// mask it costs milliseconds a stock sync should not spend per page. A crash loses the calls of
/// the last interval; that is the price of not making every call a transaction. When the store
/// cannot keep up, the oldest calls are dropped and counted in `kopru_call_log_dropped_total`.
public final class CallLog: Service, Sendable {
    public static let defaultBodyBytes = 2048
    /// Bodies larger than this are logged by size only. Masking means parsing the whole body,
    /// and a bulk page (5000 stock rows, ~200 KB) cost the stock bench 45 MB of peak memory and
    /// a second of its delta sync to show 2 KiB of it; the small answers that explain a failure
    /// are far below this.
    public static let largestRedactedBody = 64 << 10
    static let kind = "external_call"

    /// One call as it happened; raw, so the hot path does no work.
    struct Call: Sendable {
        var at: Date
        var connection: ConnectionID
        var job: JobID?
        var method: String
        var url: URL
        var status: Int?
        /// The error's type name only: its text may hold a URL with credentials.
        var errorType: String?
        var milliseconds: Int
        var requestBody: Data
        var responseBody: Data
        var requestBytes = 0
        var responseBytes = 0
    }

    private struct Buffer {
        var calls: [Call] = []
        var heldBytes = 0
        var dropped = 0
        var stopping = false
    }

    private let store: any Store
    private let bodyBytes: Int
    private let capacity: Int
    private let maximumHeldBytes: Int
    private let batchSize: Int
    private let interval: Duration
    private let redaction: Redaction
    private let logger: Logger
    private let buffer = Mutex(Buffer())
    private let dropped: Counter
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - bodyBytes: most bytes of each body kept, after redaction; 0 keeps none.
    ///   - capacity, maximumHeldBytes: the buffer's bounds, in calls and in raw body bytes.
    public init(
        store: any Store, bodyBytes: Int = CallLog.defaultBodyBytes, capacity: Int = 10_000, maximumHeldBytes: Int = 64 << 20,
        batchSize: Int = 500, interval: Duration = .milliseconds(200), redaction: Redaction = Redaction(),
        logger: Logger = Logger(label: "kopru.call-log")
    ) {
        self.store = store
        self.bodyBytes = max(0, bodyBytes)
        self.capacity = max(1, capacity)
        self.maximumHeldBytes = maximumHeldBytes
        self.batchSize = max(1, batchSize)
        self.interval = interval
        self.redaction = redaction
        self.logger = logger
        dropped = Counter(label: "kopru_call_log_dropped_total")
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// `transport` with every call recorded for `connection`.
    public func recording(_ transport: any HTTPTransport, for connection: ConnectionID) -> any HTTPTransport {
        MiddlewareTransport(transport, middleware: [CallLogMiddleware(log: self, connection: connection)])
    }

    func record(_ call: Call) {
        var call = call
        (call.requestBytes, call.responseBytes) = (call.requestBody.count, call.responseBody.count)
        // Only bodies that will be shown are held until the flush.
        if bodyBytes == 0 || call.requestBytes > Self.largestRedactedBody { call.requestBody = Data() }
        if bodyBytes == 0 || call.responseBytes > Self.largestRedactedBody { call.responseBody = Data() }
        let (lost, full) = buffer.withLock { buffer -> (Int, Bool) in
            buffer.calls.append(call)
            buffer.heldBytes += call.requestBody.count + call.responseBody.count
            var lost = 0
            // Drop a tenth at once, not one per call: removing from the front moves the whole array.
            if buffer.calls.count > capacity || buffer.heldBytes > maximumHeldBytes {
                var freed = 0
                while lost < buffer.calls.count - 1, lost < max(1, capacity / 10) || buffer.heldBytes - freed > maximumHeldBytes {
                    freed += buffer.calls[lost].requestBody.count + buffer.calls[lost].responseBody.count
                    lost += 1
                }
                buffer.calls.removeFirst(lost)
                buffer.heldBytes -= freed
                buffer.dropped += lost
            }
            return (lost, buffer.calls.count >= batchSize)
        }
        if lost > 0 { dropped.increment(by: lost) }
        if full { wake.yield() }
    }

    /// Calls dropped since start: the buffer was full, or the store refused a batch.
    public var droppedCalls: Int { buffer.withLock { $0.dropped } }

    /// Writes what is buffered now. Called by `run()`; tests and short-lived commands call it
    /// before they read the log or exit.
    public func flush() async {
        let calls = buffer.withLock { buffer in
            defer { (buffer.calls, buffer.heldBytes) = ([], 0) }
            return buffer.calls
        }
        guard !calls.isEmpty else { return }
        do { try await store.append(calls.map(event)) } catch {
            dropped.increment(by: calls.count)
            buffer.withLock { $0.dropped += calls.count }
            logger.error("could not write the call log", metadata: ["calls": "\(calls.count)", "error": "\(type(of: error))"])
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.interval)
                        self.wake.yield()
                    }
                }
                for await _ in self.wakeups {
                    await self.flush()
                    if self.buffer.withLock({ $0.stopping }) { break }
                }
                group.cancelAll()
            }
            await self.flush()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Ends `run()` after one last flush. Calls recorded afterwards stay in memory until `flush()`.
    public func stop() {
        buffer.withLock { $0.stopping = true }
        wake.yield()
    }

    func event(_ call: Call) -> EventRecord {
        let path = Self.pathAndQuery(redaction.url(call.url))
        var details = ["method": call.method, "path": path]
        if let host = call.url.host { details["host"] = call.url.port.map { "\(host):\($0)" } ?? host }
        if let job = call.job { details["job"] = "\(job)" }
        let outcome: String
        let level: EventLevel
        if let status = call.status {
            details["status"] = "\(status)"
            outcome = "\(status)"
            level = status >= 500 ? .error : status >= 400 ? .warning : .info
        } else {
            details["error"] = call.errorType ?? "Error"
            outcome = call.errorType ?? "Error"
            level = .error
        }
        if bodyBytes > 0 {
            for (name, body, size) in [("request", call.requestBody, call.requestBytes), ("response", call.responseBody, call.responseBytes)]
            where size > 0 {
                details["\(name)_bytes"] = "\(size)"
                details["\(name)_body"] =
                    size > Self.largestRedactedBody ? "(\(size) bytes, not kept)" : Self.cut(redaction.body(body, limit: .max), to: bodyBytes)
            }
        }
        return EventRecord(
            at: call.at, level: level, kind: Self.kind, connection: call.connection, subject: call.job.map { "job:\($0)" },
            message: "\(call.method) \(path) → \(outcome)", details: details, durationMilliseconds: call.milliseconds)
    }

    /// The path and (already redacted) query of a redacted URL; host and user info are left out.
    static func pathAndQuery(_ redacted: String) -> String {
        guard let components = URLComponents(string: redacted) else { return redacted }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }

    /// At most `limit` bytes of UTF-8, ending in "…" when cut, never mid-character.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let marker = "…"
        let room = limit - marker.utf8.count
        guard room > 0 else { return "" }
        var end = text.startIndex
        var used = 0
        while end < text.endIndex {
            let next = text.index(after: end)
            used += text.utf8.distance(from: end, to: next)
            if used > room { break }
            end = next
        }
        return String(text[..<end]) + marker
    }
}

/// Times each call and hands it to the call log; never awaits anything but the call itself.
struct CallLogMiddleware: HTTPMiddleware {
    let log: CallLog
    let connection: ConnectionID

    func handle(
        _ request: OutboundRequest, next: @Sendable (OutboundRequest) async throws -> InboundResponse
    ) async throws -> InboundResponse {
        let at = Date()
        let started = ContinuousClock.now
        var call = CallLog.Call(
            at: at, connection: connection, job: RunningJob.id, method: request.method.rawValue, url: request.url, milliseconds: 0,
            requestBody: request.body, responseBody: Data())
        do {
            let response = try await next(request)
            call.status = response.status
            call.responseBody = response.body
            call.milliseconds = Self.milliseconds(since: started)
            log.record(call)
            return response
        } catch {
            call.errorType = String(describing: type(of: error))
            call.milliseconds = Self.milliseconds(since: started)
            log.record(call)
            throw error
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}
