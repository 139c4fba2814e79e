import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KopruConnectors
import KopruCore
import KopruEngine
import KopruServer
import KopruStore
import KopruStoreSQLite
import NIOCore
import Testing

@Suite("Tracking numbers entered through the admin API")
struct TrackingRouteTests {
    @Test func aTrackingNumberBecomesTheOrdersOneChannelShipmentJob() async throws {
        var hub = try await HubFixture()
        defer { hub.cleanUp() }
        hub.flows = FlowCatalog([FlowDefinition(name: "shipping", kind: .shipping, source: "shop", target: "horoz")])
        try await hub.store.saveConnection(Connection(id: "shop", type: "magento2", name: "shop"), now: Date())
        try await hub.store.saveConnection(Connection(id: "erp", type: "erp-rest", name: "erp"), now: Date())
        try await hub.store.bind(Binding(connection: "shop", entity: "order", externalID: "42", internalID: "shop:000000042"))
        let fixture = hub
        try await fixture.live { client in
            func post(_ id: String, _ body: String) async throws -> (HTTPResponse.Status, JSON) {
                let response = try await client.execute(
                    uri: "/api/integrations/\(id)/tracking", method: .post, headers: fixture.jsonAuth, body: ByteBuffer(string: body))
                return (response.status, (try? JSON.parse(Data(response.body.readableBytesView))) ?? .null)
            }
            let (status, answer) = try await post("shop", #"{"order":"000000042","trackingNumber":"700000000123"}"#)
            #expect(status == .accepted && answer["kind"] == "shipment.create")
            let job = try #require(try await fixture.store.job(kind: "shipment.create", idempotencyKey: "tracking:shop:000000042"))
            let payload = try job.decodePayload(ShipmentCreateJob.Payload.self)
            #expect(payload.orderExternalID == "42" && payload.notice.trackingNumber == "700000000123" && payload.carrier == "horoz")
            #expect(payload.carrierReference == "000000042" && job.connection == "shop")

            #expect(try await post("shop", #"{"order":"000000042","trackingNumber":"999"}"#).0 == .conflict)
            #expect(try await post("shop", #"{"order":"000000043","trackingNumber":"999"}"#).0 == .notFound)
            let missing = try await post("shop", #"{"order":"000000042"}"#)
            #expect(missing.0.code == 422 && missing.1["error"]?["field"] == "trackingNumber")
            let odd = try await post("shop", #"{"order":"000000042","trackingNumber":"12 34; DROP"}"#)
            #expect(odd.1["error"]?["field"] == "trackingNumber")
            #expect(try await post("erp", #"{"order":"1","trackingNumber":"1"}"#).1["error"]?["field"] == "id")
        }
        #expect(try await hub.store.jobs(JobFilter(kind: "shipment.create", limit: 10)).count == 1)
    }
}
