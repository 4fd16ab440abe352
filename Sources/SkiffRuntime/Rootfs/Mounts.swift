// Mount options as runc reads them: "ro,nosuid,bind,rprivate,size=65536k" becomes
// mount(2) flags, propagation changes and the filesystem's data string.
import CShim
import Glibc

struct MountOptions {
    var flags: UInt = 0
    var propagation: [UInt] = []
    var data: [String] = []

    var isBind: Bool { flags & SK_MS_BIND != 0 }
    var dataString: String? { data.isEmpty ? nil : data.joined(separator: ",") }

    /// Flags (set or clear) by option name, from mount(8).
    static let table: [String: (clear: Bool, flag: UInt)] = [
        "async": (true, SK_MS_SYNCHRONOUS), "atime": (true, SK_MS_NOATIME), "bind": (false, SK_MS_BIND),
        "defaults": (false, 0), "dev": (true, SK_MS_NODEV), "diratime": (true, SK_MS_NODIRATIME),
        "dirsync": (false, SK_MS_DIRSYNC), "exec": (true, SK_MS_NOEXEC), "lazytime": (false, SK_MS_LAZYTIME),
        "loud": (true, SK_MS_SILENT), "mand": (false, SK_MS_MANDLOCK), "noatime": (false, SK_MS_NOATIME),
        "nodev": (false, SK_MS_NODEV), "nodiratime": (false, SK_MS_NODIRATIME), "noexec": (false, SK_MS_NOEXEC),
        "nolazytime": (true, SK_MS_LAZYTIME), "nomand": (true, SK_MS_MANDLOCK), "norelatime": (true, SK_MS_RELATIME),
        "nostrictatime": (true, SK_MS_STRICTATIME), "nosuid": (false, SK_MS_NOSUID),
        "nosymfollow": (false, SK_MS_NOSYMFOLLOW),
        "rbind": (false, SK_MS_BIND | SK_MS_REC), "relatime": (false, SK_MS_RELATIME),
        "remount": (false, SK_MS_REMOUNT),
        "ro": (false, SK_MS_RDONLY), "rw": (true, SK_MS_RDONLY), "silent": (false, SK_MS_SILENT),
        "strictatime": (false, SK_MS_STRICTATIME), "suid": (true, SK_MS_NOSUID), "sync": (false, SK_MS_SYNCHRONOUS),
    ]

    static let propagationTable: [String: UInt] = [
        "private": SK_MS_PRIVATE, "shared": SK_MS_SHARED, "slave": SK_MS_SLAVE, "unbindable": SK_MS_UNBINDABLE,
        "rprivate": SK_MS_PRIVATE | SK_MS_REC, "rshared": SK_MS_SHARED | SK_MS_REC,
        "rslave": SK_MS_SLAVE | SK_MS_REC, "runbindable": SK_MS_UNBINDABLE | SK_MS_REC,
    ]

    init(_ options: [String]) {
        for opt in options {
            if let (clear, flag) = MountOptions.table[opt] {
                if clear { flags &= ~flag } else { flags |= flag }
            } else if let p = MountOptions.propagationTable[opt] {
                propagation.append(p)
            } else if opt == "tmpcopyup" {
                continue // runc's extension to copy a tmpfs target's old content up: not implemented, ignored
            } else {
                data.append(opt)
            }
        }
    }

    static func describe(_ flags: UInt) -> String {
        let names: [(UInt, String)] = [
            (SK_MS_RDONLY, "MS_RDONLY"), (SK_MS_NOSUID, "MS_NOSUID"), (SK_MS_NODEV, "MS_NODEV"),
            (SK_MS_NOEXEC, "MS_NOEXEC"),
            (SK_MS_REMOUNT, "MS_REMOUNT"), (SK_MS_BIND, "MS_BIND"), (SK_MS_MOVE, "MS_MOVE"), (SK_MS_REC, "MS_REC"),
            (SK_MS_PRIVATE, "MS_PRIVATE"), (SK_MS_SLAVE, "MS_SLAVE"), (SK_MS_SHARED, "MS_SHARED"),
            (SK_MS_UNBINDABLE, "MS_UNBINDABLE"), (SK_MS_RELATIME, "MS_RELATIME"), (SK_MS_STRICTATIME, "MS_STRICTATIME"),
            (SK_MS_NOATIME, "MS_NOATIME"),
        ]
        let parts = names.filter { flags & $0.0 != 0 }.map(\.1)
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}

/// mount(2), explained.
func mountFS(
    _ source: String?, _ target: String, _ fstype: String?, _ flags: UInt, _ data: String?,
    what: String, shown: String
) throws {
    // Only built for --explain: in the container's init every string is heap pages
    // written, charged to the container's memory limit.
    func call() -> String {
        var call =
            "mount(\(source.map { "\"\($0)\"" } ?? "NULL"), \"\(shown)\", \(fstype.map { "\"\($0)\"" } ?? "NULL"), "
            + "\(MountOptions.describe(flags))"
        if let data { call += ", \"\(data)\"" }
        return call + ")"
    }
    try Explain.step(what, call()) {
        try sys("mount \(source ?? fstype ?? "") on \(shown)") { sk_mount(source, target, fstype, flags, data) }
    }
}

/// The MS_* flags a mount already has (statvfs), which a bind remount must keep.
func existingMountFlags(_ path: String) -> UInt {
    var st = statvfs()
    guard statvfs(path, &st) == 0 else { return 0 }
    var flags: UInt = 0
    let f = UInt(st.f_flag)
    // ST_* values equal the MS_* ones for these bits...
    for bit in [SK_MS_RDONLY, SK_MS_NOSUID, SK_MS_NODEV, SK_MS_NOEXEC, SK_MS_NOATIME, SK_MS_NODIRATIME]
    where f & bit != 0 {
        flags |= bit
    }
    // ...but not for relatime (ST_RELATIME is 4096).
    if f & 4096 != 0 { flags |= SK_MS_RELATIME }
    return flags
}
