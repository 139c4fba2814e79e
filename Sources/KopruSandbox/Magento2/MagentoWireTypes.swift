import Foundation
import KopruCore

/// The JSON type of every request field the simulated routes read, from the service interfaces
/// the spec's bodies follow (`int`, `float`, `string`, `bool`). A field sent with another type is
/// refused in Magento's words for a parameter it cannot process, naming the field.
///
/// Stricter than a real store in one respect, on purpose: Magento's input processor casts a
/// numeric string into an `int`/`float` field where PHP would; the sandbox refuses it so that a
/// connector never relies on that cast (a quoted amount is how money turns into text).
enum MagentoWireTypes {
    typealias Schema = [String: WireReader.Expected]

    static let adminToken: Schema = ["username": .string, "password": .string]

    static let comment: Schema = [
        "statusHistory": .object, "statusHistory.comment": .string, "statusHistory.status": .string,
        "statusHistory.parent_id": .integer, "statusHistory.is_customer_notified": .integer,
        "statusHistory.is_visible_on_front": .integer,
    ]

    static let documentItems: Schema = ["items": .array, "items[]": .object, "items[].order_item_id": .integer, "items[].qty": .number]

    static let ship: Schema = documentItems.merging([
        "notify": .boolean, "appendComment": .boolean, "comment": .object, "comment.comment": .string,
        "comment.is_visible_on_front": .integer, "tracks": .array, "tracks[]": .object, "tracks[].track_number": .string,
        "tracks[].title": .string, "tracks[].carrier_code": .string, "arguments": .object,
        "arguments.extension_attributes": .object, "arguments.extension_attributes.source_code": .string,
    ]) { $1 }

    static let invoice: Schema = documentItems.merging(["capture": .boolean, "notify": .boolean, "appendComment": .boolean]) { $1 }

    static let sourceItemRow: Schema = [
        "sourceItems": .array, "sourceItems[]": .object, "sourceItems[].sku": .string, "sourceItems[].source_code": .string,
        "sourceItems[].quantity": .number, "sourceItems[].status": .integer,
    ]

    /// The bulk route takes an array of the synchronous bodies.
    static let bulkSourceItems: Schema = Dictionary(
        uniqueKeysWithValues: sourceItemRow.map { ("[].\($0.key)", $0.value) } + [("[]", .object)])

    static let legacyStockItem: Schema = ["stockItem": .object, "stockItem.qty": .number, "stockItem.is_in_stock": .boolean]

    static let basePrices: Schema = [
        "prices": .array, "prices[]": .object, "prices[].sku": .string, "prices[].price": .number, "prices[].store_id": .integer,
    ]

    static let typeNames: [WireReader.Expected: String] = [
        .string: "string", .integer: "int", .number: "float", .boolean: "bool", .object: "array", .array: "array",
    ]

    /// Magento's answer to a parameter of the wrong type.
    static func refusal(_ problem: WireReader.WrongType) -> SandboxResponse {
        .json(
            400,
            [
                "message": "Error occurred during \"%field_name\" processing. Invalid type for value: \"%value\". Expected Type: \"%type\".",
                "parameters": [
                    "field_name": .string(problem.field), "value": .string(problem.found),
                    "type": .string(typeNames[problem.expected] ?? problem.expected.rawValue),
                ],
            ])
    }

    /// Nil when the body's fields have their types (or there is no JSON body to read).
    static func refusal(_ request: SandboxRequest, schema: Schema) -> SandboxResponse? {
        guard !schema.isEmpty, let body = request.json else { return nil }
        do { try WireReader.check(body, schema: schema) } catch { return refusal(error) }
        return nil
    }
}
