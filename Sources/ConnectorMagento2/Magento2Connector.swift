import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore
import KopruHTTPClient

/// A Magento 2 store: an order and customer feed, order notes (status history), shipments with
/// tracking, and stock by bulk, by source items or by the legacy stock item.
public struct Magento2Connector: OrderFeed, OrderNotes, CustomerFeed, StockSink, BulkStockSink, OrderShipmentSink {
    let client: Magento2Client
    let connection: ConnectionID

    public init(
        connection: ConnectionID, settings: [String: String], secrets: [String: Secret], transport: any HTTPTransport,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(ConnectorError) {
        self.connection = connection
        client = Magento2Client(
            configuration: try Magento2Configuration(settings: settings, secrets: secrets), transport: transport, now: now)
    }

    var configuration: Magento2Configuration { client.configuration }

    // MARK: Orders

    public func orders(after position: FeedPosition, limit: Int) async throws -> [FeedItem<Order>] {
        let size = min(limit, configuration.pageSize)
        let page = try await client.call(.get, "/orders", query: Magento2Mapping.keysetQuery(after: position, idField: "entity_id", limit: size))
        var items: [FeedItem<Order>] = []
        for json in page["items"]?.array ?? [] {
            let item = try Magento2Mapping.order(json, connection: connection)
            // Past the end Magento repeats the last page; a keyset query never should, but a
            // record at or before the position would mean it did: stop rather than loop.
            guard item.position > position else { break }
            items.append(item)
        }
        return items
    }

    public func addOrderNote(externalID: String, note: String) async throws {
        guard let id = Int(externalID) else { throw ConnectorError.permanent("is not a Magento entity id", field: "order") }
        let body: JSON = [
            "statusHistory": [
                "comment": .string(note), "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": JSON(id),
            ]
        ]
        _ = try await client.call(.post, "/orders/\(id)/comments", body: body)
    }

    public func hasOrderNote(externalID: String, containing marker: String) async throws -> Bool {
        let order = try await client.call(.get, "/orders/\(PercentEncoding.encode(externalID))")
        return (order["status_histories"]?.array ?? []).contains { $0["comment"]?.string?.contains(marker) ?? false }
    }

    // MARK: Shipments

    public func shipOrder(externalID: String, notice: ShippedNotice) async throws -> String {
        let body: JSON = [
            "notify": true, "appendComment": true,
            "comment": ["comment": .string("\(notice.carrier) ile gönderildi: \(notice.trackingNumber)"), "is_visible_on_front": 1],
            "tracks": [
                ["track_number": .string(notice.trackingNumber), "title": .string(notice.carrier), "carrier_code": "custom"]
            ],
            "arguments": ["extension_attributes": ["source_code": .string(configuration.sourceCode)]],
        ]
        let result: Result<JSON, ConnectorError>
        do { result = .success(try await client.call(.post, "/order/\(PercentEncoding.encode(externalID))/ship", body: body)) } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let id): return id.string ?? ""
        case .failure(let error):
            // Not idempotent: a repeat is refused like this. Done only if our track is there.
            guard error.message.contains("does not allow a shipment") else { throw error }
            if let existing = try await findShipment(externalID: externalID, trackingNumber: notice.trackingNumber) {
                throw ConnectorError.alreadyDone("shipment with this tracking number exists", reference: existing)
            }
            throw error
        }
    }

    public func findShipment(externalID: String, trackingNumber: String) async throws -> String? {
        let f = "searchCriteria[filter_groups][0][filters][0]"
        let result = try await client.call(
            .get, "/shipments", query: [("\(f)[field]", "order_id"), ("\(f)[value]", externalID), ("\(f)[condition_type]", "eq")])
        for shipment in result["items"]?.array ?? [] {
            if (shipment["tracks"]?.array ?? []).contains(where: { $0["track_number"]?.string == trackingNumber }) {
                return shipment["entity_id"]?.string
            }
        }
        return nil
    }

    // MARK: Customers

    public func customers(after position: FeedPosition, limit: Int) async throws -> [FeedItem<CustomerProfile>] {
        let size = min(limit, configuration.pageSize)
        let page = try await client.call(
            .get, "/customers/search", query: Magento2Mapping.keysetQuery(after: position, idField: "entity_id", limit: size))
        var items: [FeedItem<CustomerProfile>] = []
        for json in page["items"]?.array ?? [] {
            let item = try Magento2Mapping.customer(json, taxNumber: configuration.taxNumber)
            guard item.position > position else { break }
            items.append(item)
        }
        return items
    }

    // MARK: Stock

    public var stockBatchLimit: Int { configuration.stockMode == .legacy ? 50 : configuration.inputLimit }

    public func pushStock(_ levels: [StockLevel]) async throws -> BatchResult<SKU> {
        switch configuration.stockMode {
        case .legacy:
            var confirmed: [SKU] = []
            var failed: [SKU: ConnectorError] = [:]
            for level in levels {
                let body: JSON = ["stockItem": ["qty": JSON(max(0, level.quantity)), "is_in_stock": .bool(level.quantity > 0)]]
                do {
                    _ = try await client.call(.put, "/products/\(PercentEncoding.encode(level.sku.rawValue))/stockItems/1", body: body)
                    confirmed.append(level.sku)
                } catch {
                    guard error.disposition == .permanent else { throw error }
                    failed[level.sku] = error
                }
            }
            return BatchResult(confirmed: confirmed, failed: failed)
        case .sourceItems, .bulk:
            let rows = levels.map { Magento2Mapping.sourceItem($0, source: configuration.sourceCode) }
            _ = try await client.call(.post, "/inventory/source-items", body: ["sourceItems": .array(rows)])
            return BatchResult(confirmed: levels.map(\.sku))
        }
    }

    public var usesBulkStock: Bool { configuration.stockMode == .bulk }
    public var bulkOperationSize: Int { configuration.bulkOperationSize }

    public func submitStock(_ operations: [[StockLevel]]) async throws -> String {
        let body = JSON.array(
            operations.map { chunk in
                ["sourceItems": .array(chunk.map { Magento2Mapping.sourceItem($0, source: configuration.sourceCode) })]
            })
        let result = try await client.call(.post, "/inventory/source-items", body: body, area: .bulk)
        guard let uuid = result["bulk_uuid"]?.string else {
            throw ConnectorError.retryable("bulk request accepted without a bulk_uuid")
        }
        return uuid
    }

    public func bulkStatus(_ id: String) async throws -> [BulkOperationState] {
        let result = try await client.call(.get, "/bulk/\(PercentEncoding.encode(id))/detailed-status")
        let operations = (result["operations_list"]?.array ?? []).sorted { ($0["id"]?.int ?? 0) < ($1["id"]?.int ?? 0) }
        return operations.map { operation in
            let message = operation["result_message"]?.string ?? "(no message)"
            switch operation["status"]?.int {
            case 1: return .complete
            case 2: return .retriable(message)
            case 3: return .failed(message)
            case 5: return .failed("rejected: \(message)")
            default: return .open
            }
        }
    }
}

