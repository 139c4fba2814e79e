import Foundation
import KopruEngine
import Testing

@Suite("Worker identity: telling a dead lease holder on this machine")
struct WorkerIdentityTests {
    let me = WorkerIdentity.current

    @Test("this process is named host-pid@boot.pidns.start, reads back as itself, and is alive")
    func current() throws {
        #if os(Linux)
        let instance = try #require(me.instance, "Linux has /proc: the identity carries its instance")
        #expect(instance.boot.count == 8)
        #endif
        #expect(me.description.hasPrefix("\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"))
        #expect(WorkerIdentity(parsing: me.description) == me)
        #expect(!me.isGone(seenFrom: me))
    }

    @Test("names read back; other names are nobody's to judge")
    func parsing() {
        #expect(WorkerIdentity(parsing: "bench") == nil)
        #expect(WorkerIdentity(parsing: "worker-test") == nil)
        #expect(WorkerIdentity(parsing: "shop-1-12@abcd1234.4026531836") == nil, "an instance has three parts")
        let old = WorkerIdentity(parsing: "my-host-12")
        #expect(old == WorkerIdentity(host: "my-host", pid: 12, instance: nil), "the name earlier versions wrote")
        #expect(old?.isGone(seenFrom: me) == false, "without an instance, only the lease judges it")
        let full = WorkerIdentity(parsing: "my-host.example-12@abcd1234.4026531836.999")
        #expect(full?.host == "my-host.example")
        #expect(full?.instance == .init(boot: "abcd1234", pidNamespace: "4026531836", startTicks: 999))
    }

    @Test("/proc/PID/stat is read after the last parenthesis: a command name may hold spaces and ')'")
    func stat() {
        let fields = (3...52).map { $0 == 3 ? "S" : $0 == 22 ? "123456" : "0" }.joined(separator: " ")
        #expect(ProcessStatus(stat: Data("4242 (kopru) \(fields)\n".utf8)) == ProcessStatus(pid: 4242, state: "S", startTicks: 123456))
        let odd = ProcessStatus(stat: Data("77 (a) b (c) \(fields)".utf8))
        #expect(odd?.pid == 77 && odd?.startTicks == 123456)
        var bytes = Data("9 (".utf8) + Data([0xFF, 0xFE]) + Data(") \(fields)".utf8)
        #expect(ProcessStatus(stat: bytes)?.startTicks == 123456, "a name that is not UTF-8")
        bytes = Data("9 (kopru) S 1 2".utf8)
        #expect(ProcessStatus(stat: bytes) == nil, "too few fields")
    }

    #if os(Linux)
    @Test("a process that has exited, or a pid now used by a process started at another time, is gone")
    func gone() throws {
        let instance = try #require(me.instance)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let exited = WorkerIdentity(host: me.host, pid: child.processIdentifier, instance: instance)
        #expect(exited.isGone(seenFrom: me), "the child's pid is gone")

        var reused = me
        reused.instance?.startTicks = instance.startTicks &+ 1
        #expect(reused.isGone(seenFrom: me), "the same pid, started at another time")
    }

    @Test("a stopped process is alive; an unreaped zombie is gone")
    func stoppedAndZombie() throws {
        func spawn(_ arguments: [String]) throws -> pid_t {
            var pid: pid_t = 0
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, arguments[0], nil, nil, argv, environ) == 0 else { throw CocoaError(.executableLoad) }
            return pid
        }
        func identity(_ pid: pid_t) throws -> WorkerIdentity {
            let stat = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/stat"))
            let status = try #require(ProcessStatus(stat: stat))
            var instance = try #require(me.instance)
            instance.startTicks = status.startTicks
            return WorkerIdentity(host: me.host, pid: pid, instance: instance)
        }
        let sleeper = try spawn(["/bin/sleep", "30"])
        let running = try identity(sleeper)
        #expect(!running.isGone(seenFrom: me), "a running process")
        kill(sleeper, SIGSTOP)
        #expect(!running.isGone(seenFrom: me), "a stopped process (SIGSTOP) is alive")
        kill(sleeper, SIGKILL)
        var status: Int32 = 0
        // Not reaped yet: a zombie, whose pid still exists.
        var zombie = false
        for _ in 0..<200 where !zombie {
            zombie = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(sleeper)/stat"))).flatMap(ProcessStatus.init(stat:))?.state == "Z"
            if !zombie { usleep(10_000) }
        }
        #expect(zombie, "the killed child is a zombie until reaped")
        #expect(running.isGone(seenFrom: me), "a zombie is gone")
        waitpid(sleeper, &status, 0)
        #expect(running.isGone(seenFrom: me), "a reaped process is gone")
    }

    @Test("a worker on another host, in another container or from another boot is not judged")
    func notOurs() throws {
        let instance = try #require(me.instance)
        let dead = Int32.max - 7  // above any pid_max
        var other = WorkerIdentity(host: me.host, pid: dead, instance: instance)
        #expect(other.isGone(seenFrom: me), "on this machine, a pid that does not exist is gone")
        other.host = me.host + "-elsewhere"
        #expect(!other.isGone(seenFrom: me), "another host")
        other = WorkerIdentity(host: me.host, pid: dead, instance: .init(boot: instance.boot, pidNamespace: "1", startTicks: 1))
        #expect(!other.isGone(seenFrom: me), "another pid namespace")
        other = WorkerIdentity(host: me.host, pid: dead, instance: .init(boot: "00000000", pidNamespace: instance.pidNamespace, startTicks: 1))
        #expect(!other.isGone(seenFrom: me), "another boot")
    }
    #endif
}
