// The runtime's one error type, and `sys`, the wrapper every libc call goes through: a
// failing call becomes a SkiffError that names what was being done and the kernel's
// reason, and keeps the errno.
import Glibc

/// The one error type of the runtime: a single human-readable line.
public struct SkiffError: Error, CustomStringConvertible {
    public let message: String
    /// The errno behind it, when a system call failed (0 otherwise).
    public let code: Int32
    public init(_ message: String, code: Int32 = 0) {
        self.message = message
        self.code = code
    }
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