/// What the store holds now, for the drift report. With MSI (`stock.mode` source-items or bulk)
/// one `GET /V1/inventory/source-items` per page of SKUs, filtered to the connection's source
/// (spec §2.3); with the legacy stock item, one `GET /V1/stockItems/{sku}` per SKU, the only
/// read that API has. Magento keeps quantities as decimals (`42.0000` in the database, `42` or
/// `2.5` on the wire): a fractional quantity is read down to the whole units the hub sends.
extension Magento2Connector: StockReader {
    public var stockReadLimit: Int { configuration.stockMode == .legacy ? 50 : configuration.pageSize }

    public func stockQuantities(skus: [SKU]) async throws -> [SKU: Int] {
        var found: [SKU: Int] = [:]
        if configuration.stockMode == .legacy {
            for sku in skus {
                let item: JSON
                do { item = try await client.call(.get, "/stockItems/\(PercentEncoding.encode(sku.rawValue))") } catch {
                    // A product the store does not have is left out, not an error.
                    if error.disposition == .permanent && error.message.contains("doesn't exist") { continue }
                    throw error
                }
                if let quantity = item["qty"]?.decimal { found[sku] = Self.wholeUnits(quantity) }
            }
            return found
        }
        // Magento compares SKUs as MySQL does, without regard to case.
        let wanted = Dictionary(skus.map { ($0.rawValue.lowercased(), $0) }) { first, _ in first }
        for chunk in Self.readChunks(skus, limit: stockReadLimit) {
            let g = "searchCriteria[filter_groups]"
            let query: [(String, String)] = [
                ("\(g)[0][filters][0][field]", "sku"), ("\(g)[0][filters][0][value]", chunk.map(\.rawValue).joined(separator: ",")),
                ("\(g)[0][filters][0][condition_type]", chunk.count == 1 ? "eq" : "in"),
                ("\(g)[1][filters][0][field]", "source_code"), ("\(g)[1][filters][0][value]", configuration.sourceCode),
                ("\(g)[1][filters][0][condition_type]", "eq"),
                ("searchCriteria[pageSize]", "\(chunk.count)"), ("searchCriteria[currentPage]", "1"),
            ]
            let page = try await client.call(.get, "/inventory/source-items", query: query)
            for row in page["items"]?.array ?? [] {
                guard let text = row["sku"]?.string, let sku = wanted[text.lowercased()], let quantity = row["quantity"]?.decimal else { continue }
                found[sku] = Self.wholeUnits(quantity)
            }
        }
        return found
    }

