import Foundation
import HTTPTypes
import KopruHTTPClient
import KopruConnectors
import KopruCore
import KopruEngine
import KopruSandbox
import Testing

@testable import ConnectorERPRest

/// Real ERPs cap page sizes without a word and lists move while they are read. The connector
/// reads to the end by the answer's own signals (a total, a next link, an empty page), never by
/// a page that came back shorter than asked.
@Suite struct ERPPagingTests {
    static let codes = (1...120).map { String(format: "SKU-%04d", $0) }

    /// Every level of the list, following the cursors as the stock sync does.
    func readAll(_ connector: RESTERPConnector) async throws -> (codes: [String], pages: Int) {
        var codes: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await connector.stockLevels(after: cursor, limit: 1000)
            codes += page.records.map(\.sku.rawValue)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 100
        return (codes, pages)
    }

    func bench(_ configure: @escaping (inout ERPSandbox.Settings) -> Void) -> ERPBench {
        let bench = ERPBench {
            $0.maxPageSize = 25
            $0.capsPageSizeSilently = true
            configure(&$0)
        }
        bench.erp.setStock(Dictionary(uniqueKeysWithValues: Self.codes.map { ($0, 3) }))
        return bench
    }

    static var everything: [String] { (["SKU-A", "SKU-B"] + codes).sorted() }

    @Test(arguments: [true, false])
    func pagesCappedSilentlyAreReadToTheEndByTheTotalOrAnEmptyPage(sendsTotal: Bool) async throws {
        let bench = bench { $0.sendsTotalCount = sendsTotal }
        let connector = try bench.connector(["pagination": "page", "pagination.pageSize": "500"])
        let (codes, pages) = try await readAll(connector)
        #expect(codes == Self.everything)
        // 122 rows at 25 a page: 5 pages, and one empty page when no total says where the end is.
        #expect(pages == (sendsTotal ? 5 : 6))
        #expect(bench.erp.sandbox.ledger.entries(route: "stocks.list").allSatisfy { $0.rawQuery.contains("page_size=500") })
    }

    @Test func aLinkedListIsFollowedToItsEndThroughRelativeLinksWhileItMoves() async throws {
        let bench = bench {
            $0.sendsNextLinks = true
            $0.defaultPageSize = 25
            $0.codesAddedPerPage = 2
        }
        let (codes, pages) = try await readAll(try bench.connector(["pagination": "link"]))
        // The keyset link neither repeats nor skips a row when codes appear mid-read.
        #expect(codes == Self.everything)
        #expect(pages == 5)
        #expect(bench.erp.sandbox.ledger.entries(route: "stocks.list").dropFirst().allSatisfy { $0.rawQuery.hasPrefix("after=") })
    }

    @Test func anOffsetPagedListThatMovesRepeatsRowsButLosesNone() async throws {
        let bench = bench { $0.codesAddedPerPage = 2 }
        let (codes, _) = try await readAll(try bench.connector(["pagination": "page", "pagination.pageSize": "25"]))
        #expect(Set(codes).isSuperset(of: Self.everything))
    }

    @Test func anUnpagedProfileAgainstAPagingERPFailsLoudlyInsteadOfReadingOnePage() async throws {
        let bench = bench { $0.defaultPageSize = 25 }
        let refusal = try await #require(throws: ConnectorError.self) { try await readAll(try bench.connector()) }
        #expect(refusal.field == "settings.pagination")
        #expect(refusal.message.contains("25 of 122"))
        // …and follows the ERP's next link when it gives one.
        bench.erp.configure { $0.sendsNextLinks = true }
        #expect(try await readAll(try bench.connector()).codes == Self.everything)
    }

    /// Answers every request with one page and a next link to another host.
    struct LeavingHost: HTTPTransport {
        func send(_ request: OutboundRequest) async throws -> InboundResponse {
            var headers = HTTPFields()
            headers[HTTPField.Name("Link")!] = "<https://elsewhere.test/api/v2/stocks?after=SKU-A>; rel=\"next\""
            return InboundResponse(status: 200, headers: headers, body: Data(#"[{"sku":"SKU-A","qty":1}]"#.utf8))
        }
    }

    @Test func aNextLinkToAnotherHostIsNotFollowedWithTheKey() async throws {
        let connector = try RESTERPConnector(
            settings: ["baseURL": "http://erp.test/api/v2/", "pagination": "link"], secrets: ["api_key": Secret("k")], transport: LeavingHost())
        let refusal = try await #require(throws: ConnectorError.self) { try await connector.stockLevels(after: nil, limit: 10) }
        #expect(refusal.message.contains("elsewhere.test"))
    }

    @Test func theStockFlowPagesALinkedCappedListEndToEnd() async throws {
        let hub = try await FlowHarness(
            erpSettings: ["pagination": "link"],
            configureERP: {
                $0.sendsNextLinks = true
                $0.defaultPageSize = 25
                $0.maxPageSize = 25
                $0.capsPageSizeSilently = true
            })
        defer { Task { await hub.shutdown() } }
        hub.catalogue(130)
        try await hub.sync("stock")
        try await hub.run(until: "stock pushed") { try await hub.unfinished() == 0 }
        for index in 1...130 { #expect(hub.magento.stock(sku: String(format: "SKU-%04d", index))?.quantity == 10) }
        #expect(hub.erp.sandbox.ledger.entries(route: "stocks.list").count == 6)
    }
}
