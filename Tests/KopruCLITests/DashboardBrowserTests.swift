import Foundation
import KopruCore
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The dashboard in headless Chromium against a real `kopru serve` on loopback, with Magento and
/// the ERP as sandboxes. Screenshots of each page go to `docs/screenshots/` (the README links
/// them), so they show what the code draws.
@Suite("Dashboard in a real browser", .serialized)
struct DashboardBrowserTests {
    static let needsChromium = ConditionTrait.enabled(
        if: Browser.installed != nil, "chromium and chromium-driver are not installed: browser tests skipped (bash .ci/run installs them)")

    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/screenshots")

    @Test(
        "sign in, read the overview, replay a dead letter and see it delivered once; a forged form and a read-only token change nothing",
        needsChromium)
    func signInReplayAndRefusals() async throws {
        let world = try await SandboxWorld(name: "dashboard", shopSecrets: ["webhookSecret: dashboard-test-secret-0123456789"])
        defer { Task { await world.shutdown() } }
        let port = try freeLoopbackPort()
        var environment = world.environment
        environment["KOPRU_HTTP_PORT"] = "\(port)"
        let (adminStatus, adminOutput) = try await KopruProcess.run(
            ["tokens", "create", "--name", "agency"], environment: environment, logFile: world.folder.appendingPathComponent("admin.out"))
        let (readStatus, readOutput) = try await KopruProcess.run(
            ["tokens", "create", "--name", "staff", "--role", "read"], environment: environment,
            logFile: world.folder.appendingPathComponent("read.out"))
        try #require(adminStatus == 0 && readStatus == 0)
        let adminToken = try #require(adminOutput.split(separator: "\n").last.map(String.init))
        let readToken = try #require(readOutput.split(separator: "\n").last.map(String.init))

        // One order the ERP can book, one with a product it does not know yet: a dead letter.
        _ = world.placeOrders(1)
        let address = MagentoSandbox.Address(firstName: "Can", lastName: "Öztürk", street: "İnönü Cad. 5", city: "Çankaya", region: "Ankara")
        for email in ["can@example.com", "ece@example.com"] {
            _ = world.magento.placeOrder(
                MagentoSandbox.NewOrder(
                    email: email, address: address,
                    lines: [MagentoSandbox.OrderLine(sku: "SKU-NEW", name: "Yeni ürün", quantity: 1, price: Decimal(string: "149.90")!)],
                    shipping: Decimal(string: "29.90")!))
        }
        let hub = try KopruProcess(["serve"], environment: environment, logFile: world.log)
        defer { hub.signal(SIGKILL) }
        let base = URL(string: "http://127.0.0.1:\(port)")!
        try await eventually("the hub is ready") {
            ((try? await URLSession.shared.data(from: base.appendingPathComponent("readyz")))?.1 as? HTTPURLResponse)?.statusCode == 200
        }
        try await world.kickFlows()
        try await eventually("one order booked, two dead letters") {
            try await world.store.jobs(JobFilter(statuses: [.dead], kind: "order.export")).count == 2 && world.erp.bookedDocuments == 1
        }

        let browser = try await Browser(log: world.folder.appendingPathComponent("chromedriver.log"))
        defer { Task { await browser.quit() } }

        // Signing in: a page asked for without a session leads to the form and back.
        try await browser.open(base.appendingPathComponent("dead-letters"))
        try await browser.wait("the sign-in form") { try await browser.currentURL.path == "/login" }
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("sign-in.png"))
        try await browser.type(adminToken, into: "#token")
        try await browser.click("#sign-in")
        try await browser.wait("the dead letters") { try await browser.currentURL.path == "/dead-letters" }
        #expect(try await browser.text("td.reason").contains("Unknown product code 'SKU-NEW'"))
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("dead-letters.png"))

        try await browser.open(base)
        try await browser.wait("the overview") { try await browser.text("h1") == "Genel bakış" }
        #expect(try await browser.text("[data-live=dead]") == "2")
        let table = try await browser.text("#connections")
        #expect(table.contains("shop") && table.contains("erp") && table.contains("Etkin"))
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("overview.png"))

        // The ERP learns the product; the dead letter is replayed and delivered, once.
        world.erp.setStock(code: "SKU-NEW", quantity: 10)
        try await browser.open(base.appendingPathComponent("dead-letters"))
        try await browser.click("input[name=job]")
        try await browser.click("#replay-selected")
        try await browser.wait("the replay notice") { try await browser.currentURL.query?.hasPrefix("replayed=") == true }
        try await browser.click("#replayed a")
        try await browser.wait("the replayed job delivered", timeout: .seconds(40)) { try await browser.text("#job-status") == "Tamamlanan" }
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("job.png"))
        #expect(world.erp.bookedDocuments == 2)
        #expect(world.erp.documentsPerOrder.values.allSatisfy { $0 == 1 }, "each order booked once: \(world.erp.documentsPerOrder)")

        // The other one is replayed from elsewhere (the API, a colleague): the open overview's
        // count follows by itself, without a reload.
        try await browser.open(base)
        #expect(try await browser.text("[data-live=dead]") == "1")
        let other = try #require(try await world.store.jobs(JobFilter(statuses: [.dead], kind: "order.export")).first)
        _ = try await world.store.replayDeadLetter(other.id, now: Date())
        try await browser.wait("the count following by itself") { try await browser.text("[data-live=dead]") == "0" }
        try await eventually("the other delivered") { world.erp.bookedDocuments == 3 }
        #expect(world.erp.documentsPerOrder.count == 3 && world.erp.documentsPerOrder.values.allSatisfy { $0 == 1 })

        // "Where is order …?": found by its number, its timeline across the systems.
        let number = try #require(try await world.store.orders(OrderFilter(limit: 10)).last?.number)
        try await browser.open(base.appendingPathComponent("orders"))
        #expect(try await browser.elements("tr[data-order]").count == 3)
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("orders.png"))
        try await browser.type(String(number.suffix(3)), into: "#order-search")
        try await browser.click("#search")
        try await browser.wait("the search") { try await browser.elements("tr[data-order]").count == 1 }
        try await browser.click("tr[data-order] a")
        try await browser.wait("the timeline") { try await browser.text("#timeline").contains("Kanaldan alındı") }
        let timeline = try await browser.text("#timeline")
        #expect(timeline.contains("ERP'ye aktarım") && timeline.contains("Tamamlanan") && timeline.contains("POST /api/v2/orders → 201"))
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("timeline.png"))

        try await browser.open(URL(string: "\(base)/logs?connection=erp")!)
        try await browser.wait("the log") { try await browser.text("#log").contains("POST") }
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("logs.png"))
        try await browser.open(base.appendingPathComponent("connections/erp"))
        #expect(try await browser.text("dl").contains("baseURL"))
        #expect(!(try await browser.source.contains("erp-sandbox-key")), "secrets are masked")
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("connection.png"))

        // "Send test webhook": signed with the shop's own rule, through the real intake, stored.
        try await browser.open(base.appendingPathComponent("connections/shop"))
        try await browser.click("#test-webhook")
        try await browser.wait("the intake's answer") { try await browser.text("#tested").contains("200 accepted") }
        try await eventually("the test event stored") {
            try await world.store.lastWebhookReceived(connection: "shop") != nil
        }

        // A form the dashboard did not draw (no anti-forgery token) changes nothing.
        try await browser.run(
            """
            const form = document.createElement("form"); form.method = "post"; form.action = "/connections/erp/pause";
            document.body.appendChild(form); form.submit();
            """)
        try await browser.wait("the refusal") { try await browser.text("#message").contains("form anahtarı") }
        #expect(try await world.store.connection("erp")?.paused == false)

        // Signed in read-only: the pages show, their buttons do not, and a change is refused even
        // with the session's own anti-forgery token.
        try await browser.open(base)
        try await browser.click("#sign-out")
        try await browser.wait("signed out") { try await browser.currentURL.path == "/login" }
        try await browser.type(readToken, into: "#token")
        try await browser.click("#sign-in")
        try await browser.wait("the overview, read-only") { try await browser.source.contains("salt okunur") }
        try await browser.open(base.appendingPathComponent("connections/erp"))
        #expect(try await browser.elements("#pause").isEmpty)
        try await browser.run(
            """
            const form = document.createElement("form"); form.method = "post"; form.action = "/connections/erp/pause";
            const csrf = document.createElement("input"); csrf.type = "hidden"; csrf.name = "csrf";
            csrf.value = document.querySelector("meta[name=csrf-token]").content; form.appendChild(csrf);
            document.body.appendChild(form); form.submit();
            """)
        try await browser.wait("the read-only refusal") { try await browser.text("#message").contains("salt okunur") }
        #expect(try await world.store.connection("erp")?.paused == false)
        #expect(world.erp.bookedDocuments == 3)
    }
}
