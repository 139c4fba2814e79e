import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// A shipping flow (channel → carrier): an order reaching one of `exportStatuses` becomes a
/// carrier shipment order (`carrier.ship`), which is then labelled (`carrier.label`) and tracked
/// (`carrier.track`) until the carrier has a tracking number, which goes back onto the channel
/// order (`shipment.create`). An order reaching one of `returnStatuses` after it went out with
/// this carrier becomes a return shipment. Each step binds what it made on the carrier
/// connection, so a replay or a retry after a crash finds it instead of making it again.
enum CarrierFlow {
    /// Bindings on the carrier connection, by our key (`<order id>:out|return`, request number).
    static let shipmentEntity = "shipment"
    static let labelEntity = "shipment.label"
    static let trackingEntity = "shipment.tracking"
    static let versionEntity = "order.version.shipping"

    static func shipmentKey(_ order: OrderID, isReturn: Bool) -> String { "\(order.rawValue):\(isReturn ? "return" : "out")" }
}

extension Shipment {
    /// The carrier's view of a channel order: its lines and the customer's shipping address. The
    /// request number is the order number (a return's gets `-IADE`), so a replay reuses it.
    init(order: Order, carrier: String, isReturn: Bool, requestedAt: Date) {
        let number = order.source.externalNumber ?? order.source.externalID
        let address = order.shippingAddress
        self.init(
            orderID: order.id, orderNumber: number, reference: isReturn ? "\(number)-IADE" : number, carrier: carrier,
            isReturn: isReturn,
            lines: order.lines.map { ShipmentLine(sku: $0.sku, name: $0.name, quantity: $0.quantity, unitWeightKg: $0.unitWeightKg) },
            customer: Address(
                firstName: address.firstName, lastName: address.lastName, company: address.company, line1: address.line1,
                line2: address.line2, district: address.district, city: address.city, postalCode: address.postalCode,
                countryCode: address.countryCode, phone: address.phone ?? order.customer.phone ?? order.billingAddress.phone),
            customerEmail: order.customer.email, taxNumber: order.customer.taxNumber, taxOffice: order.customer.taxOffice,
            requestedAt: requestedAt)
    }
}

/// `sync.shipping`: the channel's order feed, read for this flow with its own position and
/// versions (an ERP order flow from the same channel keeps its own).
public struct ShippingPollJob: FlowJobHandler {
    public let kind = "sync.shipping"
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) { self.environment = environment }

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        var effects: [StoreEffect] = []
        for flow in environment.catalog.flows(.shipping, from: context.job.connection, request: request) {
            var (outbound, returns) = (0, 0)
            let (scanned, seen, more) = try await environment.scanOrders(
                flow, full: request.isFull, versionEntity: "\(CarrierFlow.versionEntity):\(flow.name)", maxPerRun: 500, now: context.now
            ) { order, externalID, _ in
                // The admin API finds a channel order by its number through this binding.
                let known = StoreEffect.bind(
                    Binding(connection: flow.source, entity: "order", externalID: externalID, internalID: order.id.rawValue))
                let isReturn = flow.returnStatuses.contains(order.status)
                guard isReturn || flow.exportStatuses.contains(order.status) else { return [known] }
                if isReturn { returns += 1 } else { outbound += 1 }
                return [known, .enqueue(try CarrierShipJob.job(flow: flow, order: order, isReturn: isReturn, now: context.now))]
            }
            effects += scanned
            if more { effects.append(.enqueue(flow.syncJob(priority: context.job.priority))) }
            effects.append(
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "sync_run", connection: flow.source, subject: "flow:\(flow.name)",
                        message: "orders polled for shipping: \(seen) read, \(outbound) to ship, \(returns) returns",
                        details: ["flow": flow.name, "read": "\(seen)", "enqueued": "\(outbound + returns)"])))
        }
        return .done(effects)
    }
}

