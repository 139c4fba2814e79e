import Foundation

/// The city and county names a carrier accepts (Horoz's `listCounties`), and how an address as a
/// shopper typed it finds them: case, dotted and dotless i, Turkish letters, spaces and dots do
/// not matter ("istanbul", "İSTANBUL", "Istanbul"), and a few common other names of provinces
/// ("Urfa", "Antep", "Maraş", "İçel", "Afyon") are known. What cannot be resolved comes back with
/// the nearest names, so an operator can fix the mapping instead of guessing.
public struct CountyDirectory: Sendable {
    /// A city and county exactly as the carrier spells them.
    public struct Place: Hashable, Sendable, Codable {
        public var city: String
        public var county: String

        public init(city: String, county: String) {
            self.city = city
            self.county = county
        }
    }

    public enum Resolution: Hashable, Sendable {
        case found(Place)
        case unknownCity(String, nearest: [String])
        case unknownCounty(city: String, county: String, nearest: [String])
    }

    /// Other names a province goes by, by match key.
    static let cityAliases: [String: String] = [
        "URFA": "SANLIURFA", "ANTEP": "GAZIANTEP", "MARAS": "KAHRAMANMARAS", "KMARAS": "KAHRAMANMARAS", "ICEL": "MERSIN",
        "AFYON": "AFYONKARAHISAR", "IZMIT": "KOCAELI", "ADAPAZARI": "SAKARYA", "ANTAKYA": "HATAY",
    ]

    /// Counties known by another name than the list's (renamed ones, mostly), by city key: the
    /// other name's key → the list's key. Both ways where the list may carry either name.
    static let countyAliases: [String: [String: String]] = [
        "ISTANBUL": ["EYUP": "EYUPSULTAN"],
        "ANKARA": ["KAHRAMANKAZAN": "KAZAN", "KAZAN": "KAHRAMANKAZAN"],
        "ADIYAMAN": ["KAHTA": "KAHTA"],
        "KIRIKKALE": ["YAHSIYAN": "YAHSIHAN", "YAHSIHAN": "YAHSIYAN"],
    ]

    private var cities: [String: String] = [:]
    private var counties: [String: [String: String]] = [:]
    /// An operator's own answers for addresses the rules cannot place, by the typed pair's keys.
    private var overrides: [String: Place] = [:]

    public init(_ places: [Place]) {
        for place in places {
            let city = Self.key(place.city)
            cities[city] = place.city
            counties[city, default: [:]][Self.key(place.county)] = place.county
        }
    }

    public var count: Int { counties.values.reduce(0) { $0 + $1.count } }

    /// Every place, as the carrier spells it.
    public var places: [Place] {
        counties.flatMap { city, known in known.values.map { Place(city: cities[city] ?? city, county: $0) } }
    }

    /// Sends an address typed as `city`/`county` (any spelling) to `place`, e.g. a neighbourhood
    /// a shopper wrote where the county belongs. An empty `county` matches any county of `city`.
    public mutating func addOverride(city: String, county: String, to place: Place) {
        overrides["\(Self.key(city))/\(Self.key(county))"] = place
    }

    public func resolve(city: String, county: String) -> Resolution {
        if let place = overrides["\(Self.key(city))/\(Self.key(county))"] ?? overrides["\(Self.key(city))/"] {
            return .found(place)
        }
        var cityKey = Self.key(city)
        if cities[cityKey] == nil, let alias = Self.cityAliases[cityKey] { cityKey = alias }
        guard let cityName = cities[cityKey], let known = counties[cityKey] else {
            return .unknownCity(city, nearest: Self.nearest(to: cityKey, in: cities))
        }
        let countyKey = Self.key(county)
        if let countyName = known[countyKey] ?? Self.countyAliases[cityKey]?[countyKey].flatMap({ known[$0] }) {
            return .found(Place(city: cityName, county: countyName))
        }
        // "Merkez" is how many addresses name a province's central county.
        if countyKey.isEmpty || countyKey == "MERKEZ" || countyKey == cityKey, let central = known[cityKey] ?? known["MERKEZ"] {
            return .found(Place(city: cityName, county: central))
        }
        return .unknownCounty(city: cityName, county: county, nearest: Self.nearest(to: countyKey, in: known))
    }

    /// Turkish-insensitive, without spaces and punctuation.
    static func key(_ text: String) -> String {
        String(TurkishText.matchKey(text).unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
    }

    /// Up to three names whose keys are closest (edit distance), closest first.
    static func nearest(to key: String, in names: [String: String], limit: Int = 3) -> [String] {
        names.map { (distance(key, $0.key), $0.value) }.sorted { $0 < $1 }.prefix(limit).map(\.1)
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
