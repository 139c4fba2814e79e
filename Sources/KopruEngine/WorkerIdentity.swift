import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who holds a lease, precisely enough that another worker on the same machine can tell the
/// holder has died, and take its jobs back at once instead of waiting out the lease (a worker
/// killed and restarted by systemd would otherwise leave its orders stuck for a minute).
///
/// Written as `host-pid@boot.pidns.start`: the host name and pid an operator reads, then what
/// makes the pid unambiguous on Linux (the boot, the pid namespace, and the process's start time,
/// which a reused pid does not share). Where /proc is not there to tell them, the suffix is
/// absent and only the lease's expiry judges the worker, as before.
public struct WorkerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    public var instance: Instance?

    public struct Instance: Sendable, Hashable {
        /// The first 8 characters of the kernel's boot id.
        public var boot: String
        public var pidNamespace: String
        /// Clock ticks since boot when the process started (/proc/PID/stat, field 22).
        public var startTicks: UInt64

        public init(boot: String, pidNamespace: String, startTicks: UInt64) {
            self.boot = boot
            self.pidNamespace = pidNamespace
            self.startTicks = startTicks
        }
    }

    public init(host: String, pid: Int32, instance: Instance?) {
        self.host = host
        self.pid = pid
        self.instance = instance
    }

    public var description: String {
        let base = "\(host)-\(pid)"
        guard let instance else { return base }
        return "\(base)@\(instance.boot).\(instance.pidNamespace).\(instance.startTicks)"
    }

    /// Reads what `description` writes; nil for any other name (a benchmark's "bench", an
    /// operator's own worker id), whose holder is then never judged dead.
    public init?(parsing text: String) {
        let (base, suffix) = text.lastIndex(of: "@").map { (text[..<$0], Optional(text[text.index(after: $0)...])) }
            ?? (text[...], nil)
        guard let dash = base.lastIndex(of: "-"), let pid = Int32(base[base.index(after: dash)...]), pid > 0 else { return nil }
        host = String(base[..<dash])
        self.pid = pid
        guard let suffix else {
            instance = nil
            return
        }
        let parts = suffix.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, let start = UInt64(parts[2]) else { return nil }
        instance = Instance(boot: String(parts[0]), pidNamespace: String(parts[1]), startTicks: start)
    }

    /// This process.
    public static let current: WorkerIdentity = {
        let pid = ProcessInfo.processInfo.processIdentifier
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))
            .map { String($0.trimmingCharacters(in: .whitespacesAndNewlines).prefix(8)) }
        let namespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid"))
            .map { $0.filter(\.isNumber) }
        // /proc/self names our own pid only where /proc belongs to our pid namespace; elsewhere
        // (unshare without --mount-proc) peers would judge us by some other process.
        var instance: Instance?
        if let boot, !boot.isEmpty, let namespace, !namespace.isEmpty,
            let own = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/self/stat"))).flatMap(ProcessStatus.init(stat:)),
            own.pid == pid
        {
            instance = Instance(boot: boot, pidNamespace: namespace, startTicks: own.startTicks)
        }
        return WorkerIdentity(host: ProcessInfo.processInfo.hostName, pid: pid, instance: instance)
    }()

    /// True only when `self` names a process that `observer` can see, on its machine and in its
    /// pid namespace since the same boot, and that process no longer runs: its pid is gone, is a
    /// zombie, or belongs to a process started at another time. Anything else (another host,
    /// another container, no instance to compare, a /proc this process may not read) is not
    /// ours to judge: a live worker taken for dead would have its calls made twice.
    public func isGone(seenFrom observer: WorkerIdentity) -> Bool {
        guard let instance, let seen = observer.instance, host == observer.host, instance.boot == seen.boot,
            instance.pidNamespace == seen.pidNamespace
        else { return false }
        // The kernel's word first: ESRCH is "no such process"; EPERM means it exists.
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let stat = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/stat")) else { return false }
        guard let status = ProcessStatus(stat: stat), status.pid == pid else { return false }
        return status.state == "Z" || status.state == "X" || status.startTicks != instance.startTicks
    }
}

/// The fields of /proc/PID/stat that tell whether a pid is still the same live process.
package struct ProcessStatus: Equatable {
    package var pid: Int32
    package var state: Character
    package var startTicks: UInt64

    package init(pid: Int32, state: Character, startTicks: UInt64) {
        (self.pid, self.state, self.startTicks) = (pid, state, startTicks)
    }

    package init?(stat: Data) {
        // The command name (field 2) is in parentheses and may hold spaces, parentheses or bytes
        // that are not UTF-8: the fields that follow start after the last ")".
        guard let open = stat.firstIndex(of: UInt8(ascii: "(")), let close = stat.lastIndex(of: UInt8(ascii: ")")),
            open < close,
            let pid = Int32(String(decoding: stat[..<open], as: UTF8.self).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let fields = String(decoding: stat[stat.index(after: close)...], as: UTF8.self).split(separator: " ")
        // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
        guard fields.count > 19, let state = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        (self.pid, self.state, self.startTicks) = (pid, state, start)
    }
}
