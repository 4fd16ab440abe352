// Small, honest wrappers over libc: every failing call becomes a SkiffError that
// names what was being done and the kernel's reason.
import CShim
import Glibc

/// The one error type of the runtime: a single human-readable line.
public struct SkiffError: Error, CustomStringConvertible {
    public let message: String
    /// The errno behind it, when a system call failed (0 otherwise).
    public let code: Int32
    public init(_ message: String, code: Int32 = 0) { self.message = message; self.code = code }
    public var description: String { message }
}

/// The text of an errno value ("No such file or directory").
func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// Run a libc call that returns -1 on failure; retry on EINTR, throw with `what` otherwise.
@discardableResult
func sys(_ what: @autoclosure () -> String, _ call: () -> Int32) throws -> Int32 {
    while true {
        let rc = call()
        if rc >= 0 { return rc }
        let code = errno
        if code == EINTR { continue }
        throw SkiffError("\(what()): \(errnoText(code))", code: code)
    }
}

// MARK: - Files

/// Read a whole file; nil when it cannot be opened.
public func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    return readAll(fd)
}

/// Read an fd to its end.
func readAll(_ fd: Int32) -> [UInt8] {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

func readText(_ path: String) -> String? {
    readFile(path).map { String(decoding: $0, as: UTF8.self) }
}

/// Write all bytes to an fd.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SkiffError("write: \(errnoText())")
        }
        off += n
    }
}

/// Write a file (truncate/create).
func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    let fd = try sys("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
    defer { close(fd) }
    do { try writeAll(fd, Array(text.utf8)) } catch { throw SkiffError("write \(path): \(errnoText())") }
}

/// Write a file atomically: a new temp file in the same directory, then rename(2). The
/// temp file is created with O_EXCL|O_NOFOLLOW: in a directory others can write to (a
/// --pid-file in /tmp), a symlink planted at its name cannot make root write elsewhere.
public func writeFileAtomic(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    let tmp = path + ".tmp.\(getpid())"
    do {
        let fd = try sys("create \(tmp)") { open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        defer { close(fd) }
        do { try writeAll(fd, Array(text.utf8)) } catch { throw SkiffError("write \(tmp): \(errnoText())") }
        try sys("rename \(tmp) to \(path)") { rename(tmp, path) }
    } catch {
        unlink(tmp)
        throw error
    }
}

/// Write to a kernel file (sysfs, procfs, cgroupfs) where a short write is an error.
func writeKernelFile(_ path: String, _ value: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    if fd < 0 { throw SkiffError("open \(path): \(errnoText())") }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
    if n < 0 { throw SkiffError("write \(path) = \(value): \(errnoText())") }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// mkdir -p.
func mkdirAll(_ path: String, mode: mode_t = 0o755) throws {
    if isDirectory(path) { return }
    let parent = dirname(of: path)
    if parent != path && !parent.isEmpty { try mkdirAll(parent, mode: mode) }
    if mkdir(path, mode) != 0 && errno != EEXIST { throw SkiffError("mkdir \(path): \(errnoText())") }
}

/// rm -rf for the runtime's own directories (state dirs, overlay layers). It walks by
/// file descriptor (openat O_NOFOLLOW, unlinkat) and never follows a symlink nor crosses
/// into another mount: a container may still write to its upper layer while it is removed
/// and swap a directory for a symlink to the host's files; a path-based walk would follow
/// it (security review, L6).
func removeAll(_ path: String) {
    let parent = open(dirname(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if parent < 0 { return }
    defer { close(parent) }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    removeEntry(name, in: parent, device: nil)
}

private func removeEntry(_ name: String, in dir: Int32, device: UInt64?) {
    if unlinkat(dir, name, 0) == 0 || errno == ENOENT { return }
    guard errno == EISDIR || errno == EPERM else { return }
    let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 { return }
    var st = stat()
    guard fstat(fd, &st) == 0, device == nil || UInt64(st.st_dev) == device else { close(fd); return } // another mount
    guard let d = fdopendir(fd) else { close(fd); return }
    var names: [String] = []
    while let e = readdir(d) {
        let n = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if n != "." && n != ".." { names.append(n) }
    }
    for n in names { removeEntry(n, in: dirfd(d), device: UInt64(st.st_dev)) }
    closedir(d)
    unlinkat(dir, name, AT_REMOVEDIR)
}

/// Names in a directory, without "." and "..".
func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func dirname(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

/// Make `path` absolute against `base` and drop "." and ".." lexically.
func absolutePath(_ path: String, relativeTo base: String) -> String {
    let joined = path.hasPrefix("/") ? path : base + "/" + path
    var parts: [Substring] = []
    for part in joined.split(separator: "/") {
        if part == "." { continue }
        if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
        parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
}

func currentDirectory() -> String {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX))
    guard getcwd(&buf, buf.count) != nil else { return "/" }
    return String(cString: buf)
}

/// Monotonic clock in nanoseconds (for --explain timings and timeouts).
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Sleep for some milliseconds.
func sleepMillis(_ ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var left = timespec()
    while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
}

/// RFC 3339 time with nanoseconds in UTC: as Go prints time.Time in JSON (trailing zeros
/// of the fraction dropped), or with all nine digits (`fixedWidth`, the CRI log format).
func rfc3339Now(fixedWidth: Bool = false) -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = ts.tv_sec
    var tmv = tm()
    gmtime_r(&t, &tmv)
    func pad(_ v: Int, _ w: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    var nanos = pad(ts.tv_nsec, 9)
    while !fixedWidth && nanos.hasSuffix("0") { nanos.removeLast() }
    return "\(pad(Int(tmv.tm_year) + 1900, 4))-\(pad(Int(tmv.tm_mon) + 1, 2))-\(pad(Int(tmv.tm_mday), 2))T"
        + "\(pad(Int(tmv.tm_hour), 2)):\(pad(Int(tmv.tm_min), 2)):\(pad(Int(tmv.tm_sec), 2))"
        + (nanos.isEmpty ? "" : "." + nanos) + "Z"
}

/// Flush C stdio before fork/exec so buffered text is not written twice.
func flushStdio() { fflush(nil) }
