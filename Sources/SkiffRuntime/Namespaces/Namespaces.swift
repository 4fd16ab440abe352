// Linux namespaces: which ones the spec asks for, new (clone3/unshare) or joined (setns).
import CShim
import Glibc
import SkiffSpec

extension LinuxNamespaceType {
    /// The CLONE_NEW* bit for this namespace type.
    var cloneFlag: UInt64 {
        switch self {
        case .pid: return SK_CLONE_NEWPID
        case .network: return SK_CLONE_NEWNET
        case .mount: return SK_CLONE_NEWNS
        case .ipc: return SK_CLONE_NEWIPC
        case .uts: return SK_CLONE_NEWUTS
        case .user: return SK_CLONE_NEWUSER
        case .cgroup: return SK_CLONE_NEWCGROUP
        case .time: return SK_CLONE_NEWTIME
        }
    }

    /// The name under /proc/PID/ns/.
    var procName: String {
        switch self {
        case .pid: return "pid"
        case .network: return "net"
        case .mount: return "mnt"
        case .ipc: return "ipc"
        case .uts: return "uts"
        case .user: return "user"
        case .cgroup: return "cgroup"
        case .time: return "time"
        }
    }

    var flagName: String {
        switch self {
        case .mount: return "CLONE_NEWNS"
        case .network: return "CLONE_NEWNET"
        default: return "CLONE_NEW" + procName.uppercased()
        }
    }
}

/// The namespace plan of one container.
struct NamespacePlan {
    /// Types that get a new namespace.
    var new: [LinuxNamespaceType] = []
    /// Types that join an existing namespace, with its path, in spec order.
    var joined: [(LinuxNamespaceType, String)] = []

    init(_ spec: Spec) {
        for ns in spec.linux?.namespaces ?? [] {
            if let path = ns.path, !path.isEmpty { joined.append((ns.type, path)) } else { new.append(ns.type) }
        }
    }

    func isNew(_ type: LinuxNamespaceType) -> Bool { new.contains(type) }
    func has(_ type: LinuxNamespaceType) -> Bool { isNew(type) || joined.contains { $0.0 == type } }

    /// Flags for clone3 itself: the pid namespace (it only applies to children), the
    /// user namespace (it must exist before anything it owns), and the other new ones,
    /// so their kernel memory is charged to skiff rather than to the container's cgroup.
    /// Not the cgroup namespace: clone3 would root it at skiff's cgroup, not at the
    /// container's (CLONE_INTO_CGROUP takes effect after the namespaces are copied). And
    /// when a user namespace is joined by path, everything else waits until after that
    /// setns, so the new namespaces are owned by it.
    var cloneFlags: UInt64 {
        let joinsUser = joined.contains { $0.0 == .user }
        return new.filter { t in t == .pid || t == .user || (!joinsUser && t != .cgroup && t != .time) }
            .reduce(0) { $0 | $1.cloneFlag }
    }

    /// The rest of the new namespaces, unshared by the child after it joined its cgroup
    /// (and any user namespace given by path).
    var unshareFlags: UInt64 {
        new.filter { $0 != .time }.reduce(0) { $0 | $1.cloneFlag } & ~cloneFlags
    }

    static func describe(_ flags: UInt64) -> String {
        let names = LinuxNamespaceType.allCases.filter { flags & $0.cloneFlag != 0 }.map(\.flagName)
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }
}

/// A namespace opened for setns: `exec` opens each of the container's init's
/// (/proc/PID/ns/X) up front, which pins them, and joins them later through the fd.
struct NamespaceFile {
    let type: LinuxNamespaceType
    let path: String
    let fd: Int32
}

enum Namespaces {
    /// setns(2) into the namespace at `path` (a /proc/PID/ns/X file or a bind mount of one).
    static func join(_ type: LinuxNamespaceType, path: String) throws {
        let fd = try sys("open namespace \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        try Explain.step("join namespace", "setns(\"\(path)\", \(type.flagName))") {
            try sys(
                "join \(type.rawValue) namespace "
                    + "\(path)"
            ) { sk_setns(fd, Int32(truncatingIfNeeded: type.cloneFlag)) }
        }
    }

    /// Open a namespace file for a later `join(_:)` (the caller closes `fd`).
    static func openForJoin(_ type: LinuxNamespaceType, path: String) throws -> NamespaceFile {
        let fd = try sys("open namespace \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        return NamespaceFile(type: type, path: path, fd: fd)
    }

    /// setns(2) through an fd opened by `openForJoin`.
    static func join(_ ns: NamespaceFile) throws {
        try Explain.step("join namespace", "setns(\(ns.path), \(ns.type.flagName))") {
            try sys(
                "join \(ns.type.rawValue) namespace "
                    + "\(ns.path)"
            ) { sk_setns(ns.fd, Int32(truncatingIfNeeded: ns.type.cloneFlag)) }
        }
    }

    /// A new time namespace (for skiff's children) takes its clock offsets before its
    /// first process enters it.
    static func enterNewTimeNamespace(_ offsets: [String: LinuxTimeOffset]) throws {
        try unshare(SK_CLONE_NEWTIME)
        var text = ""
        for (clock, off) in offsets.sorted(by: { $0.key < $1.key }) {
            text += "\(clock) \(off.secs ?? 0) \(off.nanosecs ?? 0)\n"
        }
        if !text.isEmpty { try writeKernelFile("/proc/self/timens_offsets", text) }
    }

    /// unshare(2) the given CLONE_NEW* flags.
    static func unshare(_ flags: UInt64) throws {
        if flags == 0 { return }
        try Explain.step("new namespaces", "unshare(\(NamespacePlan.describe(flags)))") {
            try sys("unshare(\(NamespacePlan.describe(flags)))") { sk_unshare(Int32(truncatingIfNeeded: flags)) }
        }
    }

    /// The inode of /proc/PID/ns/NAME, which identifies a namespace.
    static func inode(pid: Int32, _ type: LinuxNamespaceType) -> UInt64? {
        var st = stat()
        return stat("/proc/\(pid)/ns/\(type.procName)", &st) == 0 ? UInt64(st.st_ino) : nil
    }
}
