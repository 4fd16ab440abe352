// The handshake between skiff and the container's init process: a unix socketpair
// (SOCK_SEQPACKET, so each message arrives whole) carrying short text messages.
//
//   skiff                          init (the child)
//     clone3 ───────────────────────▶ starts, waits
//     uid/gid maps, cgroup
//     "go" ─────────────────────────▶ namespaces, rootfs, process setup
//     ◀───────────────────────── "ready"  (or "error <one line>")
//   create returns; later `start` opens exec.fifo ──▶ init unblocks and execs
import CShim
import Glibc

struct SyncSocket {
    let fd: Int32

    static func pair() throws -> (parent: SyncSocket, child: SyncSocket) {
        var fds: [Int32] = [0, 0]
        try sys("socketpair") { socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (SyncSocket(fd: fds[0]), SyncSocket(fd: fds[1]))
    }

    func send(_ message: String) throws {
        let bytes = Array(message.utf8)
        try sys("sync send") { Int32(truncatingIfNeeded: Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))) }
    }

    /// The next message, or nil when the other side closed (exited).
    func receive() throws -> String? {
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SkiffError("sync receive: \(errnoText())") }
            if n == 0 { return nil }
            return String(decoding: buf[0..<n], as: UTF8.self)
        }
    }

    /// Send a file descriptor with a message (SCM_RIGHTS), e.g. a pty master.
    func send(_ message: String, fd passed: Int32) throws {
        let bytes = Array(message.utf8)
        try sys("sync send fd") { sk_send_fd(fd, passed, bytes, bytes.count) }
    }

    /// The next message and the descriptor that came with it, if any; nil on EOF.
    func receiveWithFd() throws -> (String, Int32?)? {
        var buf = [UInt8](repeating: 0, count: 8192)
        var len = 0
        let passed = sk_recv_fd(fd, &buf, buf.count, &len)
        if len < 0 { throw SkiffError("sync receive: \(errnoText())") }
        if len == 0 { return nil }
        return (String(decoding: buf[0..<len], as: UTF8.self), passed >= 0 ? passed : nil)
    }

    func close() { _ = Glibc.close(fd) }
}
