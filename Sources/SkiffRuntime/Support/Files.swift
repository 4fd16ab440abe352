// Whole files by path: read, write (plain, atomic, kernel files), exists.
import Glibc

/// Read a whole file; nil when it cannot be opened.
public func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    return readAll(fd)
}

func readText(_ path: String) -> String? {
    readFile(path).map { String(decoding: $0, as: UTF8.self) }
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
