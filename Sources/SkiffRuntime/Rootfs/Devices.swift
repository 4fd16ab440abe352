// /dev inside the container: the default devices every container gets, the spec's
// linux.devices, and the usual symlinks. mknod where allowed; where it is refused
// (inside a user namespace) the host's device node is bind-mounted instead.
//
// Every node is created relative to a directory fd resolved inside the rootfs, by
// its last name only (mknodat never follows a symlink there), and then checked with
// fstat: /dev/null must really be the 1:3 character device before anyone relies on it.
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

    /// The host's /dev/null (opened before the root switch, so the rootfs cannot
    /// substitute its own), checked to be the 1:3 character device. maskedPaths bind it
    /// over files; a rootfs whose /dev/null is a symlink to, say, /proc/sys/kernel/
    /// core_pattern must not turn a masked file into a writable window (CVE-2025-31133).
    static func openHostNull() throws -> Int32 {
        let fd = try sys("open /dev/null") { open("/dev/null", SK_O_PATH | O_CLOEXEC) }
        do { try requireDevice(fd, type: "c", major: 1, minor: 3, "the host's /dev/null") } catch {
            close(fd)
            throw error
        }
        return fd
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
        unlinkat(dir, name, 0) // a file (or symlink) the image shipped there must not survive
        let rc = Explain.step("create device", "mknod(\"\(d.path)\", \(d.type) \(d.major):\(d.minor))") {
            sk_mknodat(dir, name, mode, UInt32(d.major), UInt32(d.minor))
        }
        if rc == 0 {
            try sys("chown \(d.path)") { fchownat(dir, name, d.uid ?? 0, d.gid ?? 0, AT_SYMLINK_NOFOLLOW) }
            let node = try sys("open \(d.path)") { openat(dir, name, SK_O_PATH | O_NOFOLLOW | O_CLOEXEC) }
            defer { close(node) }
            try verify(d, node)
            return
        }
        guard errno == EPERM else { throw SkiffError("mknod \(d.path): \(errnoText())") }
        // Not allowed to create device nodes (user namespace): bind the host's node,
        // after checking that the host path is that device.
        let source = try sys("open host device \(d.path)") { open(d.path, SK_O_PATH | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(source) }
        try verify(d, source, what: "host \(d.path)")
        let target = try root.createFile(d.path, mode: 0o600)
        try mountFS(procFdPath(source), procFdPath(target), nil, SK_MS_BIND, nil, what: "bind device", shown: d.path)
        close(target)
        let top = try root.open(d.path)
        defer { close(top) }
        try verify(d, top)
    }

    /// The node behind `fd` is the device the spec describes.
    private static func verify(_ d: LinuxDevice, _ fd: Int32, what: String? = nil) throws {
        let what = what ?? d.path
        if d.type == "p" {
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else {
                throw SkiffError("\(what) is not a FIFO; refusing to use it")
            }
            return
        }
        try requireDevice(fd, type: d.type == "b" ? "b" : "c", major: d.major, minor: d.minor, what)
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
