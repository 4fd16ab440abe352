// Resolving paths inside the container's root without ever leaving it.
//
// A rootfs is untrusted: "/proc" may be a symlink to "/", "/dev/null" a symlink to
// "/etc/shadow". Every path Skiff mounts on, creates or writes under the rootfs is
// therefore opened with openat2(RESOLVE_IN_ROOT), which treats the rootfs as "/" for
// every symlink and ".." on the way, and the resulting fd is used through
// /proc/self/fd/N so the kernel acts on exactly the file that was checked.
import CShim
import Glibc

struct RootDir {
    /// An SK_O_PATH fd on the container's root directory.
    let fd: Int32
    /// Its host path, for messages.
    let path: String

    init(path: String) throws {
        self.path = path
        fd = try sys("open rootfs \(path)") { Glibc.open(path, SK_O_PATH | O_DIRECTORY | O_CLOEXEC) }
    }

    func close() { _ = Glibc.close(fd) }

    /// Open `path` (absolute, inside the container) relative to the root, never escaping it.
    /// Magic links (/proc/PID/root, /proc/self/fd/N) are refused: they lead anywhere.
    /// With `noSymlinks`, no component may be a symlink at all (for proc and sysfs
    /// targets, which runc also insists be real directories).
    func open(_ path: String, flags: Int32 = SK_O_PATH, mode: mode_t = 0, noSymlinks: Bool = false) throws -> Int32 {
        let fd = tryOpen(path, flags: flags, mode: mode, noSymlinks: noSymlinks)
        if fd >= 0 { return fd }
        throw openError(path, -fd, noSymlinks: noSymlinks)
    }

    /// `open` without the error: the fd, or -errno. For the callers that expect a failure
    /// (is it there yet?): building the error would call strerror, whose locale locks are
    /// writes in the container's init (pages charged to its memory limit), for nothing.
    func tryOpen(_ path: String, flags: Int32 = SK_O_PATH, mode: mode_t = 0, noSymlinks: Bool = false) -> Int32 {
        let rel = relative(path)
        let resolve = SK_RESOLVE_IN_ROOT | SK_RESOLVE_NO_MAGICLINKS | (noSymlinks ? SK_RESOLVE_NO_SYMLINKS : 0)
        while true {
            let fd = sk_openat2(self.fd, rel, UInt64(flags | O_CLOEXEC), UInt64(mode), resolve)
            if fd >= 0 { return fd }
            let e = errno
            if e == EAGAIN || e == EINTR { continue }
            return -e
        }
    }

    private func openError(_ path: String, _ e: Int32, noSymlinks: Bool) -> SkiffError {
        if e == ELOOP && noSymlinks {
            return SkiffError(
                "\(path) in rootfs \(self.path) is or goes through a symlink; refusing to use it", code: e)
        }
        return SkiffError("open \(path) in rootfs \(self.path): \(errnoText(e))", code: e)
    }

    /// Like `open`, but nil when there is nothing at `path` (ENOENT, ENOTDIR).
    func openIfExists(_ path: String, flags: Int32 = SK_O_PATH) throws -> Int32? {
        let fd = tryOpen(path, flags: flags)
        if fd >= 0 { return fd }
        if -fd == ENOENT || -fd == ENOTDIR { return nil }
        throw openError(path, -fd, noSymlinks: false)
    }

    /// Does `path` exist inside the root (following symlinks, inside the root)?
    func exists(_ path: String) -> Bool {
        let fd = tryOpen(path)
        guard fd >= 0 else { return false }
        Glibc.close(fd)
        return true
    }

    /// mkdir -p inside the root; returns an SK_O_PATH fd on the final directory. With
    /// `noSymlinks`, no existing component may be a symlink. A symlink on the way whose
    /// target does not exist yet (an image's /var/run -> /run without /run) gets its
    /// target created, inside the root, as runc does.
    func mkdirAll(_ path: String, mode: mode_t = 0o755, noSymlinks: Bool = false, depth: Int = 0) throws -> Int32 {
        let existing = tryOpen(path, flags: SK_O_PATH | O_DIRECTORY, noSymlinks: noSymlinks)
        if existing >= 0 { return existing }
        guard depth < 40 else {
            throw SkiffError("mkdir \(path) in rootfs \(self.path): too many symlinks", code: ELOOP)
        }
        var parentFd = try self.open("/", flags: SK_O_PATH | O_DIRECTORY)
        var prefix = ""
        for component in relative(path).split(separator: "/") where component != "." {
            let parentPath = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            let next = tryOpen(prefix, flags: SK_O_PATH | O_DIRECTORY, noSymlinks: noSymlinks)
            if next >= 0 {
                Glibc.close(parentFd)
                parentFd = next
                continue
            }
            if next == -ELOOP && noSymlinks {
                Glibc.close(parentFd)
                throw openError(prefix, ELOOP, noSymlinks: true)
            }
            if component == ".." {
                Glibc.close(parentFd)
                throw SkiffError("mkdir \(path) in rootfs: bad path")
            }
            // One name, created relative to a directory fd: mkdirat never follows a symlink
            // in the last component (an existing symlink gives EEXIST).
            if mkdirat(parentFd, String(component), mode) != 0 && errno != EEXIST {
                let e = errno
                Glibc.close(parentFd)
                throw SkiffError("mkdir \(prefix) in rootfs \(self.path): \(errnoText(e))", code: e)
            }
            if !noSymlinks, let target = readLink(parentFd, String(component)) {
                // A dangling symlink: make its target (resolved inside the root), then go through it.
                let resolved = absolutePath(target, relativeTo: parentPath)
                Glibc.close(try mkdirAll(resolved, mode: mode, depth: depth + 1))
            }
            Glibc.close(parentFd)
            parentFd = try open(prefix, flags: SK_O_PATH | O_DIRECTORY, noSymlinks: noSymlinks)
        }
        return parentFd
    }

