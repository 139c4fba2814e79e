/// Turkish phone numbers as carriers and ERPs want them: the national form, `0` and ten digits
/// ("+90 532 123 45 67", "0532 123 4567" and "5321234567" all become "05321234567").
public enum TurkishPhone {
    /// The national form, or the digits alone when they are not a Turkish number (a foreign
    /// number goes through as typed, for the target's own length rule to judge).
    public static func national(_ text: String) -> String {
        let digits = String(text.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
        switch digits.count {
        case 12 where digits.hasPrefix("90"): return "0" + digits.dropFirst(2)
        case 10 where !digits.hasPrefix("0"): return "0" + digits
        default: return digits
        }
    }
}
