import Foundation

/// A sellable thing as the merchant thinks of it; its `variants` carry the SKUs.
public struct Product: Hashable, Sendable, Codable {
    public var id: ProductID
    public var name: String
    public var description: String?
    public var brand: String?
    public var categoryPath: [String]
    /// VAT rate in percent (KDV: 0, 1, 10 or 20 at the time of writing).
    public var vatRatePercent: Decimal
    public var variants: [Variant]
    public var attributes: [String: String]

    public init(
        id: ProductID, name: String, description: String? = nil, brand: String? = nil, categoryPath: [String] = [],
        vatRatePercent: Decimal = 20, variants: [Variant], attributes: [String: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.brand = brand
        self.categoryPath = categoryPath
        self.vatRatePercent = vatRatePercent
        self.variants = variants
        self.attributes = attributes
    }

    public func validate() throws(ValidationErrors) {
        var check = Validator()
        check.require(id.rawValue, "id")
        check.require(name, "name")
        if vatRatePercent < 0 || vatRatePercent > 100 {
            check.fail("vatRatePercent", .oneOf, "must be between 0 and 100 (got \(vatRatePercent))")
        }
        if variants.isEmpty { check.fail("variants", .required, "needs at least one variant") }
        var seen = Set<SKU>()
        for (index, variant) in variants.enumerated() {
            var line = Validator(prefix: "variants[\(index)]")
            line.require(variant.sku.rawValue, "sku")
            if !seen.insert(variant.sku).inserted { line.fail("sku", .format, "duplicates SKU \(variant.sku)") }
            if let grams = variant.weightGrams, grams < 0 { line.fail("weightGrams", .nonNegative, "must not be negative") }
            check.merge(line)
        }
        try check.check()
    }
}

/// One SKU of a product (size, colour, ...). Weight in grams and dimensions in millimetres,
/// integers, so no carrier's desi is computed from a rounded float.
public struct Variant: Hashable, Sendable, Codable {
    public var sku: SKU
    public var barcode: String?
    public var options: [String: String]
    public var weightGrams: Int?
    public var dimensionsMillimetres: Dimensions?

    public init(
        sku: SKU, barcode: String? = nil, options: [String: String] = [:], weightGrams: Int? = nil,
        dimensionsMillimetres: Dimensions? = nil
    ) {
        self.sku = sku
        self.barcode = barcode
        self.options = options
        self.weightGrams = weightGrams
        self.dimensionsMillimetres = dimensionsMillimetres
    }
}

public struct Dimensions: Hashable, Sendable, Codable {
    public var length: Int
    public var width: Int
    public var height: Int

    public init(length: Int, width: Int, height: Int) {
        self.length = length
        self.width = width
        self.height = height
    }
}

/// How many units of a SKU a location holds. Quantities are integers, never fractions.
public struct StockLevel: Hashable, Sendable, Codable {
    public var sku: SKU
    public var quantity: Int
    /// A warehouse or Magento source code; nil for the default location.
    public var location: String?
    public var observedAt: Date

    public init(sku: SKU, quantity: Int, location: String? = nil, observedAt: Date) {
        self.sku = sku
        self.quantity = quantity
        self.location = location
        self.observedAt = observedAt
    }
}

/// The selling price of a SKU, VAT included, with an optional crossed-out list price.
public struct Price: Hashable, Sendable, Codable {
    public var sku: SKU
    public var amount: Money
    public var listAmount: Money?

    public init(sku: SKU, amount: Money, listAmount: Money? = nil) {
        self.sku = sku
        self.amount = amount
        self.listAmount = listAmount
    }

    public func validate() throws(ValidationErrors) {
        var check = Validator()
        check.require(sku.rawValue, "sku")
        if amount.isNegative { check.fail("amount", .nonNegative, "must not be negative") }
        if let list = listAmount, list.currency != amount.currency {
            check.fail("listAmount", .currency, "must be in \(amount.currency) like amount")
        }
        try check.check()
    }
}
