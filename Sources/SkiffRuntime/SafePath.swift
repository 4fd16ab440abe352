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
    func open(_ path: String, flags: Int32 = SK_O_PATH, mode: mode_t = 0) throws -> Int32 {
        let rel = relative(path)
        while true {
            let fd = sk_openat2(self.fd, rel, UInt64(flags | O_CLOEXEC), UInt64(mode), SK_RESOLVE_IN_ROOT | SK_RESOLVE_NO_MAGICLINKS)
            if fd >= 0 { return fd }
            if errno == EAGAIN || errno == EINTR { continue }
            throw SkiffError("open \(path) in rootfs \(self.path): \(errnoText())")
        }
    }

    /// Does `path` exist inside the root (following symlinks, inside the root)?
    func exists(_ path: String) -> Bool {
        guard let fd = try? open(path) else { return false }
        Glibc.close(fd)
        return true
    }

    /// mkdir -p inside the root; returns an SK_O_PATH fd on the final directory.
    func mkdirAll(_ path: String, mode: mode_t = 0o755) throws -> Int32 {
        if let fd = try? open(path, flags: SK_O_PATH | O_DIRECTORY) { return fd }
        var parentFd = try self.open("/", flags: SK_O_PATH | O_DIRECTORY)
        var prefix = ""
        for component in relative(path).split(separator: "/") where component != "." {
            prefix += "/" + component
            if let next = try? open(prefix, flags: SK_O_PATH | O_DIRECTORY) {
                Glibc.close(parentFd); parentFd = next; continue
            }
            if component == ".." { Glibc.close(parentFd); throw SkiffError("mkdir \(path) in rootfs: bad path") }
            // One name, created relative to a directory fd: mkdirat never follows a symlink
            // in the last component (an existing symlink gives EEXIST, then the open below
            // resolves it inside the root).
            if mkdirat(parentFd, String(component), mode) != 0 && errno != EEXIST {
                let e = errno; Glibc.close(parentFd)
                throw SkiffError("mkdir \(prefix) in rootfs \(self.path): \(errnoText(e))")
            }
            Glibc.close(parentFd)
            parentFd = try open(prefix, flags: SK_O_PATH | O_DIRECTORY)
        }
        return parentFd
    }

    /// Create an empty regular file (and its parents) inside the root, or open the
    /// existing one; never through a symlink in the last component.
    func createFile(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
        if let fd = try? open(path, flags: SK_O_PATH), !isDirectory(fd: fd) { return fd }
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

/// The path through which the kernel reaches an open fd's file (for mount(2)).
func procFdPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }

func isDirectory(fd: Int32) -> Bool {
    var st = stat()
    return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}
