import Foundation
import KopruConnectors
import KopruCore
import KopruSandbox

@testable import ConnectorERPRest

/// The ERP sandbox called in-process, and a connector speaking to it through `SandboxTransport`.
struct ERPBench {
    let erp: ERPSandbox

    init(_ configure: (inout ERPSandbox.Settings) -> Void = { _ in }) {
        var settings = ERPSandbox.Settings()
        configure(&settings)
        erp = ERPSandbox(settings: settings)
        for code in ["SKU-A", "SKU-B"] { erp.setStock(code: code, quantity: 5) }
    }

    func connector(_ settings: [String: String] = [:]) throws -> RESTERPConnector {
        try RESTERPConnector(
            settings: ["baseURL": "http://erp.test/api/v2/"].merging(settings) { $1 }, secrets: ["api_key": Secret("erp-sandbox-key")],
            transport: SandboxTransport(erp.sandbox))
    }

    /// Status, `error.field` and the body of one request, sent as a client would.
    func call(_ method: String, _ target: String, _ body: Data = Data(), headers: [String: String] = [:]) async -> (status: Int, field: String, body: JSON?) {
        let outcome = await erp.sandbox.process(
            SandboxRequest(
                method: method, target: "/api/v2/\(target)", headers: ["Authorization": "Bearer erp-sandbox-key"].merging(headers) { $1 },
                body: body))
        guard case .respond(let response) = outcome else { return (0, "", nil) }
        let json = try? JSON.parse(response.body)
        return (response.status, json?["error"]?["field"]?.string ?? "", json)
    }

    func post(_ body: JSON, key: String? = "erp:1") async -> (status: Int, field: String, body: JSON?) {
        await call("POST", "orders", body.data, headers: key.map { ["Idempotency-Key": $0] } ?? [:])
    }

    /// A valid seed-000 order body: 2 × 10.00 of SKU-A.
    static let goodOrder: JSON = [
        "order_id": "1", "total": 20, "customer_email": "a@b.c", "items": [["sku": "SKU-A", "qty": 2, "price": 10]],
    ]

    /// A hand-made order: `lines` are (sku, quantity, unit price, line discount), plus 29.90 shipping.
    static func order(_ number: String, lines: [(String, Int, String, String)] = [("SKU-A", 1, "10", "0")]) -> Order {
        let address = Address(firstName: "Ayşe", lastName: "Yılmaz", line1: "Atatürk Cad. 1", district: "Kadıköy", city: "İstanbul")
        let orderLines = lines.map { sku, quantity, price, discount in
            OrderLine(
                sku: SKU(sku), name: sku, quantity: quantity, unitPrice: Money(Decimal(string: price)!, .TRY),
                discount: Money(Decimal(string: discount)!, .TRY))
        }
        let shipping = Money(Decimal(string: "29.90")!, .TRY)
        let total = orderLines.reduce(shipping.amount) { $0 + $1.total.amount }
        return Order(
            id: OrderID("shop:\(number)"), source: SourceReference(connection: "shop", externalID: number, externalNumber: number),
            status: .accepted, placedAt: Date(), currency: .TRY,
            customer: Customer(email: "ayse@example.com", firstName: "Ayşe", lastName: "Yılmaz"), billingAddress: address,
            shippingAddress: address, lines: orderLines, shippingCost: shipping, grandTotal: Money(total, .TRY))
    }
}
