import Foundation
import HTTPTypes
import Logging

/// Logs every external call with its outcome, duration and a redacted body (DESIGN invariant 7).
public struct LoggingMiddleware: HTTPMiddleware {
    private let logger: Logger
    private let redaction: Redaction

    public init(logger: Logger, redaction: Redaction = Redaction()) {
        self.logger = logger
        self.redaction = redaction
    }

    public func handle(
        _ request: OutboundRequest, next: @Sendable (OutboundRequest) async throws -> InboundResponse
    ) async throws -> InboundResponse {
        let started = ContinuousClock.now
        // Built only for a line that will be written: taking a URL apart for every call the
        // hub makes, to throw it away at the default level, was a measurable share of a call.
        func metadata() -> Logger.Metadata {
            ["method": "\(request.method.rawValue)", "url": "\(redaction.url(request.url))", "duration_ms": "\(Self.milliseconds(since: started))"]
        }
        do {
            let response = try await next(request)
            let level: Logger.Level = response.status >= 500 ? .warning : .info
            guard logger.logLevel <= level else { return response }
            var fields = metadata()
            fields["status"] = "\(response.status)"
            if logger.logLevel <= .debug {
                fields["request_body"] = "\(redaction.body(request.body))"
                fields["response_body"] = "\(redaction.body(response.body))"
            }
            logger.log(level: level, "external call", metadata: fields)
            return response
        } catch {
            var fields = metadata()
            fields["error"] = "\(type(of: error))"
            logger.warning("external call failed", metadata: fields)
            throw error
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}
