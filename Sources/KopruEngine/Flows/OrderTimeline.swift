import Foundation
import KopruCore
import KopruStore

/// The jobs an order can have, by the keys the flows give them, so the dashboard's timeline
/// finds each one directly (its idempotency key is unique per kind) instead of searching.
public enum OrderTimeline {
    public struct Step: Sendable {
        /// What the step is, in the merchant's words' key: `export`, `note.exported`, `note.failed`, `cancel`, `ship`, `return`.
        public var step: String
        public var kind: String
        public var idempotencyKey: String
    }

    /// The steps of `orderID` in every flow that takes orders from its channel.
    public static func steps(of orderID: String, channel: ConnectionID, flows: [FlowDefinition]) -> [Step] {
        var steps: [Step] = []
        for flow in flows where flow.source == channel {
            switch flow.kind {
            case .orders:
                steps += [
                    Step(step: "export", kind: OrderExportJob.kind, idempotencyKey: "\(flow.name):\(orderID)"),
                    Step(step: "note.exported", kind: OrderNoteJob.kind, idempotencyKey: "\(flow.name):\(orderID):exported"),
                    Step(step: "note.failed", kind: OrderNoteJob.kind, idempotencyKey: "\(flow.name):\(orderID):failed"),
                    Step(step: "cancel", kind: OrderCancelJob.kind, idempotencyKey: "\(flow.name):\(orderID):cancel"),
                ]
            case .shipping:
                let id = OrderID(orderID)
                steps += [
                    Step(step: "ship", kind: CarrierShipJob.kind, idempotencyKey: "\(flow.name):\(CarrierFlow.shipmentKey(id, isReturn: false))"),
                    Step(step: "return", kind: CarrierShipJob.kind, idempotencyKey: "\(flow.name):\(CarrierFlow.shipmentKey(id, isReturn: true))"),
                ]
            default: continue
            }
        }
        return steps
    }
}
