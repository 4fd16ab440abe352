// Reading and writing whole buffers through a file descriptor, and flushing stdio
// before a fork (the single-thread rule, docs/architecture.md).
import Glibc

/// Read an fd to its end.
/// The buffer is as large as a regular file says it is (+1, to meet the end in the same
/// read), at most 64 KiB; 4 KiB for what reports no size (procfs, pipes). A fixed 64 KiB
/// buffer, zeroed, cost the container's init 12 fresh pages inside its memory limit just
/// to read /etc/passwd (docs/performance.md, "The lowest memory limit").
func readAll(_ fd: Int32) -> [UInt8] {
    var out: [UInt8] = []
    var st = stat()
    var size = 4096
    if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_size > 0 {
        size = min(Int(st.st_size) + 1, 65536)
    }
    var buf = [UInt8](repeating: 0, count: size)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
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

/// Flush C stdio before fork/exec so buffered text is not written twice.
func flushStdio() { fflush(nil) }
