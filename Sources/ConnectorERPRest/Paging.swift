import Foundation
import HTTPTypes
import KopruHTTPClient
import KopruConnectors
import KopruCore

/// Reading a list to its end by the answer's own signals. A page shorter than asked is not one:
/// ERPs cap page sizes without saying so (Logo lists 25, SAP B1 20 by default), and a sync that
/// stopped there would leave the rest of the catalogue's stock unread and the shop overselling.
extension RESTERPConnector {
    /// Where the next request of a listing goes. Opaque to the engine, which only passes it back.
    enum ListCursor {
        /// Page `number`, after `seen` rows.
        case page(number: Int, seen: Int)
        /// A link the ERP gave.
        case link(URL)

        init?(_ text: String?) {
            guard let text else { return nil }
            if let url = URL(string: text), url.scheme != nil {
                self = .link(url)
                return
            }
            let parts = text.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2 else { return nil }
            self = .page(number: parts[0], seen: parts[1])
        }

        var text: String {
            switch self {
            case .page(let number, let seen): "\(number):\(seen)"
            case .link(let url): url.absoluteString
            }
        }
    }

    /// One page of a listing and the cursor of the next, nil at the end.
    func list(_ path: String, cursor text: String?) async throws -> ([JSON], String?) {
        let cursor = ListCursor(text)
        let url: URL
        var page = 1
        var seen = 0
        switch (cursor, profile.pagination) {
        case (.some(.link(let next)), _): url = next
        case (.some(.page(let number, let before)), .page(let pageParam, let sizeParam, let size)):
            (page, seen) = (number, before)
            url = profile.url(path, query: [(pageParam, "\(number)"), (sizeParam, "\(size)")])
        case (_, .page(let pageParam, let sizeParam, let size)): url = profile.url(path, query: [(pageParam, "1"), (sizeParam, "\(size)")])
        default: url = profile.url(path)
        }
        let response = try await send(.get, url)
        guard response.status == 200 else { throw Self.failure(response) }
        guard let json = try? JSON.parse(response.body), let rows = json.at(pointer: profile.stockList)?.array else {
            throw ConnectorError.permanent("the \(path) answer is not a JSON list at \"\(profile.stockList)\"", field: "settings.stock.list")
        }
        seen += rows.count
        let total = total(in: response, json)
        let link = Self.nextLink(response.headers[HTTPField.Name("Link")!], relativeTo: url)
        switch profile.pagination {
        case .page:
            // An empty page or the stated total ends the list; a short page does not.
            if rows.isEmpty || total.map({ seen >= $0 }) ?? false { return (rows, nil) }
            return (rows, ListCursor.page(number: page + 1, seen: seen).text)
        case .link, .none:
            if let link {
                // The bearer key goes with every request: never to a host the profile does not name.
                guard link.scheme == profile.baseURL.scheme, link.host == profile.baseURL.host, link.port == profile.baseURL.port else {
                    throw ConnectorError.permanent("the ERP's next link leaves its host (\(link.host ?? "?")); not followed", field: "settings.baseURL")
                }
                return (rows, ListCursor.link(link).text)
            }
            // Only a first answer can be checked against the total: a linked page's count is its own.
            if case .none = profile.pagination, cursor == nil, let total, seen < total {
                throw ConnectorError.permanent(
                    "the ERP sent \(seen) of \(total) \(path) rows in one answer and no next link: it pages, so set pagination (page or link)",
                    field: "settings.pagination")
            }
            return (rows, nil)
        }
    }

    /// The list's length as the answer states it, from `pagination.total` or the total header.
    func total(in response: InboundResponse, _ json: JSON) -> Int? {
        if let pointer = profile.totalPointer { return json.at(pointer: pointer)?.int }
        return HTTPField.Name(profile.totalHeader).flatMap { response.headers[$0] }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The `rel="next"` target of a `Link` header, resolved against the request it answered
    /// (ERPs send `/api/v2/stocks?after=…` as often as a full URL).
    static func nextLink(_ header: String?, relativeTo base: URL) -> URL? {
        guard let header else { return nil }
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            if let start = part.firstIndex(of: "<"), let end = part.firstIndex(of: ">"), start < end {
                return URL(string: String(part[part.index(after: start)..<end]), relativeTo: base)?.absoluteURL
            }
        }
        return nil
    }
}
