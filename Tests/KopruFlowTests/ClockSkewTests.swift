import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import Testing

/// Issue 17.3, clocks: a shop whose web nodes' clocks are 10 minutes apart, either way, stamps a
/// late-written order with an `updated_at` the hub's position has passed. With the source's
/// `clock.skewSeconds` set to 600 its polls look back that far, and no order is missed; with the
/// flow's 5-minute overlap alone they would be (the case without the setting shows it).
@Suite(.serialized) struct ClockSkewTests {
    @Test(arguments: [-600.0, 600.0])
    func ordersStampedByANodeTenMinutesOffAreAllExported(offset: Double) async throws {
        for configured in [false, true] {
            let hub = try await FlowHarness(
                magentoSettings: configured ? ["clock.skewSeconds": "600"] : [:], overlap: .seconds(300), recheck: .zero)
            defer { Task { await hub.shutdown() } }
            hub.catalogue(3)
            let now = Date()
            // The node ahead (or the right one) writes first, and the hub reads past its stamps...
            let first = offset > 0 ? now.addingTimeInterval(offset) : now
            let late = offset > 0 ? now.addingTimeInterval(5) : now.addingTimeInterval(offset + 5)
            for index in 1...5 { hub.magento.placeOrder(FlowHarness.order(index, at: first)) }
            try await hub.sync("orders")
            try await hub.run(until: "the first orders exported") { hub.erp.documentsPerOrder.count == 5 }
            // ...then the other node writes orders stamped 10 minutes before them, less 5 s.
            for index in 6...10 { hub.magento.placeOrder(FlowHarness.order(index, at: late)) }
            try await hub.sync("orders")
            if configured {
                try await hub.run(until: "every order exported", timeout: .seconds(30)) { hub.erp.documentsPerOrder.count == 10 }
                #expect(hub.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })
            } else {
                try await hub.run(until: "the poll done") { try await hub.unfinished() == 0 }
                #expect(hub.erp.documentsPerOrder.count == 5, "a 5-minute overlap cannot see 10 minutes back")
            }
        }
    }
}
