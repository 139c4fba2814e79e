import Foundation
import Hummingbird
import KopruCore
import KopruEngine
import KopruStore

/// The orders list and each order's timeline across every system: "where is order 1042?".
extension DashboardPages {
    static func orders(_ viewer: Viewer, query request: Request, store: any Store) async throws -> HTML {
        let words = viewer.words
        let query = request.uri.queryParameters
        var filter = OrderFilter(limit: 50)
        let number = query["q"].map { String($0.prefix(64)).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        // `#1042` as the customer writes it; a lone `#` is no search.
        filter.number = number.map { $0.hasPrefix("#") ? String($0.dropFirst()) : $0 }.flatMap { $0.isEmpty ? nil : $0 }
        filter.pendingExportOnly = query["pending"] == "1"
        if let before = query["before"].map(String.init), let dot = before.firstIndex(of: "."), let ms = Int64(before[..<dot]) {
            filter.before = (Date(millisecondsSince1970: ms), String(before[before.index(after: dot)...]))
        }
        let orders = try await store.orders(filter)
        let rows = orders.map { order -> HTML in
            """
            <tr data-order="\(order.id)"><td><a href="/orders/\(HTML.query(order.id))">\(order.number)</a></td><td>\(order.connection.rawValue)</td>
            <td>\(order.status)</td><td class="money">\(order.total) \(order.currency)</td>
            <td>\(words.when(order.firstSeenAt))<br><small>\(words.seenVia[order.seenVia] ?? order.seenVia)</small></td>
            <td>\(exportState(order, words: words))</td></tr>
            """
        }
        var next: HTML = ""
        if orders.count == filter.limit, let last = orders.last {
            var parts = ["before=\(last.firstSeenAt.millisecondsSince1970).\(HTML.query(last.id))"]
            if let number { parts.append("q=\(HTML.query(number))") }
            if filter.pendingExportOnly { parts.append("pending=1") }
            next = "<p><a id=\"older\" href=\"/orders?\(parts.joined(separator: "&"))\">\(words.older)</a></p>"
        }
        let checked: HTML = filter.pendingExportOnly ? " checked" : ""
        let table: HTML =
            orders.isEmpty
            ? "<p id=\"no-orders\">\(words.noOrders)</p>"
            : """
            <div class="scroll"><table id="orders"><thead><tr><th>\(words.number)</th><th>\(words.channel)</th><th>\(words.status)</th><th>\(words.total)</th><th>\(words.firstSeen)</th><th>\(words.exported)</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return layout(
            viewer, words: words, title: words.orders,
            """
            <form method="get" action="/orders" class="filters">
            <input name="q" id="order-search" placeholder="\(words.number)" value="\(number ?? "")" maxlength="64" inputmode="search">
            <label><input type="checkbox" name="pending" value="1"\(checked)> \(words.onlyPending)</label>
            <button type="submit" id="search">\(words.search)</button></form>
            \(table)\(next)
            """)
    }

    static func exportState(_ order: OrderRecord, words: DashboardWords) -> HTML {
        if let reference = order.exportReference, let at = order.exportedAt {
            return "<span class=\"status succeeded\">\(reference)</span><br><small>\(words.when(at))</small>"
        }
        if order.exportQueuedAt != nil { return "<span class=\"status pending\">\(words.pendingExport)</span>" }
        return "<small>\(words.notToExport)</small>"
    }

    static func order(_ viewer: Viewer, _ order: OrderRecord, flows: [FlowDefinition], store: any Store) async throws -> HTML {
        let words = viewer.words
        var steps: [HTML] = [
            """
            <li class="step done"><strong>\(words.steps["received"] ?? "")</strong> · \(words.when(order.firstSeenAt)) · \(order.connection.rawValue), \(words.seenVia[order.seenVia] ?? order.seenVia)</li>
            """
        ]
        for step in OrderTimeline.steps(of: order.id, channel: order.connection, flows: flows) {
            guard let job = try await store.job(kind: step.kind, idempotencyKey: step.idempotencyKey) else { continue }
            let calls = try await store.events(EventFilter(subject: "job:\(job.id)", limit: 100))
            let callList = calls.reversed().map { event -> HTML in
                "<li class=\"\(event.level.rawValue)\">\(words.when(event.at)) · \(event.message)\(event.durationMilliseconds.map { " · \($0) ms" } ?? "")</li>"
            }
            let error: HTML = job.lastError.map { "<br><small class=\"reason\">\($0)</small>" } ?? ""
            steps.append(
                """
                <li class="step \(job.status.rawValue)" data-step="\(step.step)"><strong>\(words.steps[step.step] ?? step.step)</strong> ·
                <a href="/jobs/\(job.id)">\(words.job) #\(job.id)</a> · <span class="status \(job.status.rawValue)">\(words.jobStatus(job.status))</span> ·
                \(words.attempts): \(job.attempts) · \(words.when(job.finishedAt ?? job.createdAt))\(error)
                <ul class="calls">\(callList)</ul></li>
                """)
        }
        let events = try await store.events(EventFilter(subject: "order:\(order.id)", limit: 100))
        let eventRows = events.map { event -> HTML in
            "<tr class=\"\(event.level.rawValue)\"><td>\(words.when(event.at))</td><td>\(event.connection?.rawValue ?? "")</td><td>\(event.kind)</td><td>\(event.message)</td></tr>"
        }
        let eventTable: HTML =
            events.isEmpty
            ? ""
            : "<h2>\(words.logs)</h2><div class=\"scroll\"><table><tbody>\(eventRows)</tbody></table></div>"
        return layout(
            viewer, words: words, title: "\(words.order) \(order.number)",
            """
            <dl class="card facts" id="order-facts">
            <dt>\(words.channel)</dt><dd>\(order.connection.rawValue)</dd>
            <dt>\(words.status)</dt><dd>\(order.status)</dd>
            <dt>\(words.total)</dt><dd>\(order.total) \(order.currency)</dd>
            <dt>\(words.exported)</dt><dd>\(exportState(order, words: words))</dd>
            </dl>
            <h2>\(words.timeline)</h2>
            <ol class="timeline" id="timeline">\(steps)</ol>
            \(eventTable)
            """)
    }
}
