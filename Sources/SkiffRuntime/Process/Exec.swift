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
            throw SkiffError(
                status == .paused
                    ? "cannot exec in a paused container" : "cannot exec in a \(status.rawValue) container")
        }
        let process = options.process
        guard process.args?.isEmpty == false else {
            throw SkiffError("exec: process.args: must contain at least one element")
        }
        try LaunchKind.checkTerminal(
            process.terminal == true, consoleSocket: options.consoleSocket,
            foreground: !options.detach, hint: "use --tty")

        // The container's seccomp filter, compiled or taken from the cache (SeccompProgram.swift),
        // before skiff joins any namespace or cgroup of the container.
        let seccomp = try record.config.linux?.seccomp.map { try SeccompProgram.prepare($0, stateRoot: store.root) }

        // The namespaces to enter: every one where init differs from skiff, opened now
        // (which pins them: a recycled pid cannot swap them).
        let order: [LinuxNamespaceType] = [.user, .ipc, .uts, .network, .cgroup, .pid, .time, .mount]
        var namespaces: [NamespaceFile] = []
        defer { for ns in namespaces { close(ns.fd) } }
        for type in order {
            guard let theirs = Namespaces.inode(pid: record.pid, type), theirs != Namespaces.inode(pid: getpid(), type)
            else { continue }
            namespaces.append(try Namespaces.openForJoin(type, path: "/proc/\(record.pid)/ns/\(type.procName)"))
        }
        if !options.detach { Supervisor.takeSignals() }
        defer { if !options.detach { Supervisor.releaseSignals() } }
        // The process joins the container's cgroup (and so its device rules): never run it
        // outside when the container has one.
        let cgroupFd = Cgroup.openDirectory(record.cgroupPath)
        defer { if cgroupFd >= 0 { close(cgroupFd) } }
        if cgroupFd < 0 && !record.cgroupPath.isEmpty {
            throw SkiffError(
                "exec: cannot open the container's cgroup \(Cgroup.directory(record.cgroupPath)): \(errnoText())")
        }
        if let dir = record.deviceCgroupV1 { // the clone inherits it
            let tasks = try DeviceCgroupV1.openTasks(dir)
            defer { close(tasks) }
            try DeviceCgroupV1.joinSelf(tasks, dir: dir)
        }

        var launcher = Launcher(
            kind: .exec(containerInit: record.pid, namespaces: namespaces), id: id,
            bundle: record.bundle, spec: record.config, process: process,
            consoleSocket: options.consoleSocket, foreground: !options.detach, pidFile: options.pidFile)
        launcher.cgroupFd = cgroupFd
        launcher.cgroupPath = record.cgroupPath
        let linux = record.config.linux
        let launched = try launcher.start(child: { sync, consoleFd in
            var child = ExecProcess(
                process: process, linux: linux, seccomp: seccomp, namespaces: namespaces, sync: sync,
                consoleFd: consoleFd, preserveFds: options.preserveFds)
            child.run()
        })
        launched.sync.close()
        if options.detach { return 0 }
        return launched.supervise()
    }
}

/// The exec'd process between clone3 and execve (the child side of Launcher.swift).
struct ExecProcess: ChildSetup {
    let process: Process
    /// The container's linux section (its seccomp filter applies to exec'd processes too).
    let linux: Linux?
    /// That filter, compiled by skiff before the clone.
    let seccomp: SeccompProgram?
    let namespaces: [NamespaceFile]
    let sync: SyncSocket
    let consoleFd: Int32
    let preserveFds: Int

    var step: String { "exec setup" }
    var openSync: SyncSocket? { sync }
    var reportFd: Int32 { -1 }
    var readyAnswer: SyncMessage? { nil }

    func setUp() throws -> PreparedProcess {
        // Not dumpable before the first setns: once in the container's user namespace,
        // a container process with CAP_SYS_PTRACE there could otherwise reach this
        // host-root process's /proc/PID/root (the host's /) or ptrace it before it
        // joins the mount namespace (CVE-2016-9962 class). execve resets it.
        try ProcessSetup.becomeNonDumpable()
        // Out of the caller's session: its terminal must not be this process's
        // controlling tty (TIOCSTI, see InitProcess.setUp).
        try ProcessSetup.newSession()
        // Drop what the caller's skiff had open (it may wait on pipes until we exit).
        ProcessSetup.closeInheritedFds(
            preserve: preserveFds, keep: Set([sync.fd, consoleFd, Log.fd] + namespaces.map(\.fd)))
        // pid and time were entered by skiff before the clone (they apply to children).
        for ns in namespaces where ns.type != .pid && ns.type != .time { try Namespaces.join(ns) }
        if process.terminal == true {
            let master = try Terminal.attachNewPty(size: process.consoleSize, bindConsole: false)
            try Terminal.handOver(master: master, consoleFd: consoleFd, sync: sync)
        }
        return try ProcessSetup.prepare(process, preserveFds: preserveFds, linux: linux, seccomp: seccomp, sync: sync)
    }

    /// Nothing to wait for: "ready" was the last word.
    func execute(_ prepared: PreparedProcess) throws -> Never {
        ProcessSetup.exec(prepared)
    }
}
