/// A buyer. `taxNumber` is a TCKN (11 digits, people) or VKN (10 digits, companies).
public struct Customer: Hashable, Sendable, Codable {
    public var id: CustomerID?
    public var email: String?
    public var firstName: String
    public var lastName: String
    public var phone: String?
    public var company: String?
    public var taxNumber: String?
    public var taxOffice: String?

    public init(
        id: CustomerID? = nil, email: String? = nil, firstName: String, lastName: String, phone: String? = nil,
        company: String? = nil, taxNumber: String? = nil, taxOffice: String? = nil
    ) {
        self.id = id
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.phone = phone
        self.company = company
        self.taxNumber = taxNumber
        self.taxOffice = taxOffice
    }

    public var fullName: String { TurkishText.normalizingWhitespace("\(firstName) \(lastName)") }
}

/// A postal address in Türkiye's terms: `city` is the il (province), `district` the ilçe.
public struct Address: Hashable, Sendable, Codable {
    public var firstName: String
    public var lastName: String
    public var company: String?
    public var line1: String
    public var line2: String?
    public var district: String
    public var city: String
    public var postalCode: String?
    /// ISO 3166-1 alpha-2.
    public var countryCode: String
    public var phone: String?

    public init(
        firstName: String, lastName: String, company: String? = nil, line1: String, line2: String? = nil,
        district: String, city: String, postalCode: String? = nil, countryCode: String = "TR", phone: String? = nil
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.company = company
        self.line1 = line1
        self.line2 = line2
        self.district = district
        self.city = city
        self.postalCode = postalCode
        self.countryCode = countryCode
        self.phone = phone
    }

    public func validate(prefix: String) -> Validator {
        var check = Validator(prefix: prefix)
        check.require(firstName, "firstName")
        check.require(lastName, "lastName")
        check.require(line1, "line1")
        check.require(city, "city")
        check.require(district, "district")
        if countryCode.count != 2 { check.fail("countryCode", .format, "must be an ISO 3166-1 alpha-2 code") }
        return check
    }
}
