// The container's init process: the child of clone3, running Skiff's code until it
// execs the user's program. It does every step in the order the kernel needs and
// reports the first failure back to skiff as one line.
import CShim
import Glibc
import SkiffSpec

struct InitProcess {
    let id: String
    let spec: Spec
    let bundle: String
    let rootfs: String
    let plan: NamespacePlan
    let options: CreateOptions
    let sync: SyncSocket
    /// SK_O_PATH fd on the state directory: how init reaches exec.fifo after pivot_root.
    /// -1 when skiff itself starts the program (foreground `run`).
    let stateDirFd: Int32

    func run() -> Never {
        do {
            let (path, args, env) = try setUp()
            try sync.send("ready")
            try waitForStart()
            ProcessSetup.exec(path, args: args, env: env)
        } catch {
            try? sync.send("error " + ((error as? SkiffError)?.message ?? "\(error)"))
            _exit(1)
        }
    }

    /// Namespaces, root filesystem and process attributes; returns what to exec.
    private func setUp() throws -> (String, [String], [String]) {
        umask(0) // device nodes and directories get exactly the modes asked for
        closeInheritedFds()
        guard try sync.receive() == "go" else { _exit(1) } // skiff went away
        let process = spec.process!

        // Joined namespaces first (user before the rest), then the new ones.
        let joins = plan.joined.filter { $0.0 != .pid && $0.0 != .time }
        for (type, path) in joins where type == .user { try Namespaces.join(type, path: path) }
        for (type, path) in joins where type != .user && type != .mount { try Namespaces.join(type, path: path) }
        for (type, path) in joins where type == .mount { try Namespaces.join(type, path: path) }
        try Namespaces.unshare(plan.unshareFlags)

        if !options.noNewKeyring {
            // A session keyring of its own, so containers don't share kernel keys.
            if sk_join_session_keyring("_ses.\(id)") < 0 { Log.debug("session keyring: \(errnoText())") }
        }
        if plan.isNew(.uts) {
            if let name = spec.hostname {
                try Explain.step("hostname", "sethostname(\"\(name)\")") {
                    try sys("sethostname \(name)") { sk_sethostname(name, name.utf8.count) }
                }
            }
            if let name = spec.domainname {
                try Explain.step("domain name", "setdomainname(\"\(name)\")") {
                    try sys("setdomainname \(name)") { sk_setdomainname(name, name.utf8.count) }
                }
            }
        }
        if plan.isNew(.network) {
            try Explain.step("loopback up", "ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP)") {
                try sys("bring up loopback") { sk_loopback_up() }
            }
        }

        let rootfsSetup = RootfsSetup(spec: spec, rootfs: rootfs, bundle: bundle, noPivot: options.noPivot,
                                      newNetwork: plan.isNew(.network))
        try rootfsSetup.run()
        try rootfsSetup.finish()

        return try ProcessSetup.prepare(process, preserveFds: options.preserveFds)
    }

    /// Close every descriptor inherited from skiff's caller except stdio, the
    /// --preserve-fds ones, the handshake socket, the state directory and the log. Init
    /// may wait a long time for `start`; an inherited pipe or socket must not stay open
    /// that long (the caller would never see EOF on it), nor reach the container.
    private func closeInheritedFds() {
        let keep: Set<Int32> = [sync.fd, stateDirFd, Log.fd]
        let fds = listDirectory("/proc/self/fd").compactMap { Int32($0) }
        for fd in fds where fd >= 3 + Int32(options.preserveFds) && !keep.contains(fd) { close(fd) }
    }

    /// Block until `skiff start` (it opens exec.fifo for reading) or, in foreground
    /// `run`, until skiff says "start" on the socket.
    private func waitForStart() throws {
        if stateDirFd < 0 {
            guard try sync.receive() == "start" else { _exit(1) }
            return
        }
        sync.close()
        // openat() through the directory fd still reaches the host's state directory,
        // although this process's root is now the container's.
        let fifo = try sys("open exec.fifo") { openat(stateDirFd, "exec.fifo", O_WRONLY | O_CLOEXEC) }
        try writeAll(fifo, [UInt8(ascii: "0")])
        close(fifo)
        close(stateDirFd)
    }
}
