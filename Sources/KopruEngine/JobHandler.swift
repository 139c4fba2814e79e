import Foundation
import KopruStore
import Logging

/// What a handler gets besides the job.
public struct JobContext: Sendable {
    public let job: Job
    /// 1 for the first attempt.
    public let attempt: Int
    public let logger: Logger
    public let now: Date
    /// An earlier attempt (or a replayed run's) ended without knowing whether its effect landed:
    /// a write that is not idempotent asks the target before sending (see `deliver`).
    public let outcomeUncertain: Bool
    /// No attempts are left and an earlier one may have landed: the handler only asks the
    /// target, binding what it finds, and sends nothing. Only handlers that `checkBeforeGivingUp`
    /// run so.
    public let finalCheck: Bool

    public init(job: Job, attempt: Int, logger: Logger, now: Date, finalCheck: Bool = false) {
        self.job = job
        self.attempt = attempt
        self.logger = logger
        self.now = now
        self.outcomeUncertain = job.outcomeUncertain
        self.finalCheck = finalCheck
    }
}

/// What a successful attempt leaves behind: store writes committed with the job's completion
/// (bindings, cursors, follow-up jobs, log lines), so the effect and "done" are one fact.
public struct JobResult: Sendable {
    public var effects: [StoreEffect]

    public init(effects: [StoreEffect] = []) { self.effects = effects }

    public static let done = JobResult()
    public static func done(_ effects: [StoreEffect]) -> JobResult { JobResult(effects: effects) }
}

/// Runs the jobs of one kind. Throw a `ConnectorError` to say how a failure should be treated;
/// any other error counts as a passing fault, except validation and decoding errors, which are
/// permanent (the payload cannot get better by waiting).
public protocol JobHandler: Sendable {
    var kind: String { get }
    var retryPolicy: RetryPolicy { get }
    func run(_ context: JobContext) async throws -> JobResult
    /// Store writes to commit with the job's move to the dead letters (e.g. "tell the merchant
    /// this order did not reach the ERP"). `reason` is what the dead-letter list shows.
    func deadLetterEffects(_ job: Job, reason: String, now: Date) -> [StoreEffect]
    /// True for writes that are not idempotent and can ask the target whether they landed: such
    /// a job whose attempts ran out after an uncertain outcome runs once more as a `finalCheck`
    /// before it is dead-lettered.
    var checksBeforeGivingUp: Bool { get }
    /// The retry policy this job's own configuration sets (a flow's `retry`), if any; it wins
    /// over the connection's `retry.*` settings and the kind's `retryPolicy`.
    func retryPolicy(for job: Job) -> RetryPolicy?
}

extension JobHandler {
    public var retryPolicy: RetryPolicy { .exponentialJitter() }
    public func deadLetterEffects(_ job: Job, reason: String, now: Date) -> [StoreEffect] { [] }
    public var checksBeforeGivingUp: Bool { false }
    public func retryPolicy(for job: Job) -> RetryPolicy? { nil }
}

/// A handler from a closure, for small jobs and tests.
public struct ClosureJobHandler: JobHandler {
    public let kind: String
    public let retryPolicy: RetryPolicy
    private let body: @Sendable (JobContext) async throws -> JobResult

    public init(
        kind: String, retryPolicy: RetryPolicy = .exponentialJitter(),
        _ body: @escaping @Sendable (JobContext) async throws -> JobResult
    ) {
        self.kind = kind
        self.retryPolicy = retryPolicy
        self.body = body
    }

    public func run(_ context: JobContext) async throws -> JobResult { try await body(context) }
}

/// The handlers a worker runs, by kind. A worker claims only kinds it has.
public struct JobRegistry: Sendable {
    public private(set) var handlers: [String: any JobHandler] = [:]

    public init(_ handlers: [any JobHandler] = []) {
        for handler in handlers { register(handler) }
    }

    public mutating func register(_ handler: any JobHandler) { handlers[handler.kind] = handler }

    public var kinds: Set<String> { Set(handlers.keys) }
}
