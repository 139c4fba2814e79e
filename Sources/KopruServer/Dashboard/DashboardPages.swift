import Foundation
import Hummingbird
import KopruCore
import KopruEngine
import KopruStore

/// What each dashboard page draws, from the store. Pages read a page of rows at a time, through
/// the store's indexed queries, never a whole table.
enum DashboardPages {
    // MARK: frame

    static func layout(_ viewer: Viewer?, words: DashboardWords, title: String, _ body: HTML) -> HTML {
        let tabs: [(String, String)] = [
            ("/", words.overview), ("/orders", words.orders), ("/connections", words.connections), ("/dead-letters", words.deadLetters), ("/logs", words.logs),
        ]
        let other: DashboardWords.Language = words.language == .tr ? .en : .tr
        var nav: HTML = ""
        if let viewer {
            let links = tabs.map { path, name -> HTML in
                let current = path == "/" ? viewer.path == "/" : viewer.path.hasPrefix(path)
                return "<a href=\"\(path)\"\(current ? HTML(raw: " aria-current=\"page\"") : "")>\(name)</a>"
            }
            let badge: HTML = viewer.canChange ? "" : " <span class=\"badge\">\(words.readOnlyBadge)</span>"
            nav = """
                <nav>\(links)</nav>
                <div class="who"><span>\(viewer.tokenName)</span>\(badge)
                <a href="?lang=\(other.rawValue)">\(words.otherLanguage)</a>
                <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(viewer.csrf)"><button type="submit" class="link" id="sign-out">\(words.signOut)</button></form></div>
                """
        } else {
            nav = "<div class=\"who\"><a href=\"?lang=\(other.rawValue)\">\(words.otherLanguage)</a></div>"
        }
        return """
            <!doctype html>
            <html lang="\(words.language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Köprü</title>\(viewer.map { "<meta name=\"csrf-token\" content=\"\($0.csrf)\">" as HTML })
            <link rel="stylesheet" href="/assets/dashboard.css"><script src="/assets/live.js" defer></script></head>
            <body><header><a class="brand" href="/">Köprü</a>\(nav)</header>
            <main><h1>\(title)</h1>
            \(body)
            </main></body></html>
            """
    }

    static func message(_ viewer: Viewer, _ text: String) -> HTML {
        layout(viewer, words: viewer.words, title: "Köprü", "<p class=\"notice error\" id=\"message\">\(text)</p><p><a href=\"/\">\(viewer.words.back)</a></p>")
    }

    /// A change button: a form with the session's anti-forgery token, drawn only for admins.
    static func button(_ viewer: Viewer, action: String, label: String, fields: [String: String] = [:], id: String? = nil) -> HTML {
        guard viewer.canChange else { return "" }
        let hidden = fields.sorted { $0.key < $1.key }.map { field -> HTML in
            "<input type=\"hidden\" name=\"\(field.key)\" value=\"\(field.value)\">"
        }
        let idAttribute: HTML = id.map { "id=\"\($0)\"" } ?? ""
        return """
            <form method="post" action="\(action)" class="inline"><input type="hidden" name="csrf" value="\(viewer.csrf)">\(hidden)<button type="submit" \(idAttribute)>\(label)</button></form>
            """
    }

    // MARK: sign-in

    static func signIn(_ words: DashboardWords, next: String, error: String? = nil) -> HTML {
        let problem: HTML = error.map { "<p class=\"notice error\" id=\"sign-in-error\">\($0)</p>" } ?? ""
        return layout(
            nil, words: words, title: words.signInTitle,
            """
            \(problem)
            <form method="post" action="/login" class="card sign-in">
            <input type="hidden" name="next" value="\(next)">
            <label for="token">\(words.tokenLabel)</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required maxlength="200">
            <small>\(words.tokenHint)</small>
            <button type="submit" id="sign-in">\(words.signIn)</button>
            </form>
            """)
    }

    // MARK: overview

    static func overview(_ viewer: Viewer, store: any Store, now: Date) async throws -> HTML {
        let words = viewer.words
        let counts = try await store.jobCounts()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Istanbul") ?? .gmt
        let orderTotals = try await store.orderTotals(since: calendar.startOfDay(for: now))
        let connections = try await store.connections().sorted { $0.id.rawValue < $1.id.rawValue }
        let circuits = try await store.circuits(prefix: "")
        let tiles: [HTML] = [(JobStatus.pending, "pending"), (.running, "running"), (.dead, "dead"), (.succeeded, "succeeded")].map {
            status, key in
            let link: HTML = status == .dead ? "href=\"/dead-letters\"" : ""
            return "<a class=\"tile \(key)\" \(link)><span class=\"count\" data-live=\"\(key)\">\(counts[status] ?? 0)</span><span>\(words.jobStatus(status))</span></a>"
        }
        var rows: [HTML] = []
        for connection in connections {
            rows.append(try await connectionRow(viewer, connection, circuits: circuits, store: store))
        }
        let recentDead = try await store.jobs(JobFilter(statuses: [.dead], limit: 5))
        return layout(
            viewer, words: words, title: words.overview,
            """
            <section class="tiles" aria-label="\(words.orders)">
            <a class="tile" href="/orders"><span class="count" id="orders-today">\(orderTotals.since)</span><span>\(words.ordersToday)</span></a>
            <a class="tile" href="/orders"><span class="count" id="orders-all">\(orderTotals.all)</span><span>\(words.ordersAll)</span></a>
            <a class="tile pending" href="/orders?pending=1"><span class="count" id="orders-pending">\(orderTotals.pendingExport)</span><span>\(words.pendingExport)</span></a>
            </section>
            <section class="tiles" aria-label="\(words.queue)">\(tiles)</section>
            <p class="hint">\(words.updatedLive)</p>
            <h2>\(words.connections)</h2>
            <div class="scroll"><table id="connections"><thead><tr><th>\(words.connection)</th><th>\(words.type)</th><th>\(words.state)</th><th>\(words.circuit)</th><th>\(words.lastCall)</th><th>\(words.lastError)</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            <h2>\(words.deadLetters)</h2>
            \(deadLetterTable(viewer, recentDead, selectable: false))
            """)
    }

    static func connectionRow(_ viewer: Viewer, _ connection: Connection, circuits: [String: CircuitState], store: any Store) async throws -> HTML {
        let words = viewer.words
        let prefix = "\(connection.id.rawValue):"
        let own = circuits.filter { $0.key.hasPrefix(prefix) }
        let worst = own.values.map(\.phase).max { rank($0) < rank($1) } ?? .closed
        let circuitLines = own.sorted { $0.key < $1.key }.map { key, state -> HTML in
            "\(String(key.dropFirst(prefix.count))): \(words.circuitState(state.phase.rawValue))<br>"
        }
        let circuitText: HTML = own.isEmpty ? "\(words.circuitClosed)" : "\(circuitLines)"
        // The newest answered call below 400 among the last 50 (the call log files 4xx as warnings, 5xx and no answer as errors).
        let lastCall = try await store.events(EventFilter(connection: connection.id, kind: "external_call", limit: 50)).first { $0.level < .warning }
        let lastError = try await store.events(EventFilter(connection: connection.id, minimumLevel: .error, limit: 1)).first
        let callText: HTML = lastCall.map { "\(words.when($0.at))<br><small>\($0.message)</small>" } ?? "\(words.none)"
        let errorText: HTML = lastError.map { "\(words.when($0.at))<br><small>\(String($0.message.prefix(160)))</small>" } ?? "\(words.none)"
        return """
            <tr data-connection="\(connection.id.rawValue)"><td><a href="/connections/\(connection.id.rawValue)">\(connection.name)</a><br><small>\(connection.id.rawValue)</small></td>
            <td>\(connection.type)</td>
            <td><span class="state \(connection.paused ? "paused" : "active")">\(connection.paused ? words.paused : words.active)</span></td>
            <td><span class="circuit \(worst.rawValue)">\(circuitText)</span></td>
            <td>\(callText)</td><td>\(errorText)</td></tr>
            """
    }

    static func milliseconds(_ value: Int?) -> String { value.map { "\($0) ms" } ?? "" }

    private static func rank(_ phase: CircuitState.Phase) -> Int {
        switch phase {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }

    // MARK: dead letters and jobs

    static func deadLetters(_ viewer: Viewer, query request: Request, store: any Store) async throws -> HTML {
        let words = viewer.words
        let query = request.uri.queryParameters
        let before = query["before"].flatMap { Int64(String($0)) }
        let jobs = try await store.jobs(JobFilter(statuses: [.dead], beforeID: before, limit: 50))
        var notice: HTML = ""
        if let replayed = query["replayed"].map(String.init), !replayed.isEmpty {
            let links = replayed.split(separator: ",").prefix(200).compactMap { Int64($0) }.map { id -> HTML in
                "<a href=\"/jobs/\(id)\">#\(id)</a> "
            }
            notice = "<p class=\"notice ok\" id=\"replayed\">\(words.replayed): \(links)</p>"
        }
        let more: HTML = jobs.count == 50 ? "<p><a href=\"/dead-letters?before=\(jobs.last!.id)\">\(words.older)</a></p>" : ""
        guard !jobs.isEmpty else { return layout(viewer, words: words, title: words.deadLetters, "\(notice)<p id=\"no-dead-letters\">\(words.noDeadLetters)</p>") }
        let table = deadLetterTable(viewer, jobs, selectable: viewer.canChange)
        let body: HTML =
            viewer.canChange
            ? """
            <form method="post" action="/dead-letters/replay"><input type="hidden" name="csrf" value="\(viewer.csrf)">
            \(table)<p><button type="submit" id="replay-selected">\(words.replaySelected)</button></p></form>
            """ : table
        return layout(viewer, words: words, title: words.deadLetters, "\(notice)\(body)\(more)")
    }

    static func deadLetterTable(_ viewer: Viewer, _ jobs: [Job], selectable: Bool) -> HTML {
        let words = viewer.words
        guard !jobs.isEmpty else { return "<p>\(words.noDeadLetters)</p>" }
        let rows = jobs.map { job -> HTML in
            let box: HTML = selectable ? "<td><input type=\"checkbox\" name=\"job\" value=\"\(job.id)\" aria-label=\"\(words.job) \(job.id)\"></td>" : ""
            let uncertain: HTML = job.outcomeUncertain ? "<br><span class=\"badge warn\">\(words.uncertain)</span>" : ""
            return """
                <tr data-job="\(job.id)">\(box)<td><a href="/jobs/\(job.id)">#\(job.id)</a></td><td>\(job.kind)</td><td>\(job.connection?.rawValue ?? "")</td>
                <td>\(job.attempts)</td><td>\(job.finishedAt.map(words.when) ?? "")</td><td class="reason">\(String((job.lastError ?? "").prefix(400)))\(uncertain)</td></tr>
                """
        }
        let boxHead: HTML = selectable ? "<th></th>" : ""
        return """
            <div class="scroll"><table class="dead-letters"><thead><tr>\(boxHead)<th>\(words.job)</th><th>\(words.kind)</th><th>\(words.connection)</th><th>\(words.attempts)</th><th>\(words.time)</th><th>\(words.reason)</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
    }

    static func job(_ viewer: Viewer, _ job: Job, store: any Store) async throws -> HTML {
        let words = viewer.words
        let calls = try await store.events(EventFilter(subject: "job:\(job.id)", limit: 100))
        let replay: HTML = job.status == .dead ? button(viewer, action: "/dead-letters/replay", label: words.replay, fields: ["job": "\(job.id)"], id: "replay") : ""
        let callRows = calls.map { event -> HTML in
            "<tr class=\"\(event.level.rawValue)\"><td>\(words.when(event.at))</td><td>\(event.message)</td><td>\(milliseconds(event.durationMilliseconds))</td></tr>"
        }
        let callTable: HTML =
            calls.isEmpty
            ? "<p>\(words.noEvents)</p>"
            : "<div class=\"scroll\"><table><thead><tr><th>\(words.time)</th><th>\(words.message)</th><th>\(words.duration)</th></tr></thead><tbody>\(callRows)</tbody></table></div>"
        return layout(
            viewer, words: words, title: "\(words.job) #\(job.id)",
            """
            <dl class="card facts" data-job-page="\(job.id)">
            <dt>\(words.kind)</dt><dd>\(job.kind)</dd>
            <dt>\(words.status)</dt><dd id="job-status" class="status \(job.status.rawValue)">\(words.jobStatus(job.status))</dd>
            <dt>\(words.connection)</dt><dd>\(job.connection?.rawValue ?? words.none)</dd>
            <dt>\(words.attempts)</dt><dd>\(job.attempts)</dd>
            <dt>\(words.lastError)</dt><dd>\(job.lastError ?? words.none)</dd>
            </dl>
            \(replay)
            <h2>\(words.calls)</h2>
            \(callTable)
            """)
    }

    // MARK: logs

    static func logs(_ viewer: Viewer, query request: Request, store: any Store) async throws -> HTML {
        let words = viewer.words
        let query = request.uri.queryParameters
        var filter = EventFilter(limit: 100)
        let connectionID = query["connection"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        if let connectionID, RequestParsing.isIdentifier(connectionID) { filter.connection = ConnectionID(connectionID) }
        let level = query["level"].flatMap { EventLevel(rawValue: String($0)) }
        filter.minimumLevel = level
        let kind = query["kind"].map(String.init).flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        filter.kind = kind
        filter.beforeID = query["before"].flatMap { Int64(String($0)) }
        let events = try await store.events(filter)
        let connections = try await store.connections().map(\.id.rawValue).sorted()
        let connectionOptions = connections.map { id -> HTML in
            "<option value=\"\(id)\"\(id == connectionID ? HTML(raw: " selected") : "")>\(id)</option>"
        }
        let levelOptions = EventLevel.allCases.filter { $0 >= .info }.map { option -> HTML in
            "<option value=\"\(option.rawValue)\"\(option == level ? HTML(raw: " selected") : "")>\(option.rawValue)</option>"
        }
        let rows = events.map { event -> HTML in
            """
            <tr class="\(event.level.rawValue)"><td>\(words.when(event.at))</td><td><span class="level \(event.level.rawValue)">\(event.level.rawValue)</span></td>
            <td>\(event.connection?.rawValue ?? "")</td><td>\(event.kind)</td><td>\(event.message)</td><td>\(milliseconds(event.durationMilliseconds))</td></tr>
            """
        }
        var next: HTML = ""
        if events.count == filter.limit, let last = events.last?.id {
            var parts = ["before=\(last)"]
            if let connectionID { parts.append("connection=\(HTML.query(connectionID))") }
            if let level { parts.append("level=\(level.rawValue)") }
            if let kind { parts.append("kind=\(HTML.query(kind))") }
            next = "<p><a id=\"older\" href=\"/logs?\(parts.joined(separator: "&"))\">\(words.older)</a></p>"
        }
        let table: HTML =
            events.isEmpty
            ? "<p>\(words.noEvents)</p>"
            : """
            <div class="scroll"><table id="log"><thead><tr><th>\(words.time)</th><th>\(words.level)</th><th>\(words.connection)</th><th>\(words.kind)</th><th>\(words.message)</th><th>\(words.duration)</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return layout(
            viewer, words: words, title: words.logs,
            """
            <form method="get" action="/logs" class="filters">
            <select name="connection" aria-label="\(words.connection)"><option value="">\(words.allConnections)</option>\(connectionOptions)</select>
            <select name="level" aria-label="\(words.level)"><option value="">\(words.allLevels)</option>\(levelOptions)</select>
            <input name="kind" placeholder="\(words.kind)" value="\(kind ?? "")" maxlength="64">
            <button type="submit">\(words.filter)</button></form>
            \(table)\(next)
            """)
    }

    // MARK: connections

    static func connections(_ viewer: Viewer, store: any Store) async throws -> HTML {
        let words = viewer.words
        let circuits = try await store.circuits(prefix: "")
        var rows: [HTML] = []
        for connection in try await store.connections().sorted(by: { $0.id.rawValue < $1.id.rawValue }) {
            rows.append(try await connectionRow(viewer, connection, circuits: circuits, store: store))
        }
        return layout(
            viewer, words: words, title: words.connections,
            """
            <div class="scroll"><table id="connections"><thead><tr><th>\(words.connection)</th><th>\(words.type)</th><th>\(words.state)</th><th>\(words.circuit)</th><th>\(words.lastCall)</th><th>\(words.lastError)</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """)
    }

    static func connection(
        _ viewer: Viewer, _ connection: Connection, flows: [FlowDefinition], query request: Request, store: any Store
    ) async throws -> HTML {
        let words = viewer.words
        let query = request.uri.queryParameters
        let view = ConnectionView(connection)
        let settings = view.settings.sorted { $0.key < $1.key }.map { "<dt>\($0.key)</dt><dd>\($0.value)</dd>" as HTML }
        let secrets = view.secrets.sorted { $0.key < $1.key }.map { "<dt>\($0.key)</dt><dd>\($0.value)</dd>" as HTML }
        let own = flows.filter { $0.source == connection.id || $0.target == connection.id }
        let flowRows = own.map { flow -> HTML in
            let sync: HTML =
                flow.source == connection.id
                ? button(viewer, action: "/connections/\(connection.id.rawValue)/sync", label: words.syncNow, fields: ["flow": flow.kind.id], id: "sync-\(flow.name)")
                : ""
            return "<tr><td>\(flow.name)</td><td>\(flow.kind.id)</td><td>\(flow.source.rawValue) → \(flow.target.rawValue)</td><td>\(sync)</td></tr>"
        }
        let runs = try await store.syncRuns(target: connection.id, limit: 10)
        let runRows = runs.map { run -> HTML in
            """
            <tr data-run="\(run.id)"><td>\(run.flow)</td><td>\(words.when(run.startedAt))</td><td>\(run.read)</td><td>\(run.queued)</td><td>\(run.confirmed)</td><td>\(run.refused)</td><td>\(run.finished ? words.finished : words.inProgress)</td></tr>
            """
        }
        let testWebhook = button(viewer, action: "/connections/\(connection.id.rawValue)/test-webhook", label: words.sendTestWebhook, id: "test-webhook")
        var tested: HTML = ""
        if let outcome = query["tested"].map({ String($0.prefix(80)) }) {
            let ok = outcome.hasPrefix("200")
            tested = "<p class=\"notice \(ok ? "ok" : "error")\" id=\"tested\">\(words.testWebhookSent): \(outcome)</p>"
        }
        let toggle =
            connection.paused
            ? button(viewer, action: "/connections/\(connection.id.rawValue)/resume", label: words.resume, id: "resume")
            : button(viewer, action: "/connections/\(connection.id.rawValue)/pause", label: words.pause, id: "pause")
        var synced: HTML = ""
        if let job = query["synced"].flatMap({ Int64(String($0)) }) {
            synced = "<p class=\"notice ok\" id=\"synced\">\(words.syncQueued): <a href=\"/jobs/\(job)\">#\(job)</a></p>"
        }
        return layout(
            viewer, words: words, title: connection.name,
            """
            \(synced)\(tested)
            <p><span class="state \(connection.paused ? "paused" : "active")" id="connection-state">\(connection.paused ? words.paused : words.active)</span> \(toggle) \(testWebhook)</p>
            <div class="columns"><section class="card"><h2>\(words.settings)</h2><dl>\(settings)</dl></section>
            <section class="card"><h2>\(words.secrets)</h2><dl>\(secrets)</dl></section></div>
            <h2>\(words.flows)</h2>
            <div class="scroll"><table><tbody>\(flowRows)</tbody></table></div>
            <h2>\(words.syncRuns)</h2>
            <div class="scroll"><table id="sync-runs"><thead><tr><th>\(words.flows)</th><th>\(words.time)</th><th>\(words.read)</th><th>\(words.queued)</th><th>\(words.confirmed)</th><th>\(words.refused)</th><th>\(words.state)</th></tr></thead>
            <tbody>\(runRows)</tbody></table></div>
            """)
    }
}
