import Foundation
import KopruConnectors
import KopruCore
import KopruStore
import Testing

@testable import KopruEngine

@Suite("The webhook job")
struct WebhookReceivedJobTests {
    @Test("its key names the connection and the delivery, and keys sort in the order webhooks arrived")
    func keysInOrderOfArrival() throws {
        let start = Date(timeIntervalSince1970: 1_764_590_000.125)
        // Random delivery ids, as the Magento module sends: the keys still sort by arrival.
        let jobs = (0..<200).map { index in
            WebhookReceivedJob.job(
                for: .init(connection: "shop", deliveryKey: "id:\(UUID().uuidString.lowercased())", topic: "order.placed"),
                receivedAt: start.addingTimeInterval(Double(index) * 0.002))
        }
        let keys = jobs.map(\.idempotencyKey)
        #expect(keys == keys.sorted())
        #expect(Set(keys).count == keys.count)
        #expect(keys[0].hasPrefix("webhook:shop:1764590000125:id:"))
        // The same delivery at the same moment is the same key (a retried transaction), another delivery is not.
        let payload = WebhookReceivedJob.Payload(connection: "shop", deliveryKey: "id:d-1", topic: nil)
        #expect(
            WebhookReceivedJob.job(for: payload, receivedAt: start).idempotencyKey
                == WebhookReceivedJob.job(for: payload, receivedAt: start).idempotencyKey)
        #expect(
            WebhookReceivedJob.job(for: payload, receivedAt: start).idempotencyKey
                != WebhookReceivedJob.job(for: .init(connection: "shop", deliveryKey: "id:d-2", topic: nil), receivedAt: start).idempotencyKey)
    }

    @Test("its payload, written without JSONEncoder, reads back as the payload")
    func payloadReadsBack() throws {
        for topic in ["order.placed", nil, #"quote " and \ slash / ü"#] {
            let job = WebhookReceivedJob.job(for: .init(connection: "shop", deliveryKey: "id:\"odd\"\n", topic: topic), receivedAt: Date())
            let payload = try JSONDecoder().decode(WebhookReceivedJob.Payload.self, from: job.payload)
            #expect(payload.connection == "shop" && payload.deliveryKey == "id:\"odd\"\n" && payload.topic == topic)
        }
    }

    @Test("header values are trimmed as Foundation trims white space")
    func trimming() {
        for text in ["", " ", "abc", " abc", "abc\t", "\t a b \t", "\u{00A0}sha256=ab\u{2003}", "ü ", " 1764590000 "] {
            #expect(text.trimmingWhitespace == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
        }
    }
}
