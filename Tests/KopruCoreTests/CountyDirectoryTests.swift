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
    ])

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
