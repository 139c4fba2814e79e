import Crypto
import Foundation
import KopruCore

/// Stock: MSI source items (synchronous and bulk) and the legacy per-product stock item; customers.
extension MagentoRoutes {
    /// Why one source item would not save, or nil. Magento validates every row before saving any.
    static func problem(with row: JSON, state: MagentoSandbox.State) -> String? {
        guard let sku = row["sku"]?.string, !sku.isEmpty else { return "\"sku\" is required. Enter and try again." }
        guard let source = row["source_code"]?.string, !source.isEmpty else {
            return "\"source_code\" is required. Enter and try again."
        }
        guard state.settings.sources.contains(source) else { return "Source with code \"\(source)\" does not exist." }
        guard let quantity = row["quantity"]?.decimal else { return "\"quantity\" should be numeric." }
        guard quantity >= 0 else { return "\"quantity\" must not be negative." }
        guard let status = row["status"]?.int, [0, 1].contains(status) else { return "\"status\" must be 0 or 1." }
        guard state.stock[sku] != nil else { return "Product with SKU \"\(sku)\" does not exist." }
        return nil
    }

    static func apply(_ rows: [JSON], to state: inout MagentoSandbox.State) {
        for row in rows {
            guard let sku = row["sku"]?.string, let quantity = row["quantity"]?.int else { continue }
            state.stock[sku] = (quantity, row["status"]?.int == 1)
            if let source = row["source_code"]?.string, source != "default" || state.stockSource[sku] != nil {
                state.stockSource[sku] = source
            }
            state.stockRowsApplied += 1
        }
    }

    /// Saves the valid rows and answers `[]`, or one `{message, parameters}` per refused row.
    func basePrices(_ request: SandboxRequest) -> SandboxResponse {
        guard let rows = request.json?["prices"]?.array else {
            return Self.error(400, "\"prices\" is required. Enter and try again.")
        }
        return state.withLock { state in
            if let limit = state.settings.inputLimit, rows.count > limit {
                return Self.error(400, "Web API unable to process requests with more than %1 items in array", ["\(limit)"])
            }
            var problems: [JSON] = []
            var saved = 0
            for row in rows {
                let sku = row["sku"]?.string ?? ""
                guard state.stock[sku] != nil else {
                    problems.append(["message": "Requested product doesn't exist. SKU: %SKU", "parameters": ["SKU": .string(sku)]])
                    continue
                }
                guard let price = row["price"]?.decimal, price >= 0 else {
                    problems.append(["message": "Invalid attribute %fieldName = %fieldValue.", "parameters": ["SKU": .string(sku), "fieldName": "Price", "fieldValue": row["price"] ?? .null]])
                    continue
                }
                guard row["store_id"]?.int == 0 else {
                    problems.append(["message": "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.", "parameters": ["SKU": .string(sku), "storeId": row["store_id"] ?? .null]])
                    continue
                }
                state.prices[sku] = price
                saved += 1
            }
            return .json(200, .array(problems), effect: "prices:\(saved)")
        }
    }

    func sourceItems(_ request: SandboxRequest) -> SandboxResponse {
        guard let rows = request.json?["sourceItems"]?.array else {
            return Self.error(400, "\"sourceItems\" is required. Enter and try again.")
        }
        return state.withLock { state in
            if let limit = state.settings.inputLimit, rows.count > limit {
                return Self.error(400, "Web API unable to process requests with more than %1 items in array", ["\(limit)"])
            }
            let problems = rows.compactMap { Self.problem(with: $0, state: state) }
            guard problems.isEmpty else {
                return .json(
                    400,
                    ["message": "Validation Failed", "errors": .array(problems.map { ["message": .string($0), "parameters": []] })])
            }
            Self.apply(rows, to: &state)
            return .json(200, [], effect: "stock:\(rows.count)")
        }
    }

