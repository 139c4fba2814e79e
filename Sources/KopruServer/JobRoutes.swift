import Foundation
import HTTPTypes
import Hummingbird
import KopruCore
import KopruStore

/// `/api/jobs` and `/api/dead-letters`: look into the queue and steer it.
struct JobRoutes: Sendable {
    let store: any Store
    let now: @Sendable () -> Date

    func add(to group: RouterGroup<HubRequestContext>) {
        group.get("jobs") { request, _ in try await self.list(request, statuses: nil) }
        group.get("jobs/:id") { _, context in try await self.show(context) }
        group.post("jobs/:id/retry") { _, context in try await self.retry(context) }
        group.get("dead-letters") { request, _ in try await self.list(request, statuses: [.dead]) }
        group.post("dead-letters/:id/replay") { request, context in try await self.replay(request, context) }
        group.get("sync-runs") { request, _ in try await self.syncRuns(request) }
    }

    /// The same counts `kopru sync` draws its progress bar from.
    private func syncRuns(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try RequestParsing.int(query["limit"].map(String.init), field: "limit", range: 1...200) ?? 20
        let runs = try await store.syncRuns(target: query["target"].map { ConnectionID(String($0)) }, limit: limit)
        return .json(SyncRunPage(items: runs.map(SyncRunView.init)))
    }

    private func list(_ request: Request, statuses fixed: Set<JobStatus>?) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = JobFilter(statuses: fixed)
        if fixed == nil, let text = query["status"] {
            var statuses = Set<JobStatus>()
            for name in text.split(separator: ",") {
                guard let status = JobStatus(rawValue: String(name)) else {
                    throw APIError.badRequest(
                        "must be a comma-separated list of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))",
                        field: "status", code: "invalid_query")
                }
                statuses.insert(status)
            }
            filter.statuses = statuses
        }
        filter.kind = query["kind"].map(String.init)
        filter.connection = query["connection"].map { ConnectionID(String($0)) }
        filter.beforeID = try RequestParsing.int(query["cursor"].map(String.init), field: "cursor", range: 1...Int.max).map(Int64.init)
        filter.limit = try RequestParsing.int(query["limit"].map(String.init), field: "limit", range: 1...500) ?? 50
        let jobs = try await store.jobs(filter)
        let next = jobs.count == filter.limit ? jobs.last.map { "\($0.id)" } : nil
        return .json(Page(items: jobs.map(JobView.init), nextCursor: next))
    }

    private func show(_ context: HubRequestContext) async throws -> Response {
        let id = try RequestParsing.jobID(context)
        guard let job = try await store.job(id) else { throw APIError.notFound("no job \(id)") }
        return .json(JobView(job))
    }

    private func retry(_ context: HubRequestContext) async throws -> Response {
        let id = try RequestParsing.jobID(context)
        return .json(JobView(try await Self.steer { try await store.retryNow(id, now: now()) }))
    }

    /// `?notAtTarget=true`: the operator checked the target and the effect is not there, so the
    /// job sends without asking first (the way out for a target that cannot be asked).
    private func replay(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        let id = try RequestParsing.jobID(context)
        let checked: Bool
        switch request.uri.queryParameters["notAtTarget"].map(String.init) {
        case nil, "false": checked = false
        case "true": checked = true
        default: throw APIError.badRequest("must be true or false", field: "notAtTarget", code: "invalid_query")
        }
        return .json(JobView(try await Self.steer { try await store.replayDeadLetter(id, now: now(), checkedAbsent: checked) }))
    }

    /// The store's not-found and wrong-state errors, as 404 and 409.
    private static func steer(_ body: () async throws -> Job) async throws -> Job {
        do {
            return try await body()
        } catch let error as StoreError where error.isNotFound {
            throw APIError.notFound(error.message)
        } catch let error as StoreError where error.isInvalidState || error.isConflict {
            throw APIError.conflict(error.message, code: "wrong_state")
        }
    }
}