/// `carrier.ship`: one shipment order at the carrier, exactly once. Bound → done. The carrier's
/// own idempotency (Horoz: the request number, ERR-20003) makes a resend after a lost answer
/// count as done, so no lookup is needed first. An address the carrier cannot place fails
/// permanently naming the field; fixing the mapping and replaying sends the same request number.
public struct CarrierShipJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var order: Order
        public var isReturn: Bool
        /// Fixed when the job is made, so every attempt sends the same body.
        public var requestedAt: Date
    }

    public static let kind = "carrier.ship"
    public var kind: String { Self.kind }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    static func job(flow: FlowDefinition, order: Order, isReturn: Bool, now: Date) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(flow.name):\(CarrierFlow.shipmentKey(order.id, isReturn: isReturn))",
            json: Payload(flow: flow.name, order: order, isReturn: isReturn, requestedAt: now), priority: 5, connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let order = payload.order
        let key = CarrierFlow.shipmentKey(order.id, isReturn: payload.isReturn)
        let store = environment.store
        if try await store.binding(connection: flow.target, entity: CarrierFlow.shipmentEntity, internalID: key) != nil { return .done }
        if payload.isReturn,
            try await store.binding(
                connection: flow.target, entity: CarrierFlow.shipmentEntity, internalID: CarrierFlow.shipmentKey(order.id, isReturn: false))
                == nil
        {
            return .done([
                .log(
                    EventRecord(
                        at: context.now, level: .info, kind: "export", connection: flow.target, subject: "order:\(order.id)",
                        message: "order \(order.source.externalNumber ?? order.id.rawValue) did not go out with this carrier: no return shipment"))
            ])
        }
        let sink = try await environment.connectors.resolve(flow.target, as: (any ShipmentSink).self)
        let shipment = Shipment(order: order, carrier: flow.target.rawValue, isReturn: payload.isReturn, requestedAt: payload.requestedAt)
        // Horoz refuses a repeated request number (ERR-20003, "already done"): resending is safe.
        let delivery = try await deliver(context, resendIsSafe: true, find: { nil }, create: { try await sink.createShipment(shipment) })
        let reference = delivery.reference ?? shipment.reference
        return .done([
            .bind(Binding(connection: flow.target, entity: CarrierFlow.shipmentEntity, externalID: reference, internalID: key)),
            .enqueue(
                try CarrierLabelJob.job(
                    flow: flow,
                    payload: .init(
                        flow: flow.name, reference: reference, orderNumber: shipment.orderNumber,
                        orderExternalID: order.source.externalID, isReturn: payload.isReturn))),
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "export", connection: flow.target, subject: "order:\(order.id)",
                    message: "\(payload.isReturn ? "return shipment" : "shipment") \(reference) \(delivery.how)",
                    details: ["flow": flow.name, "reference": reference])),
        ])
    }

    /// The merchant sees on the order why it did not reach the carrier.
    public func deadLetterEffects(_ job: Job, reason: String, now: Date) -> [StoreEffect] {
        guard let payload = try? job.decodePayload(Payload.self), let flow = try? environment.catalog.flow(named: payload.flow), flow.notes,
            let note = try? OrderNoteJob.job(
                flow: flow, order: payload.order,
                note: "KARGOYA GÖNDERİLEMEDİ (Köprü iş #\(job.id), hata listesinde): \(reason.prefix(300))")
        else { return [] }
        return [.enqueue(note)]
    }
}

/// What the label and tracking jobs carry about the shipment.
public struct CarrierShipmentRef: Codable, Sendable {
    public var flow: String
    /// The carrier's request number.
    public var reference: String
    public var orderNumber: String
    public var orderExternalID: String
    public var isReturn: Bool
    public var round: Int = 1
}

/// `carrier.label`: the carrier approves the order and makes its label. Where every call makes a
/// new acceptance record (Horoz's `createBarcode` may), every attempt after an unanswered one
/// looks for the label that attempt may have made.
public struct CarrierLabelJob: FlowJobHandler {
    public static let kind = "carrier.label"
    public var kind: String { Self.kind }
    public var checksBeforeGivingUp: Bool { true }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    static func job(flow: FlowDefinition, payload: CarrierShipmentRef) throws -> NewJob {
        try NewJob(kind: kind, idempotencyKey: "\(flow.name):\(payload.reference)", json: payload, priority: 5, connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(CarrierShipmentRef.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        if try await environment.store.binding(connection: flow.target, entity: CarrierFlow.labelEntity, internalID: payload.reference) != nil {
            return .done
        }
        let labels = try await environment.connectors.resolve(flow.target, as: (any CarrierLabels).self)
        let found = try await askFirst(context) { try await labels.findLabel(reference: payload.reference) }
        let made = found == nil
        let label = if let found { found } else { try await labels.createLabel(reference: payload.reference) }
        var effects: [StoreEffect] = [
            .bind(Binding(connection: flow.target, entity: CarrierFlow.labelEntity, externalID: label.barcode, internalID: payload.reference)),
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "export", connection: flow.target, subject: "shipment:\(payload.reference)",
                    message: "label \(label.barcode) \(made ? "made" : "found after an unanswered attempt") for \(payload.reference)",
                    details: ["barcode": label.barcode, "acceptance": label.acceptanceID ?? ""])),
        ]
        if !payload.isReturn { effects.append(.enqueue(try CarrierTrackJob.job(flow: flow, payload: payload, at: nil))) }
        return .done(effects)
    }
}

