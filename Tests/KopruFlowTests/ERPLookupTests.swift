import Foundation
import KopruConnectors
import KopruCore
import KopruSandbox
import Testing

@testable import ConnectorERPRest

/// "Did it land?" against the REST ERP: the lookup is part of the profile, probed when the
/// connection is saved, and an answer the profile does not explain is never read as "absent"
/// (a double) or "found" (an order never sent). Idempotency keys as the spec's compliant ERP
/// treats them.
@Suite struct ERPLookupTests {
    // MARK: Idempotency-Key, as the sandbox's spec-conforming mode treats it

    @Test func aRepeatedKeyIsAnsweredWithTheFirstRecordAndAReusedKeyWithAnotherBodyIsA422() async {
        let bench = ERPBench()
        let first = await bench.post(ERPBench.goodOrder, key: "erp:1")
        #expect(first.status == 201)
        let repeated = await bench.post(ERPBench.goodOrder, key: "erp:1")
        #expect(repeated.status == 200)
        #expect(repeated.body?["id"] == first.body?["id"])
        let reused = await bench.post(ERPBench.goodOrder.replacing("total", with: 21).replacing("shipping", with: 1), key: "erp:1")
        #expect(reused.status == 422)
        #expect(reused.field == "Idempotency-Key")
        #expect(await bench.post(ERPBench.goodOrder, key: nil).status == 400, "the key is required when honoured")
        bench.erp.configure { $0.repeatAnswer = .conflict }
        #expect(await bench.post(ERPBench.goodOrder, key: "erp:1").status == 409)
        #expect(bench.erp.documentsPerOrder == ["1": 1])
    }

    @Test func anERPThatIgnoresTheKeyBooksARepeatTwice() async {
        let bench = ERPBench { $0.honoursIdempotencyKey = false }
        #expect(await bench.post(ERPBench.goodOrder, key: "erp:1").status == 201)
        #expect(await bench.post(ERPBench.goodOrder, key: "erp:1").status == 201)
        #expect(bench.erp.documentsPerOrder == ["1": 2])
    }

    @Test func theConnectorSendsTheKeyAndARepeatBindsTheFirstDocument() async throws {
        let bench = ERPBench()
        let connector = try bench.connector(["lookup": "none", "idempotency": "honoured"])
        let order = ERPBench.order("000000007")
        let first = try await connector.createOrder(order, idempotencyKey: "erp:000000007")
        let again = try await connector.createOrder(order, idempotencyKey: "erp:000000007")
        #expect(first == again)
        #expect(bench.erp.sandbox.ledger.entries(route: "orders.create").map { $0.headers["idempotency-key"] } == ["erp:000000007", "erp:000000007"])
        #expect(bench.erp.documentsPerOrder == ["000000007": 1])
        // Without a lookup, "not found" is what makes the engine send again: safe, the key is honoured.
        #expect(connector.deliveryConfirmation == .idempotencyKey)
        #expect(try await connector.findOrder(order, idempotencyKey: "erp:000000007") == nil)
    }

    // MARK: The lookup, configured and probed

    @Test func theDefaultRecordLookupIsProbedAndTellsAbsentFromFound() async throws {
        let bench = ERPBench()
        let connector = try bench.connector()
        #expect(try await connector.probeLookup() == .lookup)
        let order = ERPBench.order("000000001")
        #expect(try await connector.findOrder(order, idempotencyKey: "erp:000000001") == nil)
        let reference = try await connector.createOrder(order, idempotencyKey: "erp:000000001")
        #expect(try await connector.findOrder(order, idempotencyKey: "erp:000000001") == reference)
    }

