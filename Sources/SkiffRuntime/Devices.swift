// /dev inside the container: the default devices every container gets, the spec's
// linux.devices, and the usual symlinks. mknod where allowed; where it is refused
// (inside a user namespace) the host's device node is bind-mounted instead.
import CShim
import Glibc
import SkiffSpec

enum Devices {
    /// null, zero, full, random, urandom, tty: what runc and crun give every container.
    static let defaults: [LinuxDevice] = [
        LinuxDevice(path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/full", type: "c", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/random", type: "c", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/urandom", type: "c", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/tty", type: "c", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    static let symlinks: [(String, String)] = [
        ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
    ]

    static func create(_ extra: [LinuxDevice], in root: RootDir) throws {
        let all = defaults.filter { d in !extra.contains { $0.path == d.path } } + extra
        for device in all { try make(device, in: root) }
        for (target, link) in symlinks { try symlink(target, at: link, in: root) }
        if fileExists("/proc/kcore") { try symlink("/proc/kcore", at: "/dev/core", in: root) }
        // /dev/ptmx points into the container's own devpts instance.
        if root.exists("/dev/pts") {
            let (parent, name) = root.split("/dev/ptmx")
            let dir = try root.mkdirAll(parent)
            defer { close(dir) }
            unlinkat(dir, name, 0)
            try sys("symlink /dev/ptmx") { symlinkat("pts/ptmx", dir, name) }
        }
    }

    static func make(_ d: LinuxDevice, in root: RootDir) throws {
        let (parent, name) = root.split(d.path)
        let dir = try root.mkdirAll(parent)
        defer { close(dir) }
        let typeBits: mode_t
        switch d.type {
        case "b": typeBits = S_IFBLK
        case "p": typeBits = S_IFIFO
        default: typeBits = S_IFCHR // "c" and "u"
        }
        let mode = typeBits | mode_t(d.fileMode ?? 0o666)
        unlinkat(dir, name, 0) // a file the image shipped there must not survive
        let rc = Explain.step("create device", "mknod(\"\(d.path)\", \(d.type) \(d.major):\(d.minor))") {
            sk_mknodat(dir, name, mode, UInt32(d.major), UInt32(d.minor))
        }
        if rc == 0 {
            try sys("chown \(d.path)") { fchownat(dir, name, d.uid ?? 0, d.gid ?? 0, AT_SYMLINK_NOFOLLOW) }
            return
        }
        guard errno == EPERM else { throw SkiffError("mknod \(d.path): \(errnoText())") }
        // Not allowed to create device nodes (user namespace): bind the host's node.
        let target = try root.createFile(d.path, mode: 0o600)
        defer { close(target) }
        try mountFS(d.path, procFdPath(target), nil, SK_MS_BIND, nil, what: "bind device", shown: d.path)
    }

    static func symlink(_ target: String, at link: String, in root: RootDir) throws {
        let (parent, name) = root.split(link)
        let dir = try root.mkdirAll(parent)
        defer { close(dir) }
        if symlinkat(target, dir, name) != 0 && errno != EEXIST {
            throw SkiffError("symlink \(link) -> \(target): \(errnoText())")
        }
    }
}
