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
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)", "url": "\(redaction.url(request.url))",
        ]
        do {
            let response = try await next(request)
            metadata["status"] = "\(response.status)"
            metadata["duration_ms"] = "\(Self.milliseconds(since: started))"
            if logger.logLevel <= .debug {
                metadata["request_body"] = "\(redaction.body(request.body))"
                metadata["response_body"] = "\(redaction.body(response.body))"
            }
            logger.log(level: response.status >= 500 ? .warning : .info, "external call", metadata: metadata)
            return response
        } catch {
            metadata["error"] = "\(type(of: error))"
            metadata["duration_ms"] = "\(Self.milliseconds(since: started))"
            logger.warning("external call failed", metadata: metadata)
            throw error
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}