    /// SKUs in groups of at most `limit`, and short enough that the `in` filter's query stays
    /// under 4 000 characters once percent-encoded: many servers in front of Magento refuse a
    /// request line past 8 KB. A SKU holding a comma cannot be asked for in a list; it goes alone
    /// (asked for with `eq`, not `in`).
    static func readChunks(_ skus: [SKU], limit: Int) -> [[SKU]] {
        var chunks: [[SKU]] = []
        var current: [SKU] = []
        var length = 0
        for sku in skus {
            let cost = PercentEncoding.encode(sku.rawValue).utf8.count + 3
            if !current.isEmpty && (current.count >= limit || length + cost > 4_000 || sku.rawValue.contains(",")) {
                chunks.append(current)
                (current, length) = ([], 0)
            }
            current.append(sku)
            length += cost
            if sku.rawValue.contains(",") {
                chunks.append(current)
                (current, length) = ([], 0)
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    static func wholeUnits(_ quantity: Decimal) -> Int {
        var value = quantity
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .down)
        return NSDecimalNumber(decimal: rounded).intValue
    }
}

/// Magento itself has no request-rate limiter (spec §4); a host's WAF or CDN may. Every class is
/// unlimited unless `rateLimit.bulk`, `rateLimit.stock` or `rateLimit.default` says otherwise.
extension Magento2Connector: DeclaresEndpointLimits {
    public static func endpointLimits(settings: [String: String]) throws(ConnectorError) -> EndpointLimits {
        try EndpointLimits(
            classes: [
                EndpointClass(name: "bulk", limit: nil) { _, path in path.contains("/async/bulk/") },
                EndpointClass(name: "stock", limit: nil) { _, path in
                    path.hasSuffix("/inventory/source-items") || path.contains("/stockItems/")
                },
            ],
            fallback: EndpointClass(name: "default", limit: nil) { _, _ in true }
        ).configured(settings)
    }
}

/// Base prices: `POST /V1/products/base-prices`, which saves the valid rows and answers `[]` or
/// one `{message, parameters}` per refused row (spec §2.3).
extension Magento2Connector: PriceSink {
    public var priceBatchLimit: Int { configuration.inputLimit }

    public func pushPrices(_ prices: [Price]) async throws -> BatchResult<SKU> {
        let rows: [JSON] = prices.map { ["sku": .string($0.sku.rawValue), "price": JSON($0.amount.amount), "store_id": 0] }
        let answer = try await client.call(.post, "/products/base-prices", body: ["prices": .array(rows)])
        var failed: [SKU: ConnectorError] = [:]
        for problem in answer.array ?? [] {
            let parameters = problem["parameters"]
            let sku = parameters?["SKU"]?.string ?? parameters?["sku"]?.string ?? parameters?[0]?.string
            let message = Magento2Errors.fill(problem["message"]?.string ?? "refused", parameters)
            if let sku { failed[SKU(sku)] = .permanent(message, field: "price") }
        }
        return BatchResult(confirmed: prices.map(\.sku).filter { failed[$0] == nil }, failed: failed)
    }
}
