import Foundation
import KopruConnectors
import KopruCore
import KopruStore
import Testing

@testable import KopruEngine

/// A feed pass reads new rows from the stored position, and the window behind it only when a
/// recheck is due, at most `FeedScan.recheckBudget` rows a pass, carried on across passes.
@Suite struct FeedScanTests {
    let store = MemoryStore()
    let flow = FlowDefinition(
        name: "orders", kind: .orders, source: "shop", target: "erp", overlap: .seconds(300), recheckInterval: .seconds(60))
    var environment: FlowEnvironment {
        FlowEnvironment(catalog: FlowCatalog([flow]), connectors: ConnectorResolver(store: store) { _ in 0 }, store: store)
    }

    /// One pass over `rows` (sorted by position), committing its cursors; the ids it read.
    func pass(_ rows: [FeedItem<Int>], at now: Date, maxPerRun: Int = 5_000) async throws -> [Int] {
        try await passAndNext(rows, at: now, maxPerRun: maxPerRun).read
    }

    /// The same, with whether the pass asked for the next to follow at once, and its warnings.
    func passAndNext(_ rows: [FeedItem<Int>], at now: Date, maxPerRun: Int = 5_000) async throws -> (
        read: [Int], more: Bool, warnings: [String]
    ) {
        var taken: [Int] = []
        let (effects, _, more) = try await environment.scanFeed(
            flow, full: false, maxPerRun: maxPerRun, now: now,
            read: { position, limit in Array(rows.filter { $0.position > position }.prefix(limit)) }
        ) { page in taken += page.map(\.record) }
        var warnings: [String] = []
        for effect in effects {
            switch effect {
            case .setCursor(let cursor): try await store.setCursor(cursor)
            case .log(let event) where event.level == .warning: warnings.append(event.message)
            default: break
            }
        }
        return (taken, more, warnings)
    }

    static func rows(_ ids: ClosedRange<Int>, at second: Date) -> [FeedItem<Int>] {
        ids.map { FeedItem(record: $0, externalID: "\($0)", version: "v", position: FeedPosition(updatedAt: second, id: Int64($0))) }
    }

    @Test func aRecheckRoundCoversTheWindowInSharesAndThenWaitsForItsInterval() async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let second = start.addingTimeInterval(-10)
        // 2,500 rows in one second; every 7th commits only after the first pass.
        let all = Self.rows(1...2_500, at: second)
        let early = all.filter { $0.record % 7 != 0 }
        #expect(try await pass(early, at: start).count == early.count)

        // The late rows are behind the position: new-row reading never sees them, the recheck
        // does, 1,000 rows of the window a pass.
        var found: Set<Int> = []
        for (index, share) in [1_000, 1_000, 500].enumerated() {
            let (read, more, _) = try await passAndNext(all, at: start.addingTimeInterval(Double(index + 1)))
            #expect(read.count == share)
            // An unfinished round asks for the next pass at once, not at the next schedule.
            #expect(more == (index < 2))
            found.formUnion(read.filter { $0 % 7 == 0 })
        }
        #expect(found.count == 2_500 / 7)
        // Round done: passes read only new rows until the interval has passed since it began.
        let more = all + Self.rows(2_501...2_510, at: second.addingTimeInterval(1))
        #expect(try await pass(more, at: start.addingTimeInterval(30)) == Array(2_501...2_510))
        #expect(try await pass(more, at: start.addingTimeInterval(50)).isEmpty)
        #expect(try await pass(more, at: start.addingTimeInterval(62)).count == 1_000)
    }

    @Test func aPassStopsAtItsBudgetAndAsksForTheNextWhichGoesOn() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let rows = Self.rows(1...1_250, at: now.addingTimeInterval(-5))
        var read: [Int] = []
        var passes = 0
        var more = true
        while more {
            let pass = try await passAndNext(rows, at: now, maxPerRun: 500)
            read += pass.read
            more = pass.more
            passes += 1
        }
        // 500 new rows a pass (the second also re-reads the first 500 as its recheck round).
        #expect(passes == 3)
        #expect(Set(read) == Set(1...1_250))
    }

    @Test func aRoundTheWindowOutranSaysWhichRowsItDidNotReRead() async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let old = Self.rows(1...2_500, at: start.addingTimeInterval(-400))
        #expect(try await pass(old, at: start).count == 2_500)
        #expect(try await pass(old, at: start.addingTimeInterval(1)).count == 1_000)
        let all = old + Self.rows(2_501...2_510, at: start.addingTimeInterval(-50))
        #expect(try await pass(all, at: start.addingTimeInterval(2)).count == 10 + 1_000)
        // The position moved 350 s on: the window (300 s) now starts past where the round was.
        let next = try await passAndNext(all, at: start.addingTimeInterval(3))
        #expect(next.read == Array(2_501...2_510))
        #expect(next.more == false)
        #expect(next.warnings.count == 1)
        #expect(next.warnings.first?.contains("were not re-read") == true)
    }

    @Test func aFullPassReadsFromTheBeginningWithoutARecheck() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let rows = Self.rows(1...50, at: now.addingTimeInterval(-5))
        #expect(try await pass(rows, at: now).count == 50)
        var taken = 0
        _ = try await environment.scanFeed(
            flow, full: true, maxPerRun: 5_000, now: now,
            read: { position, limit in Array(rows.filter { $0.position > position }.prefix(limit)) }
        ) { taken += $0.count }
        #expect(taken == 50)
    }
}
