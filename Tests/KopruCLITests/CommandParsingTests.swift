import ArgumentParser
import Testing

@testable import KopruApp
@testable import kopru

@Suite("Command line")
struct CommandParsingTests {
    @Test("serve takes a role")
    func serve() throws {
        let command = try Kopru.parseAsRoot(["serve", "--role", "worker"])
        #expect((command as? Serve)?.role == .worker)
        #expect((try Kopru.parseAsRoot(["serve"]) as? Serve)?.role == .all)
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["serve", "--role", "everything"]) }
    }

    @Test("tokens, keys and bench webhooks parse; a token name is checked")
    func tokensKeysBench() throws {
        #expect((try Kopru.parseAsRoot(["serve", "--role", "web"]) as? Serve)?.role == .web)
        #expect((try Kopru.parseAsRoot(["tokens", "create", "--name", "agency"]) as? Tokens.Create)?.name == "agency")
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["tokens", "create", "--name", "two words"]) }
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["tokens", "create"]) }
        #expect((try Kopru.parseAsRoot(["tokens", "revoke", "agency"]) as? Tokens.Revoke)?.name == "agency")
        #expect(try Kopru.parseAsRoot(["keys", "rotate"]) is Keys.Rotate)
        let bench = try #require(try Kopru.parseAsRoot(["bench", "webhooks", "--requests", "100", "--json"]) as? Bench.Webhooks)
        #expect(bench.requests == 100 && bench.json && !bench.wrk && bench.role == "web")
        let wrk = try #require(
            try Kopru.parseAsRoot(["bench", "webhooks", "--wrk", "--duration", "5", "--backlog", "1000", "--role", "all"]) as? Bench.Webhooks)
        #expect(wrk.wrk && wrk.duration == 5 && wrk.backlog == 1000 && wrk.role == "all")
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["bench", "webhooks", "--role", "worker"]) }
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["bench", "webhooks", "--wrk", "--wrk-threads", "65"]) }
    }

    @Test("jobs subcommands parse their arguments")
    func jobs() throws {
        let list = try #require(try Kopru.parseAsRoot(["jobs", "list", "--status", "dead", "--limit", "5", "--json"]) as? Jobs.List)
        #expect(list.status == "dead" && list.limit == 5 && list.json)
        #expect((try Kopru.parseAsRoot(["jobs", "show", "42"]) as? Jobs.Show)?.id == 42)
        #expect((try Kopru.parseAsRoot(["jobs", "retry", "7"]) as? Jobs.Retry)?.id == 7)
        #expect((try Kopru.parseAsRoot(["jobs", "dead"]) as? Jobs.Dead)?.limit == 50)
        #expect((try Kopru.parseAsRoot(["jobs", "replay", "1", "2"]) as? Jobs.Replay)?.ids == [1, 2])
        #expect((try Kopru.parseAsRoot(["jobs", "replay", "--all", "--kind", "erp.order"]) as? Jobs.Replay)?.all == true)
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["jobs", "replay"]) }
        #expect(throws: (any Error).self) { _ = try Kopru.parseAsRoot(["jobs", "show", "not-a-number"]) }
        let probe = try #require(try Kopru.parseAsRoot(["jobs", "probe", "--count", "10", "--work-ms", "3"]) as? Jobs.Probe)
        #expect(probe.count == 10 && probe.workMs == 3)
    }

    @Test("migrate, version and bench parse")
    func others() throws {
        #expect(try Kopru.parseAsRoot(["migrate", "--config", "/etc/kopru.yaml"]) is Migrate)
        #expect(try Kopru.parseAsRoot(["version"]) is Version)
        let bench = try #require(try Kopru.parseAsRoot(["bench", "queue", "--jobs", "1000", "--json"]) as? Bench.Queue)
        #expect(bench.jobs == 1000 && bench.json && bench.durability == "full")
    }

    @Test("help texts tell a newcomer what each command does", arguments: [
        ("serve", "SIGTERM"), ("jobs", "dead letters"), ("jobs replay", "--all"), ("jobs probe", "event log"),
        ("migrate", "schema"), ("bench queue", "median"),
    ])
    func help(_ path: String, _ phrase: String) throws {
        let types: [String: any ParsableCommand.Type] = [
            "serve": Serve.self, "jobs": Jobs.self, "jobs replay": Jobs.Replay.self, "jobs probe": Jobs.Probe.self,
            "migrate": Migrate.self, "bench queue": Bench.Queue.self,
        ]
        let text = Kopru.helpMessage(for: types[path]!, columns: 200)
        #expect(text.contains(phrase), "\(path) help should mention \(phrase)")
        #expect(text.contains("USAGE: kopru \(path)"))
    }
}
