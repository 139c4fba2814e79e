import Foundation
import KopruCore
import KopruEngine
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

/// Magento orders → Horoz shipment orders → labels → tracking numbers on the Magento orders,
/// over loopback HTTP against both sandboxes, with the production job processor.
@Suite("Shipping flow (Magento → Horoz)")
struct ShippingFlowTests {
    static let transient = FaultPlan(serverErrorShare: 0.05, timeoutShare: 0.05, dropShare: 0.05, commitThenFailShare: 0.05)

    @Test func twoHundredOrdersShipOnceEachThroughTwentyPercentFaultsAndTrackingReachesMagento() async throws {
        let world = try await FlowHarness(magentoSettings: ["timeoutSeconds": "1"], horoz: true)
        let horoz = try #require(world.horoz)
        world.catalogue(2)
        let orders = (1...200).map { world.magento.placeOrder(FlowHarness.order($0)) }
        horoz.sandbox.setFaults(Self.transient)
        world.magento.sandbox.setFaults(Self.transient, on: "orders.ship")
        try await world.sync("shipping")
        try await world.run(until: "every order tracked on Magento", timeout: .seconds(240)) {
            try await world.unfinished() == 0 && orders.allSatisfy { !world.magento.trackingNumbers(entityID: $0.entityID).isEmpty }
        }
        let created = horoz.sandbox.ledger.effectCounts(route: "createPaysSupplierShipping", effect: "created")
        #expect(created.count == 200 && created.values.allSatisfy { $0 == 1 })
        let labels = horoz.sandbox.ledger.effectCounts(route: "createBarcode", effect: "created")
        #expect(labels.count == 200 && labels.values.allSatisfy { $0 == 1 }, "an order got two goods-acceptance records")
        #expect(horoz.records.values.allSatisfy { $0.atfIDs.count == 1 })
        for order in orders {
            let record = try #require(horoz.record(order.incrementID))
            #expect(world.magento.trackingNumbers(entityID: order.entityID) == [record.trackingNumber!])
            #expect(record.body["recipientCity"] == "İSTANBUL" && record.body["recipientCounty"] == "KADIKÖY")
        }
        let faults = horoz.sandbox.ledger.all.filter { $0.fault != nil }.count
        #expect(faults > 20, "the faults were not injected")
        #expect(try await world.jobs(kind: "carrier.ship", status: .dead).isEmpty)
        await world.shutdown()
    }

    @Test func aRefundAfterShippingBecomesAReturnAndOneBeforeShippingDoesNot() async throws {
        let world = try await FlowHarness(horoz: true)
        let horoz = try #require(world.horoz)
        world.catalogue(2)
        let shipped = world.magento.placeOrder(FlowHarness.order(1))
        try await world.sync("shipping")
        try await world.run(until: "tracking on Magento") {
            try await world.unfinished() == 0 && !world.magento.trackingNumbers(entityID: shipped.entityID).isEmpty
        }
        var never = FlowHarness.order(2)
        never.state = "closed"
        never.status = "closed"
        let refundedEarly = world.magento.placeOrder(never)
        world.magento.setState(entityID: shipped.entityID, state: "closed", status: "closed", at: Date().addingTimeInterval(5))
        try await world.sync("shipping")
        try await world.run(until: "the return at Horoz") { try await world.unfinished() == 0 && horoz.record("\(shipped.incrementID)-IADE") != nil }
        let back = try #require(horoz.record("\(shipped.incrementID)-IADE"))
        #expect(back.shippingType == "PaysSupplierReturn" && back.body["senderCode"] == 0 && back.body["recipientCode"] == 801452)
        #expect(back.body["senderCity"] == "İSTANBUL" && back.body["customerRefNo"] == .string(shipped.incrementID))
        #expect(horoz.record(refundedEarly.incrementID) == nil && horoz.record("\(refundedEarly.incrementID)-IADE") == nil)
        #expect(horoz.records.count == 2)
        await world.shutdown()
    }

    @Test func aRefusedProcessKeyPausesTheConnectionWithAnAlertAndNothingIsLost() async throws {
        let world = try await FlowHarness(horoz: true)
        let horoz = try #require(world.horoz)
        world.catalogue(2)
        var connection = try #require(try await world.store.connection(FlowHarness.horozID))
        connection.secrets["processKey"] = Secret("revoked-key")
        try await world.store.saveConnection(connection, now: Date())
        let order = world.magento.placeOrder(FlowHarness.order(1))
        try await world.sync("shipping")
        try await world.run(until: "the connection paused") { try await world.store.connection(FlowHarness.horozID)?.paused == true }
        let alerts = try await world.store.events(EventFilter(connection: FlowHarness.horozID, minimumLevel: .critical))
        #expect(alerts.contains { $0.kind == "alert" && $0.message.contains("paused") && !$0.message.contains("revoked-key") })
        #expect(try await world.jobs(kind: "carrier.ship", status: .dead).isEmpty)
        #expect(horoz.records.isEmpty)

        // The operator fixes the key and resumes the connection: the order ships, once.
        connection.secrets["processKey"] = Secret(horoz.settings.processKey)
        connection.paused = false
        try await world.store.saveConnection(connection, now: Date())
        for job in try await world.jobs(kind: "carrier.ship", status: .pending) { _ = try await world.store.retryNow(job.id, now: Date()) }
        try await world.run(until: "tracking on Magento") {
            try await world.unfinished() == 0 && !world.magento.trackingNumbers(entityID: order.entityID).isEmpty
        }
        #expect(horoz.sandbox.ledger.effectCounts(route: "createPaysSupplierShipping", effect: "created") == [order.incrementID: 1])
        await world.shutdown()
    }

    @Test func anAddressHorozCannotPlaceIsADeadLetterUntilMappedThenTheSameRequestNumberShips() async throws {
        let world = try await FlowHarness(horoz: true)
        let horoz = try #require(world.horoz)
        world.catalogue(2)
        var typed = FlowHarness.order(1)
        typed.address = MagentoSandbox.Address(firstName: "Can", lastName: "Işık", street: "Büyükdere Cad. 5", city: "Mecidiyeköy", region: "İstanbul")
        let order = world.magento.placeOrder(typed)
        try await world.sync("shipping")
        try await world.run(until: "the shipment refused") { try await !world.jobs(kind: "carrier.ship", status: .dead).isEmpty }
        let dead = try #require(try await world.jobs(kind: "carrier.ship", status: .dead).first)
        #expect(dead.lastError?.contains("recipientCounty") == true && dead.lastError?.contains("nearest") == true)
        #expect(horoz.sandbox.ledger.entries(route: "createPaysSupplierShipping").isEmpty)
        try await world.run(until: "the note on the Magento order") {
            world.magento.comments(entityID: order.entityID).contains { $0.contains("KARGOYA GÖNDERİLEMEDİ") }
        }

        var connection = try #require(try await world.store.connection(FlowHarness.horozID))
        connection.settings["alias.İstanbul/Mecidiyeköy"] = "İSTANBUL/ŞİŞLİ"
        try await world.store.saveConnection(connection, now: Date())
        _ = try await world.store.replayDeadLetter(dead.id, now: Date())
        try await world.run(until: "tracking on Magento") {
            try await world.unfinished() == 0 && !world.magento.trackingNumbers(entityID: order.entityID).isEmpty
        }
        #expect(horoz.record(order.incrementID)?.body["recipientCounty"] == "ŞİŞLİ")
        await world.shutdown()
    }
}
