/// Text rules for Turkish data: tr-TR casing (i ↔ İ, ı ↔ I), whitespace, and length limits
/// measured the way each target measures them.
public enum TurkishText {
    /// "istanbul" → "İSTANBUL", "ılık" → "ILIK", "Şişli" → "ŞİŞLİ".
    public static func uppercased(_ text: String) -> String {
        replacingScalars(in: text, ["i": "İ", "ı": "I"]).uppercased()
    }

    /// "İSTANBUL" → "istanbul", "ILIK" → "ılık".
    public static func lowercased(_ text: String) -> String {
        replacingScalars(in: text, ["I": "ı", "İ": "i"]).lowercased()
    }

    /// The dotted/dotless pairs are the only letters whose case differs from the root locale;
    /// map them first, and the standard casing does the rest.
    private static func replacingScalars(in text: String, _ table: [Unicode.Scalar: Unicode.Scalar]) -> String {
        var mapped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { mapped.append(table[scalar] ?? scalar) }
        return String(mapped)
    }

    /// Collapses every run of white space (tabs, newlines, no-break spaces) to one space and trims.
    public static func normalizingWhitespace(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for char in text {
            if char.isWhitespace {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(char)
            }
        }
        return result
    }

    /// At most `limit` user-perceived characters.
    public static func truncated(_ text: String, toCharacters limit: Int) -> String {
        String(text.prefix(max(0, limit)))
    }

    /// At most `limit` UTF-8 bytes, never cutting a character in half ("Ş" is two bytes).
    public static func truncated(_ text: String, toUTF8Bytes limit: Int) -> String {
        var bytes = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].utf8.count
            if bytes + size > limit { break }
            bytes += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }

    /// A key for matching names typed in different ways: "Istanbul", "İSTANBUL", "istanbul",
    /// "  Şişli " and "SISLI" all give the same key. For lookups only; never send it anywhere.
    public static func matchKey(_ text: String) -> String {
        let upper = uppercased(normalizingWhitespace(text))
        var key = String.UnicodeScalarView()
        for scalar in upper.unicodeScalars {
            switch scalar {
            case "İ": key.append("I")
            case "Ş": key.append("S")
            case "Ğ": key.append("G")
            case "Ü": key.append("U")
            case "Ö": key.append("O")
            case "Ç": key.append("C")
            case "Â": key.append("A")
            case "Î": key.append("I")
            case "Û": key.append("U")
            case "\u{0307}": continue  // a combining dot left over from a decomposed "i̇"
            default: key.append(scalar)
            }
        }
        return String(key)
    }
}
