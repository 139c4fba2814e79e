import Foundation

/// Markup whose interpolated text is escaped unless it is markup itself, so a connection name,
/// an error message or a log line from a target can never become part of the page.
struct HTML: ExpressibleByStringInterpolation, Sendable {
    var raw: String

    init(raw: String) { self.raw = raw }
    init(stringLiteral value: String) { raw = value }
    init(stringInterpolation: Interpolation) { raw = stringInterpolation.raw }

    struct Interpolation: StringInterpolationProtocol {
        var raw = ""
        init(literalCapacity: Int, interpolationCount: Int) { raw.reserveCapacity(literalCapacity + interpolationCount * 16) }
        mutating func appendLiteral(_ literal: String) { raw += literal }
        mutating func appendInterpolation(_ text: String) { raw += HTML.escape(text) }
        mutating func appendInterpolation(_ text: Substring) { raw += HTML.escape(String(text)) }
        mutating func appendInterpolation(_ number: Int) { raw += "\(number)" }
        mutating func appendInterpolation(_ number: Int64) { raw += "\(number)" }
        mutating func appendInterpolation(_ markup: HTML) { raw += markup.raw }
        mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { raw += part.raw } }
        mutating func appendInterpolation(_ markup: HTML?) { raw += markup?.raw ?? "" }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Percent-encodes a query value.
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