/// `carrier.track`: asks the carrier for the tracking number; once there, it goes onto the
/// channel order as a shipment. Until then the job asks again every `trackingPollInterval`, as a
/// new job per round, up to `trackingMaxPolls`. A tracking number an operator entered through
/// the admin API ends the rounds.
public struct CarrierTrackJob: FlowJobHandler {
    public static let kind = "carrier.track"
    public var kind: String { Self.kind }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    static func job(flow: FlowDefinition, payload: CarrierShipmentRef, at: Date?) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "\(flow.name):\(payload.reference):\(payload.round)", json: payload, priority: 2, runAt: at,
            connection: flow.target)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(CarrierShipmentRef.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let store = environment.store
        if try await store.binding(connection: flow.target, entity: CarrierFlow.trackingEntity, internalID: payload.reference) != nil {
            return .done
        }
        let tracker = try await environment.connectors.resolve(flow.target, as: (any CarrierTracking).self)
        guard let number = try await tracker.tracking(reference: payload.reference)?.trackingNumber else {
            guard payload.round < flow.trackingMaxPolls else {
                return .done([
                    .log(
                        EventRecord(
                            at: context.now, level: .warning, kind: "export", connection: flow.target, subject: "shipment:\(payload.reference)",
                            message: "no tracking number for \(payload.reference) after \(payload.round) checks; enter it through the admin API"))
                ])
            }
            var next = payload
            next.round += 1
            return .done([.enqueue(try Self.job(flow: flow, payload: next, at: context.now.addingTimeInterval(flow.trackingPollInterval.seconds)))])
        }
        let notice = ShippedNotice(orderReference: payload.orderNumber, carrier: tracker.carrierTitle, trackingNumber: number, shippedAt: context.now)
        let shipment = ShipmentCreateJob.Payload(
            flow: flow.name, orderExternalID: payload.orderExternalID, notice: notice, channel: flow.source, carrier: flow.target,
            carrierReference: payload.reference)
        return .done([.enqueue(try ShipmentCreateJob.trackingJob(shipment, channel: flow.source))])
    }
}

extension FlowKind {
    /// Channel orders → carrier shipment orders (returns too), label, and the carrier's tracking
    /// number back on the channel order.
    public static let shipping = FlowKind(
        id: "shipping", summary: "channel orders → carrier shipments and labels, tracking numbers back on the channel",
        source: [[.orderFeed], [.orderShipmentSink]], target: [[.shipmentSink], [.carrierLabels], [.carrierTracking]],
        defaultSchedule: "* * * * *", lane: .realTime, wokenByWebhook: true,
        options: [
            .overlapSeconds, .recheckSeconds, .exportStatuses, .notes,
            FlowOption("returnStatuses", default: "[returned, refunded]", help: "channel order statuses that send the goods back") {
                value, flow throws(FlowOption.Problem) in flow.returnStatuses = try value.statuses()
            },
            FlowOption("trackingPollSeconds", default: "900", help: "how often to ask the carrier for a tracking number") {
                value, flow throws(FlowOption.Problem) in flow.trackingPollInterval = .seconds(try value.integer(atLeast: 1))
            },
        ]
    ) { environment, retryPolicy in
        [
            ShippingPollJob(environment), CarrierShipJob(environment, retryPolicy: retryPolicy),
            CarrierLabelJob(environment, retryPolicy: retryPolicy), CarrierTrackJob(environment, retryPolicy: retryPolicy),
            ShipmentCreateJob(environment, retryPolicy: retryPolicy),
        ]
    }
}
