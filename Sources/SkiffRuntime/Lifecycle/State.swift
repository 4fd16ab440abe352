// Where a container's state lives: ROOT/ID/state.json (plus exec.fifo while it is
// "created"). The status is never stored: it is derived from the kernel each time.
import Glibc
import SkiffSpec

public enum ContainerStatus: String, Codable {
    case creating, created, running, paused, stopped
}

/// What Skiff remembers about a container between commands.
public struct ContainerRecord: Codable {
    public var ociVersion: String
    public var id: String
    public var pid: Int32
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    /// Start time of the init process (field 22 of /proc/PID/stat), to detect pid reuse.
    public var initStartTime: UInt64
    /// The cgroup directory, relative to the cgroup2 root ("" when none was made).
    public var cgroupPath: String
    /// The container's config, as it was at create time (hooks, namespaces, process).
    public var config: Spec
    /// The overlay layers when the root is an overlay (annotation run.skiff.overlay).
    public var overlay: OverlayLayers?
    /// The cgroup v1 devices directory holding the device rules, on hosts without a
    /// usable cgroup v2 (DeviceCgroupV1.swift); exec'd processes join it too.
    public var deviceCgroupV1: String?
}

/// What `list` and `state` show of a container: state.json without the config it
/// carries, but for the command (process.args). Read with a JSONProjection, which skips
/// the config rather than building it: a tenth of the work of a whole ContainerRecord.
public struct ContainerSummary: Decodable {
    public var ociVersion: String
    public var id: String
    public var pid: Int32
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    public var initStartTime: UInt64
    public var cgroupPath: String
    private var config: Config

    /// process.args of the config.
    public var args: [String] { config.process?.args ?? [] }

    private struct Config: Decodable {
        var process: ProcessArgs?
    }
    private struct ProcessArgs: Decodable {
        var args: [String]?
    }

    /// The parts of state.json a summary is made of.
    static let projection = JSONProjection(
        members: ["config": .only(["process": .only(["args": .whole])])], keepsOthers: true)
}

/// The state directory root (--root) and the containers in it.
public struct StateStore {
    public let root: String
    public init(root: String) { self.root = root }

    public func directory(_ id: String) -> String { root + "/" + id }

    /// Where containers' persistent data (the overlay's upper and work layers) lives:
    /// $SKIFF_DATA, else /var/lib/skiff. Not in the state root, which is on /run: a tmpfs
    /// the host needs, which a container writing its upper layer could fill (review M6).
    public static var dataRoot: String { getenv("SKIFF_DATA").map { String(cString: $0) } ?? "/var/lib/skiff" }

    /// The container's data directory (0700): DATA/containers/ID for the default state
    /// root; other roots get the root's tag in the name, as their cgroups do.
    public func dataDirectory(_ id: String) -> String {
        let absRoot = absolutePath(root, relativeTo: currentDirectory())
        let name = absRoot == Cgroup.defaultRoot ? id : Cgroup.rootTag(absRoot) + "-" + id
        return StateStore.dataRoot + "/containers/" + name
    }
    func recordPath(_ id: String) -> String { directory(id) + "/state.json" }
    func fifoPath(_ id: String) -> String { directory(id) + "/exec.fifo" }
    /// Where init reports a failure once create has returned (Sync.swift), for `start`.
    func reportPath(_ id: String) -> String { directory(id) + "/init.error" }

    /// Container ids: the same rule as runc (letters, digits, _ + - .), not "." or "..".
    public static func validate(id: String) throws {
        let ok =
            !id.isEmpty && id != "." && id != ".." && id.utf8.count <= 1024
            && id.unicodeScalars.allSatisfy {
                ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
                    || "_+-.".unicodeScalars.contains($0)
            }
        if !ok { throw SkiffError("invalid container id \"\(id)\": use letters, digits, '_', '+', '-' and '.'") }
    }

    public func load(_ id: String) throws -> ContainerRecord {
        try StateStore.validate(id: id)
        guard let bytes = readFile(recordPath(id)) else {
            throw SkiffError("container \"\(id)\" does not exist")
        }
        do { return try JSONCodec.decode(ContainerRecord.self, from: bytes) } catch {
            throw SkiffError("\(recordPath(id)): corrupt state: \(error)")
        }
    }

    /// A container's summary: what load reads, but for the config (for `list`, `state`).
    public func loadSummary(_ id: String) throws -> ContainerSummary {
        try StateStore.validate(id: id)
        guard let bytes = Self.readSmall(recordPath(id)) else {
            throw SkiffError("container \"\(id)\" does not exist")
        }
        do {
            let json = try JSON.parse(bytes, keeping: ContainerSummary.projection)
            return try JSONCodec.decode(ContainerSummary.self, from: json)
        } catch {
            throw SkiffError("\(recordPath(id)): corrupt state: \(error)")
        }
    }

    /// A whole file, read into a buffer sized by fstat (`list` reads a thousand of them).
    private static func readSmall(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var n = 0
        while n < out.count {
            let r = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + n, $0.count - n) }
            if r < 0 && errno == EINTR { continue }
            if r < 0 { return nil }
            if r == 0 { break }
            n += r
        }
        if n == out.count { return out + readAll(fd) } // it grew since fstat
        out.removeLast(out.count - n)
        return out
    }

    func save(_ record: ContainerRecord) throws {
        try writeFileAtomic(recordPath(record.id), JSONCodec.encode(record), mode: 0o600)
    }

    /// Every container id in the root, sorted.
    public func ids() -> [String] {
        listDirectory(root).filter { fileExists(recordPath($0)) }
    }

    /// The status, read from the kernel: is init alive (and the same process), is it
    /// still waiting on the exec fifo, is its cgroup frozen.
    public func status(of record: ContainerRecord) -> ContainerStatus {
        status(id: record.id, pid: record.pid, initStartTime: record.initStartTime, cgroupPath: record.cgroupPath)
    }

    public func status(of summary: ContainerSummary) -> ContainerStatus {
        status(id: summary.id, pid: summary.pid, initStartTime: summary.initStartTime, cgroupPath: summary.cgroupPath)
    }

    private func status(id: String, pid: Int32, initStartTime: UInt64, cgroupPath: String) -> ContainerStatus {
        guard pid > 0, ProcessInfo.startTime(of: pid) == initStartTime else { return .stopped }
        if ProcessInfo.isZombie(pid) { return .stopped }
        if fileExists(fifoPath(id)) { return .created }
        if Cgroup.isFrozen(cgroupPath) { return .paused }
        return .running
    }
}

/// Facts about processes from /proc.
enum ProcessInfo {
    /// Field 22 (starttime) of /proc/PID/stat, or nil if there is no such process.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = statFields(pid), stat.count > 19 else { return nil }
        return UInt64(stat[19])
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = statFields(pid), let state = stat.first else { return true }
        return state == "Z" || state == "X"
    }

    /// The fields of /proc/PID/stat after the command name: [state, ppid, ...].
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}
