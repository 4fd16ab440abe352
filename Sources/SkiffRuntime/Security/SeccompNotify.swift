// SCMP_ACT_NOTIFY: handing the seccomp listener fd to the agent at
// linux.seccomp.listenerPath, the way runc does.
//
// When a rule's action is SCMP_ACT_NOTIFY, the kernel does not decide the call: it
// parks the calling thread and queues a notification on a "listener" fd created when
// the filter was loaded. Whoever holds that fd (the seccomp agent) reads the
// notification, may look at the process's memory, and answers with a return value or
// an errno. The runtime's job is only the handover:
//
//   init                                  skiff (create/run)            agent
//   seccomp_load → listener fd
//   seccomp-listener + fd ──────────────▶ connect(listenerPath)
//                                         ContainerProcessState JSON
//                                         + fd (SCM_RIGHTS) ────────────▶ recvmsg
//   ◀────────────────────────── seccomp-done
//   close(fd), go on
//
// (The messages are SyncMessage's, Sync.swift.)
// The JSON is runtime-spec's ContainerProcessState: {"ociVersion", "fds":
// ["seccompFd"], "pid", "metadata": listenerMetadata, "state": {... "status":
// "creating"}}.
import CShim
import Glibc
import SkiffSpec

enum SeccompNotify {
    /// In init: send the listener fd to skiff over the handshake socket, wait for skiff
    /// to have passed it on, then close this process's copy.
    static func handOver(_ fd: Int32, over sync: SyncSocket) throws {
        defer { close(fd) }
        try sync.ask(.seccompListener, fd: fd, expect: .seccompDone)
    }

    /// In skiff, when init (or an exec'd process) sent `seccompListener` with `fd`:
    /// forward the fd to the agent with the process state, close skiff's copy, and
    /// return the answer that tells the process to go on. `pid` is the filtered process,
    /// `state` the container's.
    static func forwardListener(_ fd: Int32?, seccomp: LinuxSeccomp?, pid: Int32, state: State) throws -> SyncMessage {
        guard let fd else { throw SkiffError("linux.seccomp: the listener fd did not arrive") }
        defer { close(fd) }
        try forward(fd, to: seccomp?.listenerPath ?? "", metadata: seccomp?.listenerMetadata, pid: pid, state: state)
        return .seccompDone
    }

    /// Connect to the agent's unix socket and send it the fd with the process state.
    static func forward(_ fd: Int32, to path: String, metadata: String?, pid: Int32, state: State) throws {
        let field = "linux.seccomp.listenerPath"
        let sock = try sys("\(field): socket") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        defer { close(sock) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw SkiffError("\(field) \"\(path)\": must be a socket path shorter than \(capacity) bytes")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 { throw SkiffError("\(field) \(path): connect: \(errnoText())") }
        let message = ContainerProcessState(fds: ["seccompFd"], pid: Int(pid), metadata: metadata, state: state)
        let json = Array(JSONCodec.encode(message).utf8)
        try Explain.step("seccomp agent", "sendmsg(\"\(path)\", ContainerProcessState + listener fd)") {
            try sys("\(field) \(path): send the listener fd") { sk_send_fd(sock, fd, json, json.count) }
        }
    }
}
