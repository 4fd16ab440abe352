// Terminals. With process.terminal the container gets a new pty from its own devpts
// instance: the peer (slave) becomes its stdio, controlling terminal and /dev/console;
// the master goes to whoever drives it: the --console-socket listener (conmon,
// containerd) over SCM_RIGHTS, or skiff itself, which relays to the user's terminal.
import CShim
import Glibc
import SkiffSpec

enum Terminal {
    /// In the container (after pivot_root or setns into its mount namespace): open a pty,
    /// make its peer this process's controlling terminal and stdio. Returns the master.
    static func attachNewPty(size: Box?, bindConsole: Bool) throws -> Int32 {
        let master = try Explain.step("new terminal", "open(\"/dev/ptmx\")") {
            try sys("open /dev/ptmx") { open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC) }
        }
        let peer = try sys("open pty peer") { sk_pty_open_peer(master) }
        if let size, size.height > 0, size.width > 0 {
            _ = sk_set_winsize(master, UInt16(clamping: size.height), UInt16(clamping: size.width))
        }
        if bindConsole {
            // /dev/console is the pty: bind its peer over an empty file (never a symlink).
            let root = try RootDir(path: "/")
            defer { root.close() }
            // The bind goes through /proc/self/fd: that must be the container's procfs
            // itself (nothing may be mounted inside /proc, Rootfs.refuseInsideProc).
            let procSelfFd = try sys("open /proc/self/fd") {
                open("/proc/self/fd", SK_O_PATH | O_DIRECTORY | O_CLOEXEC)
            }
            defer { close(procSelfFd) }
            try requireFilesystem(procSelfFd, FSMagic.proc, "/proc/self/fd before binding /dev/console")
            // Whatever the image left at /dev/console (a symlink, say) goes first.
            let dev = try root.mkdirAll("/dev")
            unlinkat(dev, "console", 0)
            close(dev)
            let console = try root.createFile("/dev/console", mode: 0o600)
            defer { close(console) }
            try mountFS(
                procFdPath(peer), procFdPath(console), nil, SK_MS_BIND, nil, what: "console", shown: "/dev/console")
        }
        // The caller made this process a session leader first thing (setsid, without a
        // controlling tty): the pty peer becomes that session's controlling terminal.
        try Explain.step("controlling tty", "ioctl(TIOCSCTTY, /dev/pts/\(sk_pty_number(master)))") {
            try sys("set controlling terminal") { sk_set_ctty(peer) }
        }
        for fd in Int32(0)...2 { try sys("dup2 pty") { dup2(peer, fd) } }
        close(peer)
        return master
    }

    /// Give the pty master to whoever drives the terminal: the --console-socket listener
    /// when there is one, else skiff (which relays it); then close our copies.
    static func handOver(master: Int32, consoleFd: Int32, sync: SyncSocket) throws {
        defer { close(master) }
        if consoleFd >= 0 {
            try send(master: master, to: consoleFd)
            close(consoleFd)
        } else {
            try sync.ask(.pty, fd: master, expect: .ptyDone)
        }
    }

    /// Send the pty master to the --console-socket listener, as runc does.
    static func send(master: Int32, to socket: Int32) throws {
        try sys("send pty master to console socket") { sk_send_fd(socket, master, "/dev/ptmx", 9) }
    }

    /// Connect to the --console-socket unix socket (done by skiff before the clone).
    static func connect(socketPath path: String) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw SkiffError("--console-socket \(path): path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in bytes.enumerated() { buf[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let e = errno
            close(fd)
            throw SkiffError("--console-socket \(path): \(errnoText(e))")
        }
        return fd
    }
}

/// The user's terminal in raw mode while skiff relays it to a container's pty.
struct RawTerminal {
    private var saved = termios()
    private(set) var active = false

    /// Put stdin in raw mode if it is a terminal.
    mutating func enable() {
        guard isatty(0) == 1, tcgetattr(0, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        active = tcsetattr(0, TCSANOW, &raw) == 0
    }

    func restore() {
        guard active else { return }
        var s = saved
        tcsetattr(0, TCSANOW, &s)
    }
}
