import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import KopruStore
import Logging
import KopruCore
import Synchronization

/// Outermost: one access-log line and one metric per request, whatever happened inside. Logs the
/// route template (never the raw path, which may carry ids or junk), the token's name, the status
/// and the time taken.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let logger: Logger
    let metrics = RequestMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ErrorMiddleware renders every error; this is only a backstop.
            response = (try? APIError.internalError.response(from: request, context: context)) ?? Response(status: .internalServerError)
        }
        let route = context.endpointPath ?? "unmatched"
        let milliseconds = (ContinuousClock.now - start).seconds * 1000
        let (counter, timer) = metrics.handles(method: request.method.rawValue, route: route, status: response.status.code)
        counter.increment()
        timer.recordNanoseconds(Int64(milliseconds * 1_000_000))
        if route.hasPrefix("/api/") && !route.hasPrefix("/api/integrations/webhook") {
            logger.info(
                "\(request.method.rawValue) \(route) \(response.status.code)",
                metadata: [
                    "token": "\(context.notes.tokenName ?? "-")", "status": "\(response.status.code)",
                    "ms": "\(String(format: "%.1f", milliseconds))",
                ])
        }
        return response
    }
}

/// The request counter and timer per (method, route template, status), made once and kept:
/// making them looks each up in the registry under a lock and cleans every label, per request.
/// Routes are templates, never raw paths, so the sets are few.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private let made = Mutex<[Key: (Counter, CoreMetrics.Timer)]>([:])

    func handles(method: String, route: String, status: Int) -> (Counter, CoreMetrics.Timer) {
        made.withLock { made in
            let key = Key(method: method, route: route, status: status)
            if let handles = made[key] { return handles }
            let handles = (
                Counter(label: "kopru_http_requests_total", dimensions: [("method", method), ("route", route), ("status", "\(status)")]),
                CoreMetrics.Timer(label: "kopru_http_request_duration_seconds", dimensions: [("route", route)])
            )
            made[key] = handles
            return handles
        }
    }
}

/// Renders every error as `{"error": {...}}`. Framework errors keep their status; anything
/// unexpected is a 500 with a generic message, and the details go to the log only.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let logger: Logger
    /// Whether an error means the store cannot be used now (`Store.unavailability(of:)`): a 503
    /// with Retry-After, so a sender tries again, rather than a 500.
    var storeUnavailability: @Sendable (any Error) -> String? = { _ in nil }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let reason = storeUnavailability(error) {
                logger.warning("store unavailable; answered 503", metadata: ["reason": "\(reason)"])
                return try APIError.storeUnavailable().response(from: request, context: context)
            }
            return try Self.apiError(for: error, logger: logger).response(from: request, context: context)
        }
    }

    static func apiError(for error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as HTTPError:
            switch error.status {
            case .notFound: return .notFound("no such route")
            case .contentTooLarge: return .tooLarge(limit: 1 << 20)
            case .methodNotAllowed: return .methodNotAllowed
            default:
                return APIError(
                    error.status, code: error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"),
                    message: error.body ?? error.status.reasonPhrase)
            }
        case let error as any HTTPResponseError where error.status.code < 500:
            return APIError(error.status, code: "bad_request", message: error.status.reasonPhrase)
        case let error as StoreError:
            // Store errors never carry bound values, so the message is safe to log.
            logger.error("request failed", metadata: ["error": "\(error.message)"])
            return .internalError
        default:
            // Other errors' descriptions may echo input: log only their type.
            logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return .internalError
        }
    }
}
