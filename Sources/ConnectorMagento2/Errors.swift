import Foundation
import HTTPTypes
import KopruConnectors
import KopruCore

/// Magento's error body is `{"message": "...%1 ...", "parameters": [...] | {...}}`, sometimes with
/// `errors: [{message, parameters}]`; the message is a template to fill before anyone reads it.
enum Magento2Errors {
    static func message(from body: Data) -> String {
        guard let json = try? JSON.parse(body) else {
            return String(decoding: body.prefix(300), as: UTF8.self)
        }
        var text = fill(json["message"]?.string ?? "(no message)", json["parameters"])
        let details = (json["errors"]?.array ?? []).compactMap { error in
            error["message"]?.string.map { fill($0, error["parameters"]) }
        }
        if !details.isEmpty { text += ": " + details.joined(separator: "; ") }
        return text
    }

    static func fill(_ template: String, _ parameters: JSON?) -> String {
        var text = template
        if let list = parameters?.array {
            for (index, value) in list.enumerated().reversed() {
                text = text.replacingOccurrences(of: "%\(index + 1)", with: value.string ?? "")
            }
        } else if let map = parameters?.object {
            for (key, value) in map.sorted(by: { $0.key.count > $1.key.count }) {
                text = text.replacingOccurrences(of: "%\(key)", with: value.string ?? "")
            }
        }
        return text
    }

    /// Magento's own words decide first: "try again" means a passing fault (a lock, a deadlock).
    static func classify(status: Int, body: Data, headers: HTTPFields) -> ConnectorError {
        let text = message(from: body)
        if status == 400, text.lowercased().contains("try again"), !text.contains("is required") {
            return .retryable("HTTP 400: \(text)")
        }
        return .http(status: status, message: text, headers: headers)
    }
}
