import Foundation
import KopruSandbox
import Testing

/// `kopru reconcile` as an operator runs it, a real process against the sandboxes: the drift
/// report changes nothing and exits 2 while drift stands; `--push` sends the drifted row, waits
/// for the channel to confirm it and exits 0. Counted in the Magento sandbox's own ledger.
@Suite(.serialized) struct ReconcileCommandTests {
    @Test func theDriftReportExitsTwoAndChangesNothingThenPushSendsTheDriftedRowAndWaitsForIt() async throws {
        let world = try await SandboxWorld(
            name: "reconcile", flows: ["{name: stock, kind: stock, from: erp, to: shop, bulkPollMilliseconds: 50}"])
        for index in 1...5 {
            let sku = String(format: "SKU-%04d", index)
            world.magento.setStock(sku: sku, quantity: 0)
            world.erp.setStock(code: sku, quantity: 10)
        }
        let (synced, syncOutput) = try await KopruProcess.run(["sync", "erp", "stock", "--full"], environment: world.environment, logFile: world.log)
        #expect(synced == 0, "\(syncOutput)")
        #expect(world.magento.stock(sku: "SKU-0005")?.quantity == 10)
        world.magento.setStock(sku: "SKU-0002", quantity: 3)
        let applied = world.magento.stockRowsApplied

        let report = world.folder.appendingPathComponent("report.log")
        let (reported, reportOutput) = try await KopruProcess.run(["reconcile", "shop", "stock"], environment: world.environment, logFile: report)
        #expect(reported == 2, "drift stands: \(reportOutput)")
        #expect(reportOutput.contains("SKU-0002=3>10"), "\(reportOutput)")
        #expect(world.magento.stockRowsApplied == applied && world.magento.stock(sku: "SKU-0002")?.quantity == 3)

        let pushLog = world.folder.appendingPathComponent("push.log")
        let (pushed, pushOutput) = try await KopruProcess.run(
            ["reconcile", "shop", "stock", "--push"], environment: world.environment, logFile: pushLog)
        #expect(pushed == 0, "\(pushOutput)")
        #expect(pushOutput.contains("pushed: 1 confirmed by the channel, 0 refused"), "\(pushOutput)")
        #expect(world.magento.stockRowsApplied == applied + 1 && world.magento.stock(sku: "SKU-0002")?.quantity == 10)

        let wrong = world.folder.appendingPathComponent("wrong.log")
        let (refused, refusedOutput) = try await KopruProcess.run(["reconcile", "shop", "orders", "--push"], environment: world.environment, logFile: wrong)
        #expect(refused != 0 && refusedOutput.contains("--push sends a stock flow's difference"), "\(refusedOutput)")
    }
}
