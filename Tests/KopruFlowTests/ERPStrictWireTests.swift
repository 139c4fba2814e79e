import Foundation
import KopruCore
import KopruSandbox
import Testing

/// The ERP sandbox reads the wire by the types seed 000's example gives (strings, numbers,
/// whole numbers), not through the lenient accessors connectors use, and books money with the
/// ERP's decimals.
@Suite struct ERPStrictWireTests {
    func with(_ change: (inout [String: JSON]) -> Void) -> JSON {
        var body = ERPBench.goodOrder.object!
        change(&body)
        return .object(body)
    }

    func item(_ change: (inout [String: JSON]) -> Void) -> JSON {
        with { body in
            var line = body["items"]![0]!.object!
            change(&line)
            body["items"] = [.object(line)]
        }
    }

    @Test func theGoodBodyIsBooked() async {
        #expect(await ERPBench().post(ERPBench.goodOrder).status == 201)
    }

    @Test func aNumberSentAsAStringIsRefusedNamingTheField() async {
        let bench = ERPBench()
        #expect(await bench.post(with { $0["total"] = "20" }, key: "k1").field == "total")
        #expect(await bench.post(with { $0["order_id"] = 1 }, key: "k2").field == "order_id")
        #expect(await bench.post(with { $0["shipping"] = "0" }, key: "k3").field == "shipping")
        #expect(await bench.post(item { $0["qty"] = "2" }, key: "k4").field == "items[0].qty")
        #expect(await bench.post(item { $0["price"] = "10" }, key: "k5").field == "items[0].price")
        #expect(await bench.post(item { $0["sku"] = 12 }, key: "k6").field == "items[0].sku")
        #expect(await bench.post(with { $0["items"] = ["SKU-A"] }, key: "k7").field == "items[0]")
        let refused = await bench.post(item { $0["qty"] = "2" }, key: "k8")
        #expect(refused.status == 422)
        #expect(refused.body?["error"]?["message"]?.string == "items[0].qty must be a number, not a string")
        #expect(bench.erp.orders.isEmpty)
    }

    @Test func moneyWithMoreDecimalsThanTheERPBooksIsRefused() async {
        let bench = ERPBench()
        let third = Decimal(100) / Decimal(3)
        let refused = await bench.post(item { $0["price"] = .number(third); $0["qty"] = 3 }.replacing("total", with: 100), key: "k1")
        #expect(refused.status == 422)
        #expect(refused.field == "items[0].price")
        #expect(await bench.post(with { $0["total"] = .number(Decimal(string: "20.001")!) }, key: "k2").field == "total")
        bench.erp.configure { $0.moneyDecimals = 3 }
        #expect(await bench.post(item { $0["price"] = .number(Decimal(string: "83.325")!); $0["qty"] = 1 }.replacing("total", with: .number(Decimal(string: "83.325")!)), key: "k3").status == 201)
    }

    @Test func aCustomerWithANumericTaxNumberIsRefused() async {
        let bench = ERPBench()
        let customer: JSON = ["customer_id": "shop-1", "email": "ali@example.com", "name": "Ali Kaya", "tax_id": 1_234_567_890]
        let refused = await bench.call("POST", "customers", customer.data)
        #expect(refused.status == 422)
        #expect(refused.field == "tax_id")
        var fixed = customer.object!
        fixed["tax_id"] = "1234567890"
        #expect(await bench.call("POST", "customers", JSON.object(fixed).data).status == 201)
    }

    @Test func aBodyThatIsNotAJSONObjectIsA400() async {
        let bench = ERPBench()
        #expect(await bench.call("POST", "orders", Data("total=20".utf8), headers: ["Idempotency-Key": "k"]).status == 400)
        #expect(await bench.call("POST", "orders", JSON.array([]).data, headers: ["Idempotency-Key": "k"]).status == 400)
    }

    @Test func theStrictReaderNamesNestedFieldsAndTreatsNullAsAbsent() throws {
        let body = StrictJSON(["items": [["qty": .number(Decimal(string: "2.5")!)]], "note": nil, "n": 3])
        #expect(throws: WireTypeError(field: "items[0].qty", reason: "must be a whole number, not 2.5")) {
            _ = try body.array("items")[0].wholeNumber("qty")
        }
        #expect(try body.optionalString("note") == nil)
        #expect(throws: WireTypeError(field: "note", reason: "is required (a string)")) { _ = try body.string("note") }
        #expect(try body.wholeNumber("n") == 3)
        #expect(throws: WireTypeError(field: "n", reason: "must be a string, not a number")) { _ = try body.string("n") }
    }
}

extension JSON {
    func replacing(_ key: String, with value: JSON) -> JSON {
        var object = self.object ?? [:]
        object[key] = value
        return .object(object)
    }
}
