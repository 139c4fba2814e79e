import Foundation
import KopruCore
import KopruEngine
import KopruStore

/// `system.probe`: proves the queue works end to end. It waits `workMilliseconds` (to look like
/// real work) and records one `probe` line in the event log, in the same transaction as its
/// completion, so "each probe recorded exactly once" can be checked after any crash.
package struct ProbeJob: JobHandler {
    package struct Payload: Codable {
        package var workMilliseconds: Int?

        package init(workMilliseconds: Int? = nil) { self.workMilliseconds = workMilliseconds }
    }

    package static let kind = "system.probe"
    package var kind: String { Self.kind }
    package var retryPolicy: RetryPolicy { .exponentialJitter(base: .milliseconds(100), cap: .seconds(5), maxAttempts: 20) }

    package func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        if let work = payload.workMilliseconds, work > 0 { try await Task.sleep(for: .milliseconds(work)) }
        return .done([
            .log(
                EventRecord(
                    at: Date(), level: .info, kind: "probe", subject: context.job.idempotencyKey,
                    message: "probe \(context.job.idempotencyKey) done on attempt \(context.attempt)"))
        ])
    }
}
