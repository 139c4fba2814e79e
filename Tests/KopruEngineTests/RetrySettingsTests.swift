import Foundation
import KopruCore
import KopruStore
import Testing

@testable import KopruEngine

/// Issue 14.7: retries are data. A flow's own `retry` wins over its connection's `retry.*`
/// settings, which win over the job kind's policy; a bad value is refused naming the key.
@Suite("Retry settings")
struct RetrySettingsTests {
    func job(flow: String, connection: ConnectionID) -> Job {
        Job(
            id: 1, kind: OrderExportJob.kind, idempotencyKey: "k", payload: Data(#"{"flow":"\#(flow)"}"#.utf8), priority: 0,
            runAt: Date(), orderingKey: nil, coalescingKey: nil, connection: connection, status: .running, attempts: 0,
            lastError: nil, leaseOwner: nil, leaseExpiresAt: nil, createdAt: Date(), updatedAt: Date(), finishedAt: nil)
    }

    @Test("flow over connection over the kind's own policy")
    func precedence() async throws {
        let store = MemoryStore()
        try await store.saveConnection(
            Connection(id: "erp", type: "erp-rest", name: "ERP", settings: ["retry.maxAttempts": "5", "retry.baseMilliseconds": "100"]),
            now: Date())
        let flows = FlowCatalog([
            FlowDefinition(name: "patient", kind: .orders, source: "shop", target: "erp", retryPolicy: .exponentialJitter(maxAttempts: 20)),
            FlowDefinition(name: "plain", kind: .orders, source: "shop", target: "erp"),
        ])
        let environment = FlowEnvironment(catalog: flows, connectors: ConnectorResolver(store: store) { _ in 0 }, store: store)
        let handler = OrderExportJob(environment, retryPolicy: .exponentialJitter(maxAttempts: 8))
        let policies = ConnectionRetryPolicies(store: store)
        #expect(await policies.policy(for: job(flow: "patient", connection: "erp"), handler: handler).maxAttempts == 20)
        let plain = await policies.policy(for: job(flow: "plain", connection: "erp"), handler: handler)
        #expect(plain.maxAttempts == 5 && plain.base == .milliseconds(100) && plain.cap == .seconds(300), "unset keys keep the kind's")
        #expect(await policies.policy(for: job(flow: "plain", connection: "shop"), handler: handler).maxAttempts == 8)
    }

    @Test("values are checked, naming the key")
    func refused() throws {
        #expect(throws: ValidationError.self) { try RetryPolicy.from(settings: ["retry.maxAttempts": "0"]) }
        #expect(throws: ValidationError.self) { try RetryPolicy.from(settings: ["retry.baseMilliseconds": "abc"]) }
        #expect {
            try RetryPolicy.from(settings: ["retry.baseMilliseconds": "5000", "retry.capMilliseconds": "1000"])
        } throws: { ($0 as? ValidationError)?.field == "retry.capMilliseconds" }
        #expect(try RetryPolicy.from(settings: [:]) == nil)
    }
}
