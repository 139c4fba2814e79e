import KopruApp
import ArgumentParser
import ConnectorMagento2
import Foundation
import KopruConnectors
import KopruCore
import KopruEngine
import KopruHTTPClient
import KopruSandbox
import KopruStore
import KopruStoreSQLite
import Logging

extension Bench {
    /// `kopru bench stock`: ERP stock → Magento through the real flow, job processor, SQLite
    /// store and HTTP on loopback.
    struct Stock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "100 k SKUs of ERP stock into Magento: full sync, delta sync, per-SKU baseline, budget efficiency.",
            discussion: """
                Starts the ERP and Magento sandboxes on loopback with --skus products, an SQLite \
                store (synchronous=FULL) in a temporary folder and the job processor, then times \
                (1) a full sync (every SKU through Magento's asynchronous bulk API, until every row \
                is confirmed), (2) a delta sync after --changed of the SKUs changed in the ERP. With \
                --baseline per-sku it also pushes the catalogue the seed's way, one request per \
                SKU. With the sandbox's limits on, it measures how much of a platform's rate limit \
                the hub uses (Ozon's 100 rows × 80 requests/min on stock; Magento bulk behind a \
                host limit of 10 requests/min), in compressed time. Medians of --runs runs.

                By default the two sandboxes run in a child process (this binary with \
                --serve-sandboxes), so the peak RSS reported is the hub's own and the simulators' \
                is reported apart; --sandboxes in-process keeps everything in one process (the \
                RSS is then the sum). The rate-limited runs always keep their sandboxes in process.
                """)

        @Option(help: "Catalogue size.") var skus = 100_000
        @Option(help: "Share changed before the delta run: 1% or a count.") var changed = "1%"
        @Option(help: "per-sku: also time one request per SKU (the seed's way).") var baseline: String?
        @Option(help: "Runs of the full and delta syncs; medians are reported.") var runs = 3
        @Flag(help: "Skip the rate-limited runs.") var noBudget = false
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "process: the sandboxes in a child process (the hub's memory measured alone); in-process: beside the hub.")
        var sandboxes = "process"
        @Flag(help: .hidden) var serveSandboxes = false

        func validate() throws {
            guard skus >= 100 else { throw ValidationError("--skus must be at least 100") }
            guard runs >= 1 else { throw ValidationError("--runs must be positive") }
            if let baseline, baseline != "per-sku" { throw ValidationError("--baseline takes per-sku") }
            guard ["process", "in-process"].contains(sandboxes) else { throw ValidationError("--sandboxes takes process or in-process") }
            _ = try changedCount()
        }

        func changedCount() throws -> Int {
            if changed.hasSuffix("%"), let share = Double(changed.dropLast()), share > 0, share <= 100 {
                return max(1, Int((Double(skus) * share / 100).rounded()))
            }
            guard let count = Int(changed), count > 0, count <= skus else {
                throw ValidationError("--changed must be a share like 1% or a count up to --skus")
            }
            return count
        }

        func run() async throws {
            quietBenchLogging()
            if serveSandboxes { return try await StockBenchChild.serve(skus: skus) }
            let placement: StockBenchWorld.Placement =
                sandboxes == "in-process"
                ? .inProcess
                : .childProcess(
                    executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(),
                    arguments: ["bench", "stock", "--serve-sandboxes", "--skus", "\(skus)"])
            let changes = try changedCount()
            var fulls: [StockBenchWorld.Timing] = []
            var deltas: [StockBenchWorld.Timing] = []
            var baselineSeconds: Double?
            var rss = 0.0
            var sandboxRSS: Double?
            for run in 1...runs {
                let world = try await StockBenchWorld(skus: skus, profile: .unlimited, placement: placement)
                let full = try await world.sync(mode: "full", expect: skus)
                let delta = try await world.sync(mode: "delta", changing: changes)
                rss = max(rss, StockBenchWorld.peakRSSMegabytes())
                if world.local == nil { sandboxRSS = max(sandboxRSS ?? 0, try await world.counters().peakRSSMegabytes) }
                if run == runs, baseline != nil { baselineSeconds = try await world.perSKUBaseline() }
                await world.shutdown()
                fulls.append(full)
                deltas.append(delta)
                if !json {
                    say(
                        "run \(run): full \(Self.format(full.seconds)) s (\(full.requests) requests, \(full.rows) rows, sandbox \(Self.percent(full.sandboxShare))), delta \(Self.format(delta.seconds)) s (\(delta.requests) requests, \(delta.rows) rows)"
                    )
                }
            }
            var budgets: [StockBenchWorld.BudgetResult] = []
            if !noBudget {
                for profile in [StockBenchWorld.Profile.ozon, .magentoBulk] {
                    let world = try await StockBenchWorld(skus: skus, profile: profile)
                    let result = try await world.budgetRun()
                    await world.shutdown()
                    budgets.append(result)
                    if !json {
                        say(
                            "\(profile.name): \(Self.percent(result.efficiency)) of the limit (\(result.limit)), \(result.refused) refused, \(result.requests) requests, time ×\(Int(result.timeScale)); an order export during the sync took \(Int(result.orderExportMilliseconds)) ms"
                        )
                    }
                }
            }
            let full = Self.median(fulls.map(\.seconds))
            let delta = Self.median(deltas.map(\.seconds))
            var object: [String: Any] = [
                "skus": skus, "changed": changes, "runs": runs, "full_s": Self.round3(full), "delta_s": Self.round3(delta),
                "requests_full": fulls.last!.requests, "requests_delta": deltas.last!.requests,
                "rows_full": fulls.last!.rows, "rows_delta": deltas.last!.rows, "peak_rss_mb": Self.round1(rss),
                "sandbox_share_full": Self.round3(Self.median(fulls.map(\.sandboxShare))),
                "sandbox_share_delta": Self.round3(Self.median(deltas.map(\.sandboxShare))),
                "sandboxes": sandboxRSS == nil ? "in process (peak_rss_mb includes them)" : "child process (peak_rss_mb is the hub's alone)",
                "store": "sqlite (WAL, synchronous=FULL)", "target": "magento2 async bulk (1000 rows × 10 operations per request)",
            ]
            if let sandboxRSS { object["sandbox_peak_rss_mb"] = Self.round1(sandboxRSS) }
            if let baselineSeconds {
                object["baseline_s"] = Self.round3(baselineSeconds)
                object["baseline_requests"] = skus
                object["speedup_vs_baseline"] = Self.round1(baselineSeconds / full)
            }
            if !budgets.isEmpty {
                object["budget_efficiency"] = Self.round3(budgets.map(\.efficiency).min()!)
                object["budget_refused"] = budgets.map(\.refused).reduce(0, +)
                object["order_export_during_sync_ms"] = Int(budgets.map(\.orderExportMilliseconds).max()!)
                object["budget_profiles"] = budgets.map { result -> [String: Any] in
                    [
                        "profile": result.profile, "limit": result.limit, "time_scale": result.timeScale, "requests": result.requests,
                        "rows": result.rows, "refused": result.refused, "efficiency": Self.round3(result.efficiency),
                        "seconds": Self.round3(result.seconds),
                    ]
                }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            var line = "median of \(runs): full \(Self.format(full)) s, delta \(Self.format(delta)) s (\(changes) changed), peak RSS \(Int(rss)) MB"
            line += sandboxRSS.map { " (the hub; sandboxes \(Int($0)) MB in their own process)" } ?? " (hub and sandboxes)"
            if let baselineSeconds { line += ", per-SKU baseline \(Self.format(baselineSeconds)) s (×\(Int(baselineSeconds / full)))" }
            say(line)
        }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        static func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }
        static func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        static func format(_ value: Double) -> String { String(format: "%.3f", value) }
        static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
    }
}
