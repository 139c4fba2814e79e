import Foundation
import KopruCore
import Testing

@Suite("County directory")
struct CountyDirectoryTests {
    static let directory = CountyDirectory([
        .init(city: "İSTANBUL", county: "ŞİŞLİ"), .init(city: "İSTANBUL", county: "KADIKÖY"),
        .init(city: "İSTANBUL", county: "BEŞİKTAŞ"), .init(city: "ŞANLIURFA", county: "EYYÜBİYE"),
        .init(city: "KAHRAMANMARAŞ", county: "ONİKİŞUBAT"), .init(city: "DÜZCE", county: "YIĞILCA"),
        .init(city: "DÜZCE", county: "DÜZCE"), .init(city: "IĞDIR", county: "IĞDIR"),
        .init(city: "İSTANBUL", county: "EYÜPSULTAN"), .init(city: "ANKARA", county: "KAZAN"),
    ])

    @Test func countiesKnownUnderAnotherName() {
        #expect(Self.directory.resolve(city: "İstanbul", county: "Eyüp") == .found(.init(city: "İSTANBUL", county: "EYÜPSULTAN")))
        #expect(Self.directory.resolve(city: "Ankara", county: "Kahramankazan") == .found(.init(city: "ANKARA", county: "KAZAN")))
    }

    @Test func anOperatorOverrideWinsOverTheRules() {
        var directory = Self.directory
        directory.addOverride(city: "istanbul", county: "Mecidiyeköy", to: .init(city: "İSTANBUL", county: "ŞİŞLİ"))
        #expect(directory.resolve(city: "İSTANBUL", county: "mecidiyekoy") == .found(.init(city: "İSTANBUL", county: "ŞİŞLİ")))
        #expect(Self.directory.resolve(city: "İSTANBUL", county: "mecidiyekoy") != .found(.init(city: "İSTANBUL", county: "ŞİŞLİ")))
    }

    @Test(arguments: [("30x20x40", "8"), ("50x40x30", "20"), ("160x200x25", "266.667"), ("12.5x10x8", "0.333"), ("8,5", "8.5")])
    func desiFromDimensions(text: String, desi: String) {
        #expect(Parcel(parsing: text)?.desi() == Decimal(string: desi))
    }

    @Test func desiDivisorIsTheCarriers() {
        #expect(Parcel(parsing: "50x40x30")?.desi(divisor: 5000) == 12)
        #expect(Parcel(parsing: "0x1x2") == nil && Parcel(parsing: "10x10") == nil && Parcel(parsing: "abc") == nil)
    }

    @Test(arguments: [
        ("istanbul", "şişli"), ("Istanbul", "SISLI"), ("İSTANBUL", "Şişli "), ("  istanbul ", "sisli"),
    ])
    func spellingsOfOnePlaceFindIt(city: String, county: String) {
        #expect(Self.directory.resolve(city: city, county: county) == .found(.init(city: "İSTANBUL", county: "ŞİŞLİ")))
    }

    @Test func otherNamesOfProvincesAndCentralCounties() {
        #expect(Self.directory.resolve(city: "Urfa", county: "Eyyübiye") == .found(.init(city: "ŞANLIURFA", county: "EYYÜBİYE")))
        #expect(Self.directory.resolve(city: "K.Maraş", county: "Onikişubat") == .found(.init(city: "KAHRAMANMARAŞ", county: "ONİKİŞUBAT")))
        #expect(Self.directory.resolve(city: "Kahraman Maraş", county: "onikisubat") == .found(.init(city: "KAHRAMANMARAŞ", county: "ONİKİŞUBAT")))
        #expect(Self.directory.resolve(city: "Düzce", county: "Merkez") == .found(.init(city: "DÜZCE", county: "DÜZCE")))
        #expect(Self.directory.resolve(city: "iğdır", county: "") == .found(.init(city: "IĞDIR", county: "IĞDIR")))
    }

    @Test func whatCannotBeResolvedComesBackWithTheNearestNames() {
        guard case .unknownCity(let typed, let cities) = Self.directory.resolve(city: "Istanbull", county: "Şişli") else {
            Issue.record("expected an unknown city")
            return
        }
        #expect(typed == "Istanbull" && cities.first == "İSTANBUL" && cities.count == 3)
        guard case .unknownCounty(let city, let county, let nearest) = Self.directory.resolve(city: "istanbul", county: "Kadikoyy") else {
            Issue.record("expected an unknown county")
            return
        }
        #expect(city == "İSTANBUL" && county == "Kadikoyy" && nearest.first == "KADIKÖY")
    }
}
