import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// `sync.customers`: new channel customers since the stored position (and the overlap window's
/// recheck: `FeedScan`) become `customer.export` jobs, once each.
public struct CustomerPollJob: FlowJobHandler {
    public let kind = "sync.customers"
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) {
        self.environment = environment
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        var effects: [StoreEffect] = []
        for flow in environment.catalog.flows(.customers, from: context.job.connection, request: request) {
            let feed = try await environment.connectors.resolve(flow.source, as: (any CustomerFeed).self)
            let (cursors, _, more) = try await environment.scanFeed(
                flow, full: request.isFull, maxPerRun: 500, now: context.now, read: { try await feed.customers(after: $0, limit: $1) }
            ) { page in
                for item in page {
                    let payload = CustomerExportJob.Payload(
                        flow: flow.name, reference: "\(flow.source.rawValue)-\(item.externalID)", profile: item.record)
                    effects.append(
                        .enqueue(
                            try NewJob(
                                kind: CustomerExportJob.kind, idempotencyKey: "\(flow.name):\(item.externalID)", json: payload,
                                connection: flow.target)))
                }
            }
            effects += cursors
            if more { effects.append(.enqueue(flow.syncJob(priority: context.job.priority))) }
        }
        return .done(effects)
    }
}

/// `customer.export`: one customer into the ERP under our reference, bound once created; a retry
/// looks the reference up first.
public struct CustomerExportJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var reference: String
        public var profile: CustomerProfile
    }

    public static let kind = "customer.export"
    public var kind: String { Self.kind }
    public var checksBeforeGivingUp: Bool { true }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        if try await environment.store.binding(connection: flow.target, entity: "customer", internalID: payload.reference) != nil { return .done }
        let sink = try await environment.connectors.resolve(flow.target, as: (any CustomerSink).self)
        let delivery = try await deliver(
            context, find: { try await sink.findCustomer(reference: payload.reference) },
            create: {
                try await sink.createCustomer(
                    payload.profile, reference: payload.reference, idempotencyKey: "\(flow.target):\(payload.reference)")
            })
        let id = delivery.reference
        let ref = id ?? payload.reference
        return .done([
            .bind(Binding(connection: flow.target, entity: "customer", externalID: ref, internalID: payload.reference)),
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "export", connection: flow.target, subject: "customer:\(payload.reference)",
                    message: "customer \(payload.reference) exported as \(ref)")),
        ])
    }
}

/// `sync.shipments`: shipments the ERP reports since the stored time become `shipment.create`
/// jobs on the channel order they belong to (found through the order's binding).
public struct ShipmentPollJob: FlowJobHandler {
    public let kind = "sync.shipments"
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment) {
        self.environment = environment
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let request = (try? context.job.decodePayload(SyncRequest.self)) ?? SyncRequest()
        var effects: [StoreEffect] = []
        for flow in environment.catalog.flows(.shipments, from: context.job.connection, request: request) {
            let feed = try await environment.connectors.resolve(flow.source, as: (any ShipmentFeed).self)
            let stored = try await environment.store.cursor(connection: flow.source, name: flow.cursorName).flatMap { Int64($0.value) }
            let since = request.isFull || stored == nil ? Date(timeIntervalSince1970: 0) : Date(millisecondsSince1970: stored!)
            var newest = since
            var unknown: [String] = []
            let overlap = try await environment.overlap(of: flow)
            for notice in try await feed.shippedOrders(since: since.addingTimeInterval(-overlap.seconds)) {
                newest = max(newest, notice.shippedAt)
                let orderID = "\(flow.target.rawValue):\(notice.orderReference)"
                guard let order = try await environment.store.binding(connection: flow.target, entity: "order", internalID: orderID) else {
                    unknown.append(notice.orderReference)
                    continue
                }
                effects.append(
                    .enqueue(
                        try NewJob(
                            kind: ShipmentCreateJob.kind, idempotencyKey: "\(flow.name):\(notice.orderReference):\(notice.trackingNumber)",
                            json: ShipmentCreateJob.Payload(flow: flow.name, orderExternalID: order.externalID, notice: notice),
                            connection: flow.target)))
            }
            if !unknown.isEmpty {
                effects.append(
                    .log(
                        EventRecord(
                            at: context.now, level: .warning, kind: "sync_run", connection: flow.source, subject: "flow:\(flow.name)",
                            message: "\(unknown.count) shipped order(s) not known on \(flow.target): \(unknown.prefix(20).joined(separator: ", "))")))
            }
            effects.append(
                .setCursor(
                    SyncCursor(
                        connection: flow.source, name: flow.cursorName, value: "\(newest.millisecondsSince1970)", updatedAt: context.now)))
        }
        return .done(effects)
    }
}

