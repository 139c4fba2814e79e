import Foundation
import KopruCore
import Testing

@Suite("JSON text")
struct JSONTests {
    @Test func numbersStayExactAndTextRoundTrips() throws {
        let text = #"{"b":[1,-2,349.90,0.1,1e3,12345678901234567890,-0.005],"a":"Şişli \"çarşı\"\n\t/ \u00e7 \ud83d\ude00","n":null,"t":true,"f":false}"#
        let json = try JSON.parse(Data(text.utf8))
        #expect(json["b"]?[2]?.decimal == Decimal(string: "349.90"))
        #expect(json["b"]?[3]?.decimal == Decimal(string: "0.1"))
        #expect(json["b"]?[4]?.int == 1000)
        #expect(json["b"]?[5]?.decimal == Decimal(string: "12345678901234567890"))
        #expect(json["a"]?.string == "Şişli \"çarşı\"\n\t/ ç 😀")
        let written = String(decoding: json.data, as: UTF8.self)
        #expect(written.hasPrefix(#"{"a":"Şişli \"çarşı\"\n\t/ ç 😀","b":[1,-2,349.9,0.1,1000,12345678901234567890,-0.005],"f":false"#))
        #expect(try JSON.parse(json.data) == json)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\u{01}\"", "tru", "[1] 2", "\"\\ud800\""])
    func malformedTextIsRefused(_ text: String) {
        #expect(throws: (any Error).self) { try JSON.parse(Data(text.utf8)) }
    }
}