    /// The target of symlink `name` in directory `dir`, or nil when it is not a symlink.
    private func readLink(_ dir: Int32, _ name: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(dir, name, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Create an empty regular file (and its parents) inside the root, or open the
    /// existing one; never through a symlink in the last component.
    func createFile(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
        if case let fd = tryOpen(path), fd >= 0 {
            if !isDirectory(fd: fd) { return fd }
            Glibc.close(fd)
            throw SkiffError("create \(path) in rootfs \(self.path): is a directory", code: EISDIR)
        }
        let (parent, name) = split(path)
        let dirFd = try mkdirAll(parent)
        defer { Glibc.close(dirFd) }
        let f = openat(dirFd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode)
        if f < 0 && errno != EEXIST { throw SkiffError("create \(path) in rootfs \(self.path): \(errnoText())") }
        if f >= 0 { Glibc.close(f) }
        return try open(path, flags: SK_O_PATH)
    }

    /// The containing directory (created) and the last name of `path`.
    func split(_ path: String) -> (String, String) {
        let abs = absolutePath(path, relativeTo: "/")
        return (dirname(of: abs), String(abs.split(separator: "/").last ?? ""))
    }

    private func relative(_ path: String) -> String {
        let trimmed = path.drop { $0 == "/" }
        return trimmed.isEmpty ? "." : String(trimmed)
    }
}

extension Int32 {
    /// Close this fd (for `try root.open(...).closeFd()` when only the check matters).
    func closeFd() { _ = Glibc.close(self) }
}

/// The path through which the kernel reaches an open fd's file (for mount(2)).
func procFdPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }

func isDirectory(fd: Int32) -> Bool {
    var st = stat()
    return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// Filesystem types (statfs f_type) that targets are checked against.
enum FSMagic {
    static let proc: Int = 0x9fa0
    static let sysfs: Int = 0x6265_6572
    static let tmpfs: Int = 0x0102_1994
    static let devpts: Int = 0x1cd1
    static let mqueue: Int = 0x1980_0202
    static let cgroup2: Int = 0x6367_7270
    static let cgroup: Int = 0x0027_e0eb // a cgroup v1 hierarchy

    /// The type a mount of `fstype` must show afterwards (nil: not checked).
    static func of(_ fstype: String) -> Int? {
        [
            "proc": proc, "sysfs": sysfs, "tmpfs": tmpfs, "devpts": devpts, "mqueue": mqueue, "cgroup2": cgroup2,
            "cgroup": cgroup,
        ][fstype]
    }

    static func name(_ magic: Int) -> String {
        [
            proc: "procfs", sysfs: "sysfs", tmpfs: "tmpfs", devpts: "devpts", mqueue: "mqueue", cgroup2: "cgroup2",
            cgroup: "cgroup",
        ][magic]
            ?? "0x" + String(magic, radix: 16)
    }
}

/// Throw unless the file behind `fd` lives on a filesystem of type `magic` (fstatfs).
/// This is how skiff knows that "/proc" really is procfs before writing under it.
func requireFilesystem(_ fd: Int32, _ magic: Int, _ what: String) throws {
    let type = sk_fstatfs_type(fd)
    if type < 0 { throw SkiffError("\(what): fstatfs: \(errnoText())") }
    if type != magic {
        throw SkiffError("\(what) is not \(FSMagic.name(magic)) (found \(FSMagic.name(type))); refusing to use it")
    }
}

/// Throw unless `fd` is the device node `type` ("c" or "b") major:minor (fstat).
/// This is how skiff knows that /dev/null really is the null device.
func requireDevice(_ fd: Int32, type: String, major: Int64, minor: Int64, _ what: String) throws {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw SkiffError("\(what): fstat: \(errnoText())") }
    let wantType = type == "b" ? S_IFBLK : S_IFCHR
    let rdev = UInt64(st.st_rdev)
    // glibc's major()/minor() are macros; this is their arithmetic.
    let maj = Int64(((rdev >> 8) & 0xfff) | ((rdev >> 32) & 0xffff_f000))
    let min = Int64((rdev & 0xff) | ((rdev >> 12) & 0xffff_ff00))
    if (st.st_mode & S_IFMT) != wantType || maj != major || min != minor {
        throw SkiffError("\(what) is not the \(type) \(major):\(minor) device node; refusing to use it")
    }
}
