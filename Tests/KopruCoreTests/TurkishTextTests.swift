import KopruCore
import Testing

@Suite("Turkish text")
struct TurkishTextTests {
    @Test("tr-TR upper case", arguments: [
        ("istanbul", "İSTANBUL"), ("ılık", "ILIK"), ("Şişli", "ŞİŞLİ"), ("çağrı ığdır", "ÇAĞRI IĞDIR"),
        ("Gümüşhane", "GÜMÜŞHANE"), ("izmir", "İZMİR"), ("ÖRNEK", "ÖRNEK"), ("abc-123", "ABC-123"),
    ])
    func upper(_ input: String, _ expected: String) {
        #expect(TurkishText.uppercased(input) == expected)
    }

    @Test("tr-TR lower case", arguments: [("İSTANBUL", "istanbul"), ("ILIK", "ılık"), ("ŞİŞLİ", "şişli"), ("IĞDIR", "ığdır")])
    func lower(_ input: String, _ expected: String) {
        #expect(TurkishText.lowercased(input) == expected)
    }

    @Test("white space collapses and trims")
    func whitespace() {
        #expect(TurkishText.normalizingWhitespace("  Atatürk\t Cad.\n No:\u{00A0}5  ") == "Atatürk Cad. No: 5")
        #expect(TurkishText.normalizingWhitespace(" \n ") == "")
    }

    @Test("truncation never splits a character")
    func truncation() {
        #expect(TurkishText.truncated("ŞİŞLİ", toCharacters: 3) == "ŞİŞ")
        // Ş, İ are two bytes each in UTF-8: 5 bytes hold two of them, not two and a half.
        #expect(TurkishText.truncated("ŞİŞLİ", toUTF8Bytes: 5) == "Şİ")
        #expect(TurkishText.truncated("ŞİŞLİ", toUTF8Bytes: 6) == "ŞİŞ")
        #expect(TurkishText.truncated("abc", toUTF8Bytes: 10) == "abc")
        #expect(TurkishText.truncated("abc", toCharacters: 0) == "")
    }

    @Test("match keys equate the ways a name gets typed")
    func matchKey() {
        let key = TurkishText.matchKey("İSTANBUL")
        for variant in ["Istanbul", "istanbul", " İstanbul ", "ISTANBUL", "i̇stanbul"] {
            #expect(TurkishText.matchKey(variant) == key, "\(variant)")
        }
        #expect(TurkishText.matchKey("Şişli") == TurkishText.matchKey("SISLI"))
        #expect(TurkishText.matchKey("Ankara") != key)
    }
}