    func bulkSourceItems(_ request: SandboxRequest) -> SandboxResponse {
        guard let operations = request.json?.array, !operations.isEmpty else {
            return Self.error(400, "Request body must be a non-empty array of operations.")
        }
        let uuid = UUID().uuidString.lowercased()
        let submitted = now()
        return state.withLock { state in
            var items: [JSON] = []
            var queued: [MagentoSandbox.BulkOperation] = []
            for (index, operation) in operations.enumerated() {
                guard let rows = operation["sourceItems"]?.array else {
                    return Self.error(400, "Operation %1 has no \"sourceItems\".", ["\(index)"])
                }
                guard rows.count <= state.settings.asyncInputLimit else {
                    return Self.error(
                        400, "Web API unable to process requests with more than %1 items in array", ["\(state.settings.asyncInputLimit)"])
                }
                queued.append(MagentoSandbox.BulkOperation(status: 4, message: nil, rows: rows))
                items.append(
                    ["id": JSON(index), "data_hash": .string(SHA256.hash(data: operation.data).hexString), "status": "accepted"])
            }
            state.bulks[uuid] = (submitted, queued)
            return .json(
                202, ["bulk_uuid": .string(uuid), "request_items": .array(items), "errors": false], businessKey: uuid,
                effect: "bulk:\(operations.count)")
        }
    }

    /// The consumer works through open operations when the status is asked for (and it runs).
    func bulkStatus(_ request: SandboxRequest) -> SandboxResponse {
        let uuid = request.parameters["uuid"] ?? ""
        return state.withLock { state in
            guard var bulk = state.bulks[uuid] else {
                return Self.error(404, "Bulk with UUID \"%1\" does not exist.", [uuid])
            }
            if state.settings.consumerRunning {
                for index in bulk.operations.indices where bulk.operations[index].status == 4 {
                    let problems = bulk.operations[index].rows.compactMap { Self.problem(with: $0, state: state) }
                    if problems.isEmpty {
                        Self.apply(bulk.operations[index].rows, to: &state)
                        bulk.operations[index].status = 1
                        bulk.operations[index].message = "Service execution success"
                        // Done with: Magento keeps the status, not the request.
                        bulk.operations[index].rows = []
                    } else {
                        bulk.operations[index].status = 3
                        bulk.operations[index].message = problems.joined(separator: "; ")
                    }
                }
                state.bulks[uuid] = bulk
            }
            let list = bulk.operations.enumerated().map { index, operation -> JSON in
                [
                    "id": JSON(index), "topic_name": "async.V1.inventory.source-items.POST", "status": JSON(operation.status),
                    "result_message": JSON(operation.message), "error_code": operation.status == 3 ? 0 : .null,
                ]
            }
            return .json(
                200,
                [
                    "operations_list": .array(list), "bulk_id": .string(uuid), "operation_count": JSON(list.count),
                    "start_time": .string(MagentoTime.format(bulk.submittedAt)), "user_type": 2,
                ])
        }
    }

    func legacyStockItem(_ request: SandboxRequest) -> SandboxResponse {
        let sku = request.parameters["sku"] ?? ""
        guard let item = request.json?["stockItem"], let quantity = item["qty"]?.decimal else {
            return Self.error(400, "\"stockItem.qty\" is required. Enter and try again.")
        }
        guard quantity >= 0, quantity == quantity.rounded(scale: 0, .halfEven) else {
            return Self.error(400, "The stock item was unable to be saved. Please try again.")
        }
        return state.withLock { state in
            guard state.stock[sku] != nil else {
                return Self.error(404, "The product that was requested doesn't exist. Verify the product and try again.")
            }
            let count = Int(quantity.plainString) ?? 0
            state.stock[sku] = (count, item["is_in_stock"]?.bool ?? (count > 0))
            state.stockRowsApplied += 1
            return .json(200, 1, businessKey: sku, effect: "stock:1")
        }
    }

