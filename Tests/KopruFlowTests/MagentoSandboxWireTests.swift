import Foundation
import KopruCore
import KopruSandbox
import Testing

@testable import ConnectorMagento2

/// The Magento sandbox reads requests by their JSON types, completes an order only when it is
/// invoiced and shipped, and refuses every OAuth signature that is not exactly right.
@Suite struct MagentoSandboxWireTests {
    /// A store that lets the integration token in as a bearer, with one order (items 101, 102).
    static func store() -> MagentoSandbox {
        let magento = MagentoSandbox()
        magento.configure { credentials, _ in credentials.bearerIntegrationTokens = true }
        magento.setStock(sku: "SKU-0001", quantity: 5)
        magento.placeOrder(FlowHarness.order(1))
        return magento
    }

    static func send(_ magento: MagentoSandbox, _ method: String, _ target: String, _ body: JSON) async -> (status: Int, body: JSON) {
        let request = SandboxRequest(
            method: method, target: target,
            headers: ["Authorization": "Bearer \(magento.credentials.accessToken)", "Content-Type": "application/json"], body: body.data)
        guard case .respond(let response) = await magento.sandbox.process(request) else { return (0, .null) }
        return (response.status, (try? JSON.parse(response.body)) ?? .null)
    }

    @Test(arguments: [
        ("POST", "/rest/default/V1/order/1/ship", #"{"items":[{"order_item_id":101,"qty":"1"}]}"#, "items[0].qty", "float"),
        ("POST", "/rest/default/V1/order/1/ship", #"{"items":[{"order_item_id":"101","qty":1}]}"#, "items[0].order_item_id", "int"),
        ("POST", "/rest/default/V1/order/1/ship", #"{"tracks":[{"track_number":123456,"title":"Horoz","carrier_code":"custom"}]}"#,
         "tracks[0].track_number", "string"),
        ("POST", "/rest/default/V1/order/1/ship", #"{"notify":"true"}"#, "notify", "bool"),
        ("POST", "/rest/default/V1/orders/1/comments", #"{"statusHistory":{"comment":42}}"#, "statusHistory.comment", "string"),
        ("POST", "/rest/default/V1/orders/1/comments", #"{"statusHistory":{"comment":"x","parent_id":"1"}}"#,
         "statusHistory.parent_id", "int"),
        ("POST", "/rest/default/V1/order/1/invoice", #"{"items":[{"order_item_id":101,"qty":"1"}]}"#, "items[0].qty", "float"),
        ("POST", "/rest/V1/inventory/source-items", #"{"sourceItems":[{"sku":"SKU-0001","source_code":"default","quantity":"5","status":1}]}"#,
         "sourceItems[0].quantity", "float"),
        ("POST", "/rest/V1/inventory/source-items", #"{"sourceItems":[{"sku":1,"source_code":"default","quantity":5,"status":1}]}"#,
         "sourceItems[0].sku", "string"),
        ("POST", "/rest/default/async/bulk/V1/inventory/source-items",
         #"[{"sourceItems":[{"sku":"SKU-0001","source_code":"default","quantity":5,"status":"1"}]}]"#, "[0].sourceItems[0].status", "int"),
        ("PUT", "/rest/V1/products/SKU-0001/stockItems/1", #"{"stockItem":{"qty":"3","is_in_stock":true}}"#, "stockItem.qty", "float"),
        ("PUT", "/rest/V1/products/SKU-0001/stockItems/1", #"{"stockItem":{"qty":3,"is_in_stock":1}}"#, "stockItem.is_in_stock", "bool"),
        ("POST", "/rest/all/V1/products/base-prices", #"{"prices":[{"sku":"SKU-0001","price":"349.90","store_id":0}]}"#,
         "prices[0].price", "float"),
        ("POST", "/rest/V1/integration/admin/token", #"{"username":"admin","password":123}"#, "password", "string"),
    ])
    func aFieldOfTheWrongJSONTypeIsRefusedByName(method: String, target: String, body: String, field: String, type: String) async throws {
        let magento = Self.store()
        let (status, answer) = await Self.send(magento, method, target, try JSON.parse(Data(body.utf8)))
        #expect(status == 400)
        #expect(answer["parameters"]?["field_name"]?.string == field)
        #expect(answer["parameters"]?["type"]?.string == type)
        let filled: String = Magento2Errors.fill(answer["message"]?.string ?? "", answer["parameters"])
        #expect(filled.contains("\"\(field)\""), "\(filled)")
        #expect(magento.stock(sku: "SKU-0001")?.quantity == 5, "nothing was applied")
        #expect(magento.trackingNumbers(entityID: 1).isEmpty && magento.comments(entityID: 1).isEmpty)
    }

    @Test func aListPageIsChosenByItsFiltersAndSortAndShowsEachOrderInFull() async throws {
        let magento = Self.store()
        for index in 2...6 { magento.placeOrder(FlowHarness.order(index)) }
        func page(_ number: Int) async -> (status: Int, body: JSON) {
            let criteria = [
                "filter_groups][0][filters][0][field]=entity_id", "filter_groups][0][filters][0][value]=2",
                "filter_groups][0][filters][0][condition_type]=gt", "sortOrders][0][field]=entity_id",
                "sortOrders][0][direction]=DESC", "pageSize]=2", "currentPage]=\(number)",
            ].map { "searchCriteria%5B" + $0.replacingOccurrences(of: "][", with: "%5D%5B").replacingOccurrences(of: "]=", with: "%5D=") }
            return await Self.send(magento, "GET", "/rest/default/V1/orders?" + criteria.joined(separator: "&"), .null)
        }
        for (number, expected) in [(1, [6, 5]), (2, [4, 3])] {
            let answer = await page(number)
            #expect(answer.status == 200)
            #expect(answer.body["total_count"]?.int == 4)
            let items = answer.body["items"]?.array ?? []
            #expect(items.compactMap { $0["entity_id"]?.int } == expected)
            for item in items {
                let id = try #require(item["entity_id"]?.int)
                #expect(item == magento.renderedOrder(entityID: id), "order \(id) in the list as on its own page")
                #expect(item["grand_total"] != nil && item["items"]?.array?.isEmpty == false)
            }
        }
    }

    @Test func theSameRequestsWithTheirTypesAreAccepted() async throws {
        let magento = Self.store()
        #expect(await Self.send(magento, "POST", "/rest/V1/inventory/source-items", ["sourceItems": [["sku": "SKU-0001", "source_code": "default", "quantity": 7, "status": 1]]]).status == 200)
        #expect(magento.stock(sku: "SKU-0001")?.quantity == 7)
        #expect(await Self.send(magento, "POST", "/rest/default/V1/orders/1/comments", ["statusHistory": ["comment": "ok", "parent_id": 1, "is_customer_notified": 0]]).status == 200)
        #expect(await Self.send(magento, "POST", "/rest/default/V1/order/1/ship", ["items": [["order_item_id": 101, "qty": 1]], "notify": true]).status == 200)
    }

    @Test func aShippedOrderIsCompleteOnlyOnceItIsAlsoInvoiced() async throws {
        let magento = Self.store()
        #expect(await Self.send(magento, "POST", "/rest/default/V1/order/1/ship", [:]).status == 200)
        #expect(magento.orderState(entityID: 1) == "processing", "shipped, not invoiced")
        #expect(await Self.send(magento, "POST", "/rest/default/V1/order/1/invoice", [:]).status == 200)
        #expect(magento.orderState(entityID: 1) == "complete")
        let again = await Self.send(magento, "POST", "/rest/default/V1/order/1/invoice", [:])
        #expect(again.status == 400 && again.body["message"] == "The order does not allow an invoice to be created.")

        // Invoiced at placement (a captured payment): shipping everything completes it.
        var paid = FlowHarness.order(2)
        paid.invoiced = true
        let second = magento.placeOrder(paid)
        #expect(await Self.send(magento, "POST", "/rest/default/V1/order/\(second.entityID)/ship", ["items": [["order_item_id": 201, "qty": 1]]]).status == 200)
        #expect(magento.orderState(entityID: second.entityID) == "processing", "one of two lines shipped")
        #expect(await Self.send(magento, "POST", "/rest/default/V1/order/\(second.entityID)/ship", [:]).status == 200)
        #expect(magento.orderState(entityID: second.entityID) == "complete")
    }

    @Test func oauthIsRefusedForAWrongTokenSecretATamperedQueryAndAReplayedNonce() async throws {
        let magento = MagentoSandbox()
        magento.placeOrder(FlowHarness.order(1))
        let c = magento.credentials
        let signer = OAuth1Signer(consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, token: c.accessToken, tokenSecret: c.accessTokenSecret)
        let now = Int(Date().timeIntervalSince1970)
        func call(_ signer: OAuth1Signer, signed: String, sent: String? = nil, nonce: String) async -> (Int, String) {
            let header = signer.authorization(method: "GET", url: URL(string: "http://shop.test" + signed)!, nonce: nonce, timestamp: now)
            let outcome = await magento.sandbox.process(
                SandboxRequest(method: "GET", target: sent ?? signed, headers: ["Authorization": header, "Host": "shop.test"]))
            guard case .respond(let response) = outcome else { return (0, "") }
            return (response.status, (try? JSON.parse(response.body))?["message"]?.string ?? "")
        }
        let path = "/rest/default/V1/orders?searchCriteria%5BpageSize%5D=1"
        #expect(await call(signer, signed: path, nonce: "good-1").0 == 200)

        var wrongTokenSecret = signer
        wrongTokenSecret.tokenSecret = "ats-someone-else"
        let forged = await call(wrongTokenSecret, signed: path, nonce: "forged-1")
        #expect(forged.0 == 401 && forged.1.contains("signature is invalid"))

        let tampered = await call(signer, signed: path, sent: "/rest/default/V1/orders?searchCriteria%5BpageSize%5D=300", nonce: "tampered-1")
        #expect(tampered.0 == 401 && tampered.1.contains("signature is invalid"))

        let replayed = await call(signer, signed: path, nonce: "good-1")
        #expect(replayed.0 == 401 && replayed.1.contains("nonce is already being used"))
        #expect(await call(signer, signed: path, nonce: "good-2").0 == 200, "a fresh nonce still gets in")
    }
}
