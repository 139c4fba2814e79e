import KopruApp
import ArgumentParser
import Foundation
import KopruStore

@main
struct Kopru: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "kopru",
        abstract: "Köprü: a self-hosted hub that moves orders, stock, prices and shipments between stores, marketplaces, payment providers, ERPs and carriers.",
        discussion: """
            Configuration comes from the YAML file named by KOPRU_CONFIG (or --config) and from the \
            environment, which wins: KOPRU_STORE (default sqlite:./kopru.db), KOPRU_MASTER_KEY, \
            KOPRU_LOG_LEVEL, KOPRU_LOG_FORMAT. See docs/configuration.md.

            Start here:
              kopru serve --role worker     run the job workers and the scheduler
              kopru jobs list               see what the queue holds
              kopru jobs dead               see what failed for good, and why
            """,
        version: version,
        subcommands: [Serve.self, Demo.self, Migrate.self, Tokens.self, Keys.self, Jobs.self, SyncCommand.self, ReconcileCommand.self, SandboxCommand.self, Bench.self, Version.self])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The YAML configuration file (overrides KOPRU_CONFIG).", valueName: "path"))
    var config: String?

    func load() throws -> HubConfiguration {
        var environment = ProcessInfo.processInfo.environment
        if let config { environment["KOPRU_CONFIG"] = config }
        return try HubConfiguration.load(environment: environment)
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of kopru.")

    func run() {
        print("kopru \(Kopru.version)")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the store's schema up to date.",
        discussion: "Safe to run any number of times; `kopru serve` also runs it at start-up.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let configuration = try global.load()
        Runtime.bootstrapLogging(configuration)
        let store = try await Runtime.openStore(configuration)
        print("store is up to date: \(store.summary)")
    }
}