/// `shipment.create`: the channel shipment with its tracking number. Not idempotent on Magento,
/// so a retry first looks for a shipment carrying the same tracking number. From a shipping flow
/// (or the admin API) it names the channel and the carrier's shipment it closes.
public struct ShipmentCreateJob: FlowJobHandler {
    public struct Payload: Codable, Sendable {
        public var flow: String
        public var orderExternalID: String
        public var notice: ShippedNotice
        /// The channel, where it is not the flow's target (a shipping flow's source).
        public var channel: ConnectionID?
        /// The carrier connection and request number whose tracking this is.
        public var carrier: ConnectionID?
        public var carrierReference: String?

        public init(
            flow: String, orderExternalID: String, notice: ShippedNotice, channel: ConnectionID? = nil, carrier: ConnectionID? = nil,
            carrierReference: String? = nil
        ) {
            self.flow = flow
            self.orderExternalID = orderExternalID
            self.notice = notice
            self.channel = channel
            self.carrier = carrier
            self.carrierReference = carrierReference
        }
    }

    public static let kind = "shipment.create"
    public var kind: String { Self.kind }
    public var checksBeforeGivingUp: Bool { true }
    public let retryPolicy: RetryPolicy
    let environment: FlowEnvironment

    public init(_ environment: FlowEnvironment, retryPolicy: RetryPolicy = .exponentialJitter()) {
        self.environment = environment
        self.retryPolicy = retryPolicy
    }

    /// The one channel shipment a carrier's tracking number makes: whichever of the tracking
    /// poll and an operator (admin API) comes first enqueues it, the other finds it there.
    public static func trackingJob(_ payload: Payload, channel: ConnectionID) throws -> NewJob {
        try NewJob(
            kind: kind, idempotencyKey: "tracking:\(channel.rawValue):\(payload.notice.orderReference)", json: payload, priority: 5,
            connection: channel)
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let payload = try context.job.decodePayload(Payload.self)
        let flow = try environment.catalog.flow(named: payload.flow)
        let channel = payload.channel ?? flow.target
        let sink = try await environment.connectors.resolve(channel, as: (any OrderShipmentSink).self)
        let tracking = payload.notice.trackingNumber
        let id = try await deliver(
            context, find: { try await sink.findShipment(externalID: payload.orderExternalID, trackingNumber: tracking) },
            create: { try await sink.shipOrder(externalID: payload.orderExternalID, notice: payload.notice) }
        ).reference
        var effects: [StoreEffect] = [
            .bind(
                Binding(
                    connection: channel, entity: "shipment", externalID: id ?? tracking,
                    internalID: "\(payload.notice.orderReference):\(tracking)")),
            .log(
                EventRecord(
                    at: context.now, level: .info, kind: "export", connection: channel,
                    subject: "order:\(payload.notice.orderReference)",
                    message: "shipment \(tracking) recorded on order \(payload.notice.orderReference)")),
        ]
        if let carrier = payload.carrier, let reference = payload.carrierReference {
            effects.append(.bind(Binding(connection: carrier, entity: CarrierFlow.trackingEntity, externalID: tracking, internalID: reference)))
        }
        return .done(effects)
    }
}

extension FlowKind {
    /// New channel customers → ERP customers.
    public static let customers = FlowKind(
        id: "customers", summary: "new channel customers → ERP customers",
        source: [[.customerFeed]], target: [[.customerSink]], defaultSchedule: "*/5 * * * *", lane: .realTime, wokenByWebhook: true,
        options: [.overlapSeconds, .recheckSeconds]
    ) { environment, retryPolicy in [CustomerPollJob(environment), CustomerExportJob(environment, retryPolicy: retryPolicy)] }

    /// ERP "shipped" → channel shipment with its tracking number.
    public static let shipments = FlowKind(
        id: "shipments", summary: "ERP shipments → channel shipments with tracking numbers",
        source: [[.shipmentFeed]], target: [[.orderShipmentSink]], defaultSchedule: "*/5 * * * *", lane: .realTime,
        options: [.overlapSeconds]
    ) { environment, retryPolicy in [ShipmentPollJob(environment), ShipmentCreateJob(environment, retryPolicy: retryPolicy)] }
}
