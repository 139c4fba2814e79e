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
