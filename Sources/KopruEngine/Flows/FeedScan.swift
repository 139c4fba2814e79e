import Foundation
import KopruConnectors
import KopruCore
import KopruStore

/// One pass over a flow's change feed (keyset `(updated_at, id)`).
///
/// New rows are read from the stored position on. Rows that commit late carry an older
/// `updated_at` than rows already read, so the window of `overlap` behind the position is read
/// again — but not on every pass: in a burst every pass would re-read the whole burst (a pass
/// costing the window, the burst quadratic: 4,000 webhooks, 4,000 orders re-read per pass).
/// A recheck round reads the window at most once per `recheckInterval`, `recheckBudget` rows
/// per pass, carried across passes where one pass does not cover it. A row committed `lag`
/// late is found while `lag + recheckInterval` + a round's length stays within the overlap.
struct FeedScan {
    /// The stored position; nil before the first pass.
    var stored: FeedPosition?
    /// Where new rows start. A delta pass never moves the cursor below it; a full pass starts
    /// at the beginning, and moves the cursor back to where it stopped.
    var high: FeedPosition
    /// This pass's part of a recheck round, if one is due.
    var recheck: Recheck?

    struct Recheck {
        /// When the round began; the next one is due `recheckInterval` after that.
        var began: Date
        var from: FeedPosition
        /// Where an unfinished round had got to, when the window has since moved past it: the
        /// rows between were not re-read (a round slower than the window moves).
        var skippedFrom: FeedPosition?
    }

    /// Rows a pass re-reads at most: a pass also carries new orders, which should not wait long.
    static let recheckBudget = 1_000

    /// Beside the flow's own cursor (`flow:<name>`), under a prefix no flow's cursor has.
    static func recheckCursorName(_ flow: FlowDefinition) -> String { "recheck:\(flow.name)" }
}

extension FlowEnvironment {
    /// Reads one pass of `flow`'s feed: the rows after the stored position (up to `maxPerRun`),
    /// then the recheck round's share, each page handed to `take`. Returns the cursor effects
    /// to commit with `take`'s, how many rows were read, and whether the next pass should
    /// follow at once: new rows left (the budget ran out first) or a round unfinished.
    func scanFeed<Record: Sendable>(
        _ flow: FlowDefinition, full: Bool, maxPerRun: Int, now: Date,
        read: @Sendable (FeedPosition, Int) async throws -> [FeedItem<Record>],
        take: ([FeedItem<Record>]) async throws -> Void
    ) async throws -> (cursors: [StoreEffect], seen: Int, more: Bool) {
        let scan = try await plan(flow, full: full, now: now)
        var seen = 0
        var newest = scan.high
        var position = scan.high
        // The next page is asked for while this one is taken: a pass is one reader after
        // another, and the source's answer, not our work, is most of a page's time.
        var page = try await read(position, 100)
        while let last = page.last {
            seen += page.count
            position = last.position
            newest = max(newest, last.position)
            guard seen < maxPerRun else {
                try await take(page)
                break
            }
            let after = position
            async let next = read(after, 100)
            try await take(page)
            page = try await next
        }
        var cursors: [StoreEffect] = []
        if newest != scan.high || scan.stored == nil {
            cursors.append(.setCursor(SyncCursor(connection: flow.source, name: flow.cursorName, value: newest.cursorValue, updatedAt: now)))
        }
        guard let recheck = scan.recheck else { return (cursors, seen, seen >= maxPerRun) }
        // The round reads up to the position this pass started from: the rows after it were new.
        var reread = 0
        position = recheck.from
        var finished = false
        while !finished, reread < FeedScan.recheckBudget {
            let page = try await read(position, 100).filter { $0.position <= scan.high }
            if let last = page.last {
                reread += page.count
                try await take(page)
                position = last.position
            } else {
                finished = true
            }
        }
        let state = finished ? RecheckState(began: recheck.began) : RecheckState(began: recheck.began, at: position)
        cursors.append(
            .setCursor(SyncCursor(connection: flow.source, name: FeedScan.recheckCursorName(flow), value: state.cursorValue, updatedAt: now)))
        if let skipped = recheck.skippedFrom {
            cursors.append(
                .log(
                    EventRecord(
                        at: now, level: .warning, kind: "sync_run", connection: flow.source, subject: "flow:\(flow.name)",
                        message:
                            "the overlap window moved past an unfinished recheck: rows from \(skipped.cursorValue) to \(recheck.from.cursorValue) were not re-read (raise overlapSeconds)",
                        details: ["flow": flow.name, "from": skipped.cursorValue, "to": recheck.from.cursorValue])))
        }
        return (cursors, seen + reread, seen >= maxPerRun || !finished)
    }

    /// How far behind its position a flow's feed is read again: the flow's overlap, plus twice
    /// the skew its source's clocks may have (`clock.skewSeconds`), since two of its nodes may
    /// be off in opposite directions.
    func overlap(of flow: FlowDefinition) async throws -> Duration {
        flow.overlap + (try await clockSkew(of: flow)) * 2
    }

    /// The source's `clock.skewSeconds` (checked when the connection was saved).
    func clockSkew(of flow: FlowDefinition) async throws -> Duration {
        let settings = try await store.connection(flow.source)?.settings ?? [:]
        return (try? ClockSkew.from(settings: settings)) ?? .zero
    }

    /// Where this pass reads: new rows from the stored position (the beginning for a full pass),
    /// and a recheck of the window behind it when one is due or under way.
    func plan(_ flow: FlowDefinition, full: Bool, now: Date) async throws -> FeedScan {
        let stored = try await store.cursor(connection: flow.source, name: flow.cursorName).flatMap { FeedPosition(cursorValue: $0.value) }
        let overlap = try await overlap(of: flow)
        guard !full, let stored, overlap > .zero else { return FeedScan(stored: stored, high: full ? .beginning : (stored ?? .beginning)) }
        let windowStart = FeedPosition(updatedAt: stored.updatedAt.addingTimeInterval(-overlap.seconds), id: 0)
        let state = try await store.cursor(connection: flow.source, name: FeedScan.recheckCursorName(flow)).flatMap {
            RecheckState(cursorValue: $0.value)
        }
        var scan = FeedScan(stored: stored, high: stored)
        if let state, let at = state.at {
            // A round under way goes on; rows that left the window meanwhile are past help.
            scan.recheck = FeedScan.Recheck(began: state.began, from: max(at, windowStart), skippedFrom: at < windowStart ? at : nil)
        } else if state.map({ now.timeIntervalSince($0.began) >= flow.recheckInterval.seconds }) ?? true {
            scan.recheck = FeedScan.Recheck(began: now, from: windowStart)
        }
        return scan
    }
}

/// A recheck round's progress, stored as `began-ms` once done or `began-ms@position` under way.
struct RecheckState {
    var began: Date
    var at: FeedPosition?

    var cursorValue: String {
        let began = "\(self.began.millisecondsSince1970)"
        return at.map { "\(began)@\($0.cursorValue)" } ?? began
    }

    init(began: Date, at: FeedPosition? = nil) {
        self.began = began
        self.at = at
    }

    init?(cursorValue: String) {
        let parts = cursorValue.split(separator: "@", maxSplits: 1)
        guard let first = parts.first, let ms = Int64(first) else { return nil }
        began = Date(millisecondsSince1970: ms)
        if parts.count == 2 {
            guard let position = FeedPosition(cursorValue: String(parts[1])) else { return nil }
            at = position
        }
    }
}