    /// `GET /V1/inventory/source-items?searchCriteria…`: one row per SKU and source, as MSI
    /// keeps them. The simulated store holds one quantity per SKU, under the source it was last
    /// written to (`default`, or the store's first source, until then); every other source it
    /// knows shows the SKU at 0, out of stock, so a reader that does not filter by its source
    /// reads the wrong row.
    func listSourceItems(_ request: SandboxRequest) -> SandboxResponse {
        let criteria: SearchCriteria
        do {
            criteria = try SearchCriteria(
                query: request.queryItems, allowedFields: ["sku", "source_code", "quantity", "status"],
                maxPageSize: state.withLock { $0.settings.maxPageSize })
        } catch { return Self.error(400, error.message) }
        // The SKUs an `in` or `eq` filter on sku names: read those, not the whole catalogue.
        let named = criteria.groups.joined().first { $0.field == "sku" && ["in", "eq"].contains($0.condition) }
            .map { $0.condition == "eq" ? [$0.value] : $0.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let (rows, defaultPageSize) = state.withLock { state -> ([[String: JSON]], Int) in
            let sources = state.settings.sources.sorted()
            let primary = sources.contains("default") ? "default" : sources.first ?? "default"
            let skus = named ?? state.stock.keys.sorted()
            var rows: [[String: JSON]] = []
            for sku in skus {
                guard let item = state.stock[sku] else { continue }
                let holder = state.stockSource[sku] ?? primary
                for source in sources {
                    let held = source == holder
                    rows.append([
                        "sku": .string(sku), "source_code": .string(source), "quantity": JSON(held ? item.quantity : 0),
                        "status": JSON(held && item.inStock ? 1 : 0),
                    ])
                }
            }
            return (rows, state.settings.defaultPageSize)
        }
        let (items, total) = criteria.apply(to: rows, defaultPageSize: defaultPageSize)
        return .json(200, ["items": .array(items.map { .object($0) }), "total_count": JSON(total), "search_criteria": [:]])
    }

    /// `GET /V1/stockItems/{sku}`: the legacy stock item, one SKU per call.
    func getLegacyStockItem(_ request: SandboxRequest) -> SandboxResponse {
        let sku = request.parameters["sku"] ?? ""
        guard let item = state.withLock({ $0.stock[sku] }) else {
            return Self.error(404, "The Product with the \"%1\" SKU doesn't exist.", [sku])
        }
        return .json(
            200,
            [
                "item_id": 1, "stock_id": 1, "qty": JSON(item.quantity), "is_in_stock": .bool(item.inStock), "is_qty_decimal": false,
                "manage_stock": true, "low_stock_date": .null,
            ])
    }

    // MARK: Customers

    func searchCustomers(_ request: SandboxRequest) -> SandboxResponse {
        let criteria: SearchCriteria
        do {
            criteria = try SearchCriteria(
                query: request.queryItems, allowedFields: ["entity_id", "email", "updated_at", "created_at"], maxPageSize: 300)
        } catch { return Self.error(400, error.message) }
        let records = state.withLock { state in
            state.customers.values.map { customer -> [String: JSON] in
                let address = customer.address
                return [
                    "id": JSON(customer.id), "entity_id": JSON(customer.id), "email": .string(customer.email),
                    "firstname": .string(customer.firstName), "lastname": .string(customer.lastName),
                    "taxvat": JSON(customer.taxvat), "website_id": 1, "created_at": .string(customer.createdAt),
                    "updated_at": .string(customer.updatedAt),
                    "custom_attributes": .array(customer.customAttributes.sorted { $0.key < $1.key }.map {
                        ["attribute_code": .string($0.key), "value": .string($0.value)]
                    }),
                    "addresses": [[
                        "firstname": .string(address.firstName), "lastname": .string(address.lastName),
                        "street": [.string(address.street)], "city": .string(address.city),
                        "region": ["region": .string(address.region)], "postcode": .string(address.postcode),
                        "country_id": "TR", "telephone": .string(address.telephone), "vat_id": JSON(address.vatID),
                        "default_billing": true,
                    ]],
                ]
            }
        }
        let (items, total) = criteria.apply(to: records, defaultPageSize: 20)
        // The search result does not carry entity_id; it was only there to filter and sort on.
        let cleaned = items.map { item in item.filter { $0.key != "entity_id" } }
        return .json(200, ["items": .array(cleaned.map { .object($0) }), "total_count": JSON(total)])
    }
}
