import Foundation
import KopruCore

/// `GET stocks` and `GET prices`, paged as real ERPs page: `?page=&page_size=` (1-based), a
/// keyset `?after=CODE` behind `Link: rel="next"`, a default size when none is asked for, and a
/// maximum that is either refused or applied without a word.
extension ERPRoutes {
    struct ListPage {
        var codes: ArraySlice<String>
        var total: Int
        /// Path-absolute, as many ERPs send it: the client resolves it against its request.
        var next: String?
    }

    /// The page of `codes` (sorted) the request asks for, or a 400 naming the bad parameter.
    static func page(of codes: [String], _ request: SandboxRequest, settings: ERPSandbox.Settings) -> Result<ListPage, WireTypeError> {
        // Unpaged and without a default size, the whole list (the seed's contract); any size
        // asked for or defaulted is held to the maximum.
        var size = settings.defaultPageSize ?? codes.count
        var limited = settings.defaultPageSize != nil
        if let text = request.query("page_size") {
            guard let asked = Int(text), asked >= 1 else {
                return .failure(WireTypeError(status: 400, field: "page_size", reason: "must be a whole number ≥ 1"))
            }
            guard asked <= settings.maxPageSize || settings.capsPageSizeSilently else {
                return .failure(WireTypeError(status: 400, field: "page_size", reason: "must be 1…\(settings.maxPageSize)"))
            }
            size = asked
            limited = true
        } else if request.query("page") != nil || request.query("after") != nil {
            size = settings.defaultPageSize ?? 100
            limited = true
        }
        if limited { size = min(size, settings.maxPageSize) }
        size = max(1, size)
        let start: Int
        if let after = request.query("after") {
            start = codes.partitioningIndex { $0 > after }
        } else if let text = request.query("page") {
            guard let number = Int(text), number >= 1 else {
                return .failure(WireTypeError(status: 400, field: "page", reason: "must be a whole number ≥ 1"))
            }
            start = min((number - 1) * size, codes.count)
        } else {
            start = 0
        }
        let slice = codes[start..<min(start + size, codes.count)]
        var next: String?
        if settings.sendsNextLinks, slice.endIndex < codes.count, let last = slice.last {
            var query = [("after", last)]
            if let asked = request.query("page_size") { query.append(("page_size", asked)) }
            next = request.path + "?" + query.map { "\($0)=\(Self.encoded($1))" }.joined(separator: "&")
        }
        return .success(ListPage(codes: slice, total: codes.count, next: next))
    }

    static func encoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? value
    }

    static func listAnswer(_ rows: [JSON], _ page: ListPage, settings: ERPSandbox.Settings) -> SandboxResponse {
        var response = SandboxResponse.json(200, .array(rows))
        if settings.sendsTotalCount { response.headers["x-total-count"] = "\(page.total)" }
        if let next = page.next { response.headers["link"] = "<\(next)>; rel=\"next\"" }
        return response
    }

    func listStocks(_ request: SandboxRequest) -> SandboxResponse {
        let (stock, codes, settings) = state.withLock { state in
            if state.sortedCodes == nil { state.sortedCodes = state.stock.keys.sorted() }
            return (state.stock, state.sortedCodes!, state.settings)
        }
        let page: ListPage
        switch Self.page(of: codes, request, settings: settings) {
        case .success(let found): page = found
        case .failure(let error): return Self.refusal(error)
        }
        let rows = page.codes.map { code -> JSON in ["sku": .string(code), "qty": JSON(stock[code]!)] }
        if settings.codesAddedPerPage > 0 { addCodesBeforeEverything(settings.codesAddedPerPage) }
        return Self.listAnswer(rows, page, settings: settings)
    }

    /// The list moves while it is read: codes sorting before every other appear, so an offset
    /// page read next starts earlier in the list than the client thinks (rows seen again).
    func addCodesBeforeEverything(_ count: Int) {
        state.withLock { state in
            for _ in 0..<count {
                state.codesAdded += 1
                state.stock[String(format: "!NEW-%06d", state.codesAdded)] = 1
            }
        }
    }

    /// Köprü's proposal beside `stocks`: `[{"sku","price","currency"}]`, paged the same way.
    func listPrices(_ request: SandboxRequest) -> SandboxResponse {
        let (prices, settings) = state.withLock { ($0.prices, $0.settings) }
        let page: ListPage
        switch Self.page(of: prices.keys.sorted(), request, settings: settings) {
        case .success(let found): page = found
        case .failure(let error): return Self.refusal(error)
        }
        let rows = page.codes.map { code -> JSON in ["sku": .string(code), "price": JSON(prices[code]!), "currency": "TRY"] }
        return Self.listAnswer(rows, page, settings: settings)
    }
}

extension Array where Element: Comparable {
    /// The first index whose element satisfies `belongs`, for a predicate false then true over a sorted array.
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
