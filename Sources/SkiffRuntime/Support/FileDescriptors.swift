// Reading and writing whole buffers through a file descriptor, and flushing stdio
// before a fork (the single-thread rule, docs/architecture.md).
import Glibc

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
