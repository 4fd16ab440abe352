// skiff exec: start another process in a running container. It joins every namespace
// of the container's init (setns through /proc/PID/ns/*), its cgroup, and gets the
// process settings of the spec or of --process, then behaves like `run`: foreground
// with signal forwarding and an exit code, or detached.
import CShim
import Glibc
import SkiffSpec

public struct ExecOptions {
    public var process: Process
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    public var preserveFds = 0
    public init(process: Process) { self.process = process }
}

extension Runtime {
    /// Returns the process's exit code (0 when detached).
    public func exec(id: String, options: ExecOptions) throws -> Int32 {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .running else {
            throw SkiffError(status == .paused ? "cannot exec in a paused container" : "cannot exec in a \(status.rawValue) container")
        }
        let process = options.process
        guard process.args?.isEmpty == false else { throw SkiffError("exec: process.args: must contain at least one element") }
        let terminal = process.terminal == true
        if terminal && options.detach && options.consoleSocket == nil {
            throw SkiffError("cannot allocate tty if skiff will detach without setting console socket")
        }
        if !terminal && options.consoleSocket != nil {
            throw SkiffError("cannot use console socket if skiff will not allocate a tty (use --tty)")
        }

        // The container's seccomp filter, compiled or taken from the cache (SeccompProgram.swift).
        let seccomp = try record.config.linux?.seccomp.map { try SeccompProgram.prepare($0, stateRoot: store.root) }

        // The namespaces to enter: every one where init differs from skiff.
        let order: [LinuxNamespaceType] = [.user, .ipc, .uts, .network, .cgroup, .pid, .time, .mount]
        var nsFds: [(LinuxNamespaceType, Int32)] = []
        defer { for (_, fd) in nsFds { close(fd) } }
        for type in order {
            guard let theirs = Namespaces.inode(pid: record.pid, type), theirs != Namespaces.inode(pid: getpid(), type) else { continue }
            let fd = try sys("open /proc/\(record.pid)/ns/\(type.procName)") { open("/proc/\(record.pid)/ns/\(type.procName)", O_RDONLY | O_CLOEXEC) }
            nsFds.append((type, fd))
        }
        // pid and time namespaces apply to children: enter them here, before the clone.
        for (type, fd) in nsFds where type == .pid || type == .time {
            try Explain.step("join namespace", "setns(/proc/\(record.pid)/ns/\(type.procName), \(type.flagName))") {
                try sys("join \(type.rawValue) namespace of \(id)") { sk_setns(fd, Int32(truncatingIfNeeded: type.cloneFlag)) }
            }
        }

        let consoleFd = try options.consoleSocket.map { try Terminal.connect(socketPath: $0) } ?? -1
        defer { if consoleFd >= 0 { close(consoleFd) } }
        let (parentSock, childSock) = try SyncSocket.pair()
        if !options.detach {
            sk_sigmask_all(0)
            _ = sk_set_child_subreaper(1)
        }
        defer { if !options.detach { sk_sigmask_all(1) } }
        flushStdio()
        // The process joins the container's cgroup (and so its device rules): never run it
        // outside when the container has one.
        let cgroupFd = Cgroup.openDirectory(record.cgroupPath)
        defer { if cgroupFd >= 0 { close(cgroupFd) } }
        if cgroupFd < 0 && !record.cgroupPath.isEmpty {
            throw SkiffError("exec: cannot open the container's cgroup \(Cgroup.directory(record.cgroupPath)): \(errnoText())")
        }
        if let dir = record.deviceCgroupV1 { try DeviceCgroupV1.join(dir, pid: getpid()) } // the clone inherits it
        let child = try sys("clone3") { Cgroup.clone3(0, cgroupFd: cgroupFd, path: record.cgroupPath) }
        if child == 0 {
            parentSock.close()
            ExecProcess(process: process, linux: record.config.linux, seccomp: seccomp, namespaces: nsFds, sync: childSock,
                        consoleFd: consoleFd, preserveFds: options.preserveFds).run()
        }
        childSock.close()
        Explain.note("new process", "clone3() = \(child), joining \(nsFds.map { $0.0.procName }.joined(separator: ","))")
        var master: Int32?
        do {
            // The messages and their order: Sync.swift.
            try parentSock.receiveUntilReady(eof: { SkiffError("exec: process exited during setup") }) { msg, fd in
                switch msg {
                case .pty: master = fd
                case .seccompListener: // SCMP_ACT_NOTIFY: pass the listener to the agent
                    try SeccompNotify.forwardListener(fd, over: parentSock, seccomp: record.config.linux?.seccomp, pid: child,
                                                      state: Hooks.state(id, .running, pid: record.pid, bundle: record.bundle, spec: record.config))
                default:
                    if let fd { close(fd) }
                    throw SkiffError("handshake: exec's process sent \"\(msg.name)\", which only a container's init sends", code: EPROTO)
                }
            }
            if let pidFile = options.pidFile {
                try writeFileAtomic(absolutePath(pidFile, relativeTo: currentDirectory()), "\(child)")
            }
        } catch {
            Glibc.kill(child, SIGKILL)
            var st: Int32 = 0
            waitpid(child, &st, 0)
            if let master { close(master) }
            parentSock.close()
            throw error
        }
        parentSock.close()
        if options.detach { return 0 }
        defer { if let master { close(master) } }
        return Supervisor(pid: child, master: master).wait()
    }
}

/// The exec'd process between clone3 and execve.
struct ExecProcess {
    let process: Process
    /// The container's linux section (its seccomp filter applies to exec'd processes too).
    let linux: Linux?
    /// That filter, compiled by skiff before the clone.
    let seccomp: SeccompProgram?
    let namespaces: [(LinuxNamespaceType, Int32)]
    let sync: SyncSocket
    let consoleFd: Int32
    let preserveFds: Int

    func run() -> Never {
        do {
            // Not dumpable before the first setns: once in the container's user namespace,
            // a container process with CAP_SYS_PTRACE there could otherwise reach this
            // host-root process's /proc/PID/root (the host's /) or ptrace it before it
            // joins the mount namespace (CVE-2016-9962 class). execve resets it.
            try Explain.step("not dumpable", "prctl(PR_SET_DUMPABLE, 0)") {
                try sys("prctl(PR_SET_DUMPABLE, 0)") { sk_set_dumpable(0) }
            }
            // Out of the caller's session: its terminal must not be this process's
            // controlling tty (TIOCSTI, see InitProcess.setUp).
            try ProcessSetup.newSession()
            // Drop what the caller's skiff had open (it may wait on pipes until we exit).
            ProcessSetup.closeInheritedFds(preserve: preserveFds, keep: Set([sync.fd, consoleFd, Log.fd] + namespaces.map(\.1)))
            for (type, fd) in namespaces where type != .pid && type != .time {
                try Explain.step("join namespace", "setns(\(type.procName), \(type.flagName))") {
                    try sys("join \(type.rawValue) namespace") { sk_setns(fd, Int32(truncatingIfNeeded: type.cloneFlag)) }
                }
            }
            if process.terminal == true {
                let master = try Terminal.attachNewPty(size: process.consoleSize, bindConsole: false)
                try Terminal.handOver(master: master, consoleFd: consoleFd, sync: sync)
            }
            let prepared = try ProcessSetup.prepare(process, preserveFds: preserveFds, linux: linux, seccomp: seccomp, sync: sync)
            try sync.send(.ready)
            ProcessSetup.exec(prepared)
        } catch {
            ChildExit.fail(error, step: "exec setup", sync: sync)
        }
    }
}
