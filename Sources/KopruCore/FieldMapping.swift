import Foundation

/// One step applied to a field on its way to a target, named in configuration: `trim`,
/// `upper`, `lower`, `upper-tr`, `lower-tr` (Turkish casing: i→İ, ı→I), `digits` (keep 0-9),
/// `round2` (money to 2 places, half away from zero), `integer`, `string`, `number`. Chain with
/// `|`: `trim|upper-tr`.
public enum FieldTransform: String, Sendable, CaseIterable {
    case trim, upper, lower, digits, round2, integer, string, number
    case upperTurkish = "upper-tr"
    case lowerTurkish = "lower-tr"

    public static func chain(_ text: String) throws(ValidationError) -> [FieldTransform] {
        try text.split(separator: "|").map { name throws(ValidationError) -> FieldTransform in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let transform = FieldTransform(rawValue: trimmed) else {
                throw ValidationError(
                    field: "transform", rule: .format,
                    message: "\"\(trimmed)\" is not a transform (known: \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return transform
        }
    }

    public func apply(_ value: JSON) -> JSON {
        switch self {
        case .trim: return value.string.map { .string($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? value
        case .upper: return value.string.map { .string($0.uppercased()) } ?? value
        case .lower: return value.string.map { .string($0.lowercased()) } ?? value
        case .upperTurkish: return value.string.map { .string(TurkishText.uppercased($0)) } ?? value
        case .lowerTurkish: return value.string.map { .string(TurkishText.lowercased($0)) } ?? value
        case .digits: return value.string.map { .string($0.filter { ("0"..."9").contains($0) }) } ?? value
        case .round2: return value.decimal.map { .number($0.rounded(scale: 2, .halfAwayFromZero)) } ?? value
        case .integer: return value.decimal.map { .number($0.rounded(scale: 0, .halfAwayFromZero)) } ?? value
        case .string: return value.string.map { .string($0) } ?? value
        case .number: return value.decimal.map { .number($0) } ?? value
        }
    }
}

extension Array where Element == FieldTransform {
    public func apply(_ value: JSON) -> JSON { reduce(value) { $1.apply($0) } }
}

/// Our SKU ⇄ a target's product code, from a table; codes not in the table pass through
/// unchanged (most shops use the ERP's code as the SKU).
public struct SKUMap: Hashable, Sendable {
    private var toCode: [String: String] = [:]
    private var toSKU: [String: String] = [:]

    public init(_ table: [String: String] = [:]) {
        for (sku, code) in table {
            toCode[sku] = code
            toSKU[code] = sku
        }
    }

    public func code(for sku: SKU) -> String { toCode[sku.rawValue] ?? sku.rawValue }
    public func sku(for code: String) -> SKU { SKU(toSKU[code] ?? code) }
    public var isEmpty: Bool { toCode.isEmpty }
}
