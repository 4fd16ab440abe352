// The handshake between skiff and the process it clones (a container's init, or a
// process started by `exec`): one unix socketpair (SOCK_SEQPACKET, so each message
// arrives whole), carrying the messages of `SyncMessage`, some with a file descriptor.
// This file is the protocol's only definition: every message, who sends it, when.
//
//   skiff                          child (init or exec)
//   -----                          --------------------
//   clone3 ─────────────────────▶  starts; a new init arms PR_SET_PDEATHSIG
//   uid/gid maps (a new user namespace)
//   go <host pid> ──────────────▶  (init only) namespaces, rootfs, process
//                                  setup; on the way, as the config asks:
//   ◀───────────────── pty + fd    process.terminal, no --console-socket
//   keep it; pty-done ──────────▶
//   ◀──────────────────── hooks    prestart/createRuntime hooks are due
//   run them; hooks-done ───────▶
//   ◀───── seccomp-listener + fd   an SCMP_ACT_NOTIFY filter is loaded
//   pass the fd on; seccomp-done ▶
//   ◀──────────────────── ready    set up; only execve is left
//   then, per command:
//   create:  save state.json, pid file;
//            created ───────────▶  disarm PDEATHSIG, close the socket,
//            ◀───────────── EOF    (sharing skiff's memory: wait for skiff's
//            exit                  exit), block on exec.fifo until `skiff start`
//   run:     save state.json;
//            start ─────────────▶  disarm PDEATHSIG, execve
//            ◀───────────── EOF    (close-on-exec: the program runs)
//   exec:    ◀───────────── EOF    the child execs right after "ready"
//
// At any point the child may send `error` (step, errno, message) instead, then exits:
// skiff reports it as the command's error. Skiff's side ends a handshake by closing the
// socket; EOF before "ready" means the child died (skiff says why if it can tell).
// A message that is not the one expected is an error on both sides, never a silent
// exit: the child reports "expected X, received Y" and skiff says the same.
//
// Every message that expects an answer is sent by `exchange`, which waits for the
// answer without returning in between: an init that shares skiff's memory until execve
// (shared_clone.c) and skiff then take turns and never run at the same time. That is
// also why pty has an answer, pty-done, though skiff has nothing to say.
//
// After the socket is closed (init blocked on exec.fifo), a failure can no longer go
// over it: init writes the same `error` message to the file init.error in the state
// directory (opened by skiff before the clone) and to the log, and `start` reports it.
import CShim
import Glibc

/// One message of the handshake. Encoded as text: the name, then one argument a line.
enum SyncMessage: Equatable {
    /// skiff → init: set up; the argument is init's pid as the host sees it (for hooks).
    case go(hostPid: Int32)
    /// child → skiff, with the pty master: relay this terminal.
    case pty
    /// skiff → child: the pty master was taken.
    case ptyDone
    /// init → skiff: run the prestart and createRuntime hooks now.
    case hooks
    /// skiff → init: the hooks ran.
    case hooksDone
    /// child → skiff, with the seccomp listener fd: hand it to the agent.
    case seccompListener
    /// skiff → child: the listener was handed over.
    case seccompDone
    /// child → skiff: set up; only execve is left.
    case ready
    /// skiff → init (create): the state is saved, wait for `start` on exec.fifo.
    case created
    /// skiff → init (foreground run): exec the program now.
    case start
    /// child → skiff: a step failed; the child exits after sending it.
    case error(ChildError)

    var name: String {
        switch self {
        case .go: return "go"
        case .pty: return "pty"
        case .ptyDone: return "pty-done"
        case .hooks: return "hooks"
        case .hooksDone: return "hooks-done"
        case .seccompListener: return "seccomp-listener"
        case .seccompDone: return "seccomp-done"
        case .ready: return "ready"
        case .created: return "created"
        case .start: return "start"
        case .error: return "error"
        }
    }

    /// The messages that come with a file descriptor (SCM_RIGHTS).
    var carriesFd: Bool { self == .pty || self == .seccompListener }