    @Test func aLookupRouteTheERPDoesNotHaveIsRefusedAtSaveAndNeverReadAsAbsent() async throws {
        let bench = ERPBench { $0.orderLookup = .none }
        let connector = try bench.connector()
        let refusal = try await #require(throws: ConnectorError.self) { try await connector.probeLookup() }
        #expect(refusal.field == "settings.lookup.absent")
        #expect(refusal.message.contains("404"))
        let held = try await #require(throws: ConnectorError.self) {
            try await connector.findOrder(ERPBench.order("000000002"), idempotencyKey: "erp:000000002")
        }
        #expect(held.disposition == .permanent)
        #expect(held.message.contains("held for an operator"))
    }

    @Test func aBareStatusThatAMissingRouteAlsoGivesIsRefused() async throws {
        let bench = ERPBench()
        let connector = try bench.connector(["lookup.absent": "404"])
        let refusal = try await #require(throws: ConnectorError.self) { try await connector.probeLookup() }
        #expect(refusal.field == "settings.lookup.absent")
        #expect(refusal.message.contains("route that does not exist"))
    }

    @Test func aSearchLookupReadsAnEmptyListAsAbsentAndMatchesTheOrderItself() async throws {
        let bench = ERPBench { $0.orderLookup = .search }
        let connector = try bench.connector(["lookup": "search"])
        #expect(try await connector.probeLookup() == .lookup)
        let order = ERPBench.order("000000003")
        #expect(try await connector.findOrder(order, idempotencyKey: "erp:000000003") == nil)
        let reference = try await connector.createOrder(order, idempotencyKey: "erp:000000003")
        #expect(try await connector.findOrder(order, idempotencyKey: "erp:000000003") == reference)
        #expect(bench.erp.sandbox.ledger.entries(route: "orders.search").last?.rawQuery == "order_id=000000003")
    }

    @Test func aSearchThatIgnoresItsFilterIsRefusedAndHoldsTheOrder() async throws {
        let bench = ERPBench { $0.orderLookup = .searchIgnoringFilter }
        let connector = try bench.connector(["lookup": "search"])
        _ = try await connector.createOrder(ERPBench.order("000000004"), idempotencyKey: "erp:000000004")
        let refusal = try await #require(throws: ConnectorError.self) { try await connector.probeLookup() }
        #expect(refusal.field == "settings.lookup.list")
        #expect(refusal.message.contains("ignore the filter"))
        let held = try await #require(throws: ConnectorError.self) {
            try await connector.findOrder(ERPBench.order("000000005"), idempotencyKey: "erp:000000005")
        }
        #expect(held.message.contains("held for an operator"))
    }

    @Test func aSearchAgainstAnERPWithoutOneIsRefused() async throws {
        let bench = ERPBench()
        let refusal = try await #require(throws: ConnectorError.self) { try await bench.connector(["lookup": "search"]).probeLookup() }
        #expect(refusal.field == "settings.lookup.list")
    }

    @Test func anERPWithNeitherLookupNorKeysIsFlaggedAndItsAmbiguousOrdersHeld() async throws {
        let bench = ERPBench { $0.honoursIdempotencyKey = false }
        let connector = try bench.connector(["lookup": "none"])
        #expect(connector.canConfirmDelivery == false)
        #expect(try await connector.probeLookup() == DeliveryConfirmation.none)
        #expect(connector.deliveryWarning?.contains("held for an operator") ?? false)
        let held = try await #require(throws: ConnectorError.self) {
            try await connector.findOrder(ERPBench.order("000000006"), idempotencyKey: "erp:000000006")
        }
        #expect(held.disposition == .permanent)
        #expect(held.field == "settings.lookup")
        #expect(bench.erp.sandbox.ledger.count == 0, "nothing is asked, nothing is guessed")
        #expect(try bench.connector().deliveryWarning == nil)
    }

    @Test func contradictoryOrUnknownLookupSettingsAreRefused() {
        let bench = ERPBench()
        #expect(throws: ConnectorError.self) { try bench.connector(["idempotency": "honoured", "idempotencyHeader": "-"]) }
        #expect(throws: ConnectorError.self) { try bench.connector(["lookup": "maybe"]) }
        #expect(throws: ConnectorError.self) { try bench.connector(["lookup.absent": "missing"]) }
    }
}