    func encoded() -> [UInt8] {
        switch self {
        case .go(let pid): return Array("go\n\(pid)".utf8)
        case .error(let e):
            let step = e.step.split(whereSeparator: \.isNewline).joined(separator: " ")
            return Array("error\n\(e.code)\n\(step)\n\(e.message)".utf8)
        default: return Array(name.utf8)
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> SyncMessage {
        let text = String(decoding: bytes, as: UTF8.self)
        let fields = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        func bad() -> SkiffError { SkiffError("handshake: malformed message \"\(text.prefix(80))\"", code: EPROTO) }
        switch fields[0] {
        case "go":
            guard fields.count == 2, let pid = Int32(fields[1]), pid > 0 else { throw bad() }
            return .go(hostPid: pid)
        case "error":
            guard fields.count == 4, let code = Int32(fields[1]) else { throw bad() }
            return .error(ChildError(step: fields[2], code: code, message: fields[3]))
        default:
            guard fields.count == 1 else { throw bad() }
            let plain: [SyncMessage] = [
                .pty, .ptyDone, .hooks, .hooksDone, .seccompListener, .seccompDone, .ready, .created, .start,
            ]
            guard let m = plain.first(where: { $0.name == fields[0] }) else { throw bad() }
            return m
        }
    }
}

/// A failure in the child, as it crosses the socket: which step, the errno (0 when no
/// system call failed) and the message the user reads.
struct ChildError: Error, Equatable {
    var step: String
    var code: Int32
    var message: String

    init(step: String, code: Int32, message: String) {
        self.step = step
        self.code = code
        self.message = message
    }

    init(_ error: Error, step: String) {
        let e = error as? SkiffError
        self.init(step: step, code: e?.code ?? 0, message: e?.message ?? "\(error)")
    }

    /// What skiff throws when the child reports this: the child's own message.
    var skiffError: SkiffError { SkiffError(message, code: code) }
}

struct SyncSocket {
    let fd: Int32

    static func pair() throws -> (parent: SyncSocket, child: SyncSocket) {
        var fds: [Int32] = [0, 0]
        try sys("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (SyncSocket(fd: fds[0]), SyncSocket(fd: fds[1]))
    }

    /// Send a message; `pty` and `seccompListener` carry `passed`.
    func send(_ message: SyncMessage, fd passed: Int32 = -1) throws {
        precondition(message.carriesFd == (passed >= 0), "handshake: \(message.name) and its fd go together")
        let bytes = message.encoded()
        if passed >= 0 {
            try sys("handshake: send \(message.name)") { sk_send_fd(fd, passed, bytes, bytes.count) }
        } else {
            try sys(
                "handshake: send "
                    + "\(message.name)"
            ) { Int32(truncatingIfNeeded: Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))) }
        }
    }

    /// The next message and the fd that came with it, or nil when the other side closed
    /// the socket (exited, or execve closed it). A stray fd on a message that carries
    /// none is closed.
    func receive() throws -> (SyncMessage, Int32?)? {
        var buf = [UInt8](repeating: 0, count: 8192)
        var len = 0
        var passed: Int32 = -1
        repeat { passed = sk_recv_fd(fd, &buf, buf.count, &len) } while len < 0 && errno == EINTR
        return try decodeReceived(buf, len, passed)
    }

    /// Send `message` and receive the answer (nil: EOF) in one C call that does not return
    /// in between (sk_sync_exchange). Every handover between skiff and a child that shares
    /// its memory (shared_clone.c) is one of these: the sender is blocked before the other
    /// side runs, so the two never run Swift code at the same time.
    func exchange(_ message: SyncMessage, fd sent: Int32 = -1) throws -> (SyncMessage, Int32?)? {
        precondition(message.carriesFd == (sent >= 0), "handshake: \(message.name) and its fd go together")
        let bytes = message.encoded()
        var buf = [UInt8](repeating: 0, count: 8192)
        var len = 0
        var passed: Int32 = -1
        try sys("handshake: send \(message.name)") {
            sk_sync_exchange(fd, bytes, bytes.count, sent, &buf, buf.count, &len, &passed)
        }
        return try decodeReceived(buf, len, passed)
    }

    /// Send `message` and receive exactly `expected` back (the child's questions).
    @discardableResult
    func ask(_ message: SyncMessage, fd sent: Int32 = -1, expect expected: SyncMessage) throws
        -> (SyncMessage, Int32?)
    {
        try check(try exchange(message, fd: sent), expected)
    }

    private func decodeReceived(_ buf: [UInt8], _ len: Int, _ received: Int32) throws -> (SyncMessage, Int32?)? {
        var passed = received
        if len < 0 { throw SkiffError("handshake: receive: \(errnoText())", code: errno) }
        if len == 0 { return nil }
        let message = try SyncMessage.decode(Array(buf[0..<len]))
        if passed >= 0 && !message.carriesFd {
            Glibc.close(passed)
            passed = -1
        }
        return (message, passed >= 0 ? passed : nil)
    }

    /// Receive exactly `expected` (what the child does at each of its steps). The other
    /// side's `error` is thrown as its error; EOF or any other message throws an error
    /// naming what was expected and what came.
    @discardableResult
    func expect(_ expected: SyncMessage) throws -> (SyncMessage, Int32?) {
        try check(try receive(), expected)
    }

    private func check(_ received: (SyncMessage, Int32?)?, _ expected: SyncMessage) throws -> (SyncMessage, Int32?) {
        guard let (message, passed) = received else {
            throw SkiffError(
                "handshake: the other side closed the socket while \"\(expected.name)\" was "
                    + "expected", code: EPIPE)
        }
        if case .error(let e) = message { throw e.skiffError }
        guard message.name == expected.name else {
            if let passed { Glibc.close(passed) }
            throw SkiffError("handshake: expected \"\(expected.name)\", received \"\(message.name)\"", code: EPROTO)
        }
        return (message, passed)
    }

    /// Skiff's side of the setup phase: send `first` ("go" to an init; nil: just listen),
    /// then hand each of the child's messages to `handle`, whose answer goes back, until
    /// "ready". The child's `error` is thrown as its error; EOF throws `eof()`; a message
    /// only skiff sends is a protocol error.
    func receiveUntilReady(
        first: SyncMessage?, eof: () -> SkiffError, _ handle: (SyncMessage, Int32?) throws -> SyncMessage
    ) throws {
        var answer = first
        while true {
            guard let (message, passed) = try answer.map({ try exchange($0) }) ?? receive() else { throw eof() }
            switch message {
            case .ready: return
            case .error(let e): throw e.skiffError
            case .pty, .hooks, .seccompListener: answer = try handle(message, passed)
            case .go, .hooksDone, .ptyDone, .seccompDone, .created, .start:
                throw SkiffError("handshake: the child sent \"\(message.name)\", which only skiff sends", code: EPROTO)
            }
        }
    }

    /// The end of an init's handshake: send "created" (create) or "start" (foreground),
    /// then wait for EOF: init closes its end (create), or execve closes it (close-on-exec).
    /// An error comes first otherwise.
    func finish(_ message: SyncMessage) throws {
        if let (msg, fd) = try exchange(message) {
            if let fd { Glibc.close(fd) }
            if case .error(let e) = msg { throw e.skiffError }
            throw SkiffError("handshake: expected the end of the handshake, received \"\(msg.name)\"", code: EPROTO)
        }
    }

    func close() { _ = Glibc.close(fd) }
}

/// The child's end of a handshake: the one place where it gives up.
enum ChildExit {
    /// Report `error` (at `step`) over `sync` when it is still open, else to `report`
    /// (init.error, for `start`) and to the log; then exit 1. Never silent: if nothing
    /// can be sent, the line still reaches the log (stderr without --log).
    static func fail(_ error: Error, step: String, sync: SyncSocket?, report: Int32 = -1) -> Never {
        let e = ChildError(error, step: step)
        let message = SyncMessage.error(e)
        if let sync {
            // Sent and exited in one C call: a child sharing skiff's memory must not run on
            // once skiff, woken by the message, runs (shared_clone.c).
            let bytes = message.encoded()
            _ = sk_send_and_exit(sync.fd, bytes, bytes.count, 1)
        }
        if report >= 0 { try? writeAll(report, message.encoded()) }
        Log.error("container process failed (\(e.step)): \(e.message)")
        _exit(1)
    }

    /// init.error's content: what `fail` wrote there, if anything.
    static func readReport(_ path: String) -> ChildError? {
        guard let bytes = readFile(path), !bytes.isEmpty,
            case .error(let e)? = try? SyncMessage.decode(bytes)
        else { return nil }
        return e
    }
}
