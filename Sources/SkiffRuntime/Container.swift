// The container lifecycle as runc defines it: create, start, run, state, kill, delete.
// Each public method is one CLI command's worth of work.
import CShim
import Glibc
import SkiffSpec

public struct CreateOptions {
    public var bundle: String = "."
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFds = 0
    /// Socket-activation fds (LISTEN_FDS): passed before the preserved ones, announced
    /// to the container as LISTEN_FDS=N, LISTEN_PID=1, as runc does.
    public var listenFds = 0
    /// A spec built in memory (`run --rootfs`) instead of BUNDLE/config.json; the state
    /// directory then serves as the bundle and gets a copy as config.json.
    public var spec: Spec?
    /// Give the container /dev/null as stdin (`run --rootfs` without -i).
    public var stdinNull = false
    public init() {}
}

public struct Runtime {
    public let store: StateStore
    public init(root: String) { store = StateStore(root: root) }

    // MARK: create

    /// Set everything up; return once init is waiting for `start` on exec.fifo.
    @discardableResult
    public func create(id: String, options: CreateOptions) throws -> ContainerRecord {
        let launched = try launch(id: id, options: options, foreground: false)
        launched.sync.close()
        return launched.record
    }

    struct Launched {
        var record: ContainerRecord
        let sync: SyncSocket
        /// The pty master, when skiff itself relays the container's terminal.
        let master: Int32?
    }

    /// create's work; in the foreground (`run`) mode init waits on the socket instead of
    /// the fifo, and skiff stays its parent.
    private func launch(id: String, options: CreateOptions, foreground: Bool) throws -> Launched {
        try StateStore.validate(id: id)
        let dir = store.directory(id)
        let bundle = options.spec == nil ? absolutePath(options.bundle, relativeTo: currentDirectory()) : dir
        var spec = try options.spec ?? loadSpec(bundle: bundle)
        var options = options
        if options.listenFds > 0 {
            let env = spec.process?.env ?? []
            spec.process?.env = env + ["LISTEN_FDS=\(options.listenFds)", "LISTEN_PID=1"]
            options.preserveFds += options.listenFds
        }
        guard let rootPath = spec.root?.path else { throw SkiffError("config.json: root.path: missing required field") }
        let rootfs = absolutePath(rootPath, relativeTo: bundle)
        guard isDirectory(rootfs) else { throw SkiffError("root.path: rootfs \(rootfs) is not a directory: \(errnoText())") }
        guard spec.process?.args?.isEmpty == false else { throw SkiffError("config.json: process.args: must contain at least one element") }
        var plan = NamespacePlan(spec)
        guard plan.has(.mount) else { throw SkiffError("config.json: linux.namespaces: a mount namespace is required") }
        try refuseHostNetworkSysctls(spec, plan)
        let terminal = spec.process?.terminal == true
        if terminal && !foreground && options.consoleSocket == nil {
            throw SkiffError("cannot allocate tty if skiff will detach without setting console socket")
        }
        if !terminal && options.consoleSocket != nil {
            throw SkiffError("cannot use console socket if skiff will not allocate a tty (process.terminal is false)")
        }

        // From here on everything made is undone if a step fails.
        // The state root is root's alone (runc's is 0700 too); each container's directory
        // stays 0711 so a user-namespaced init can reach exec.fifo by its directory fd.
        try mkdirAll(store.root, mode: 0o700)
        _ = chmod(store.root, 0o700)
        if mkdir(dir, 0o711) != 0 {
            throw SkiffError(errno == EEXIST ? "container \"\(id)\" already exists" : "mkdir \(dir): \(errnoText())")
        }
        var child: Int32 = 0
        var succeeded = false
        var cgroup: ContainerCgroup?
        var overlay: OverlayLayers?
        defer {
            if !succeeded {
                if child > 0 { Glibc.kill(child, SIGKILL); var st: Int32 = 0; waitpid(child, &st, 0) }
                cgroup?.destroy()
                ContainerNetwork.tearDown(id: id, dir: dir, store: store) // Network/ContainerNetwork.swift
                removeAll(dir)
                if let overlay, isDirectory(overlay.upper) { removeAll(overlay.dataDir) }
            }
        }
        // Quick-run networking (annotation run.skiff.network): DNS files, netns, CNI ADD.
        if try ContainerNetwork.setUp(id: id, dir: dir, spec: &spec, store: store) { plan = NamespacePlan(spec) }
        // The quick-run config holds the -e/--env-file values: for root's eyes only.
        if options.spec != nil { try writeFile(dir + "/config.json", spec.json(indent: "\t"), mode: 0o600) }
        if !foreground {
            try sys("mkfifo exec.fifo") { mkfifo(store.fifoPath(id), 0o622) }
            try UserNamespace.giveToContainerRoot(store.fifoPath(id), spec: spec) // init opens it as that uid
        }
        let dirFd = try sys("open \(dir)") { open(dir, SK_O_PATH | O_DIRECTORY | O_CLOEXEC) }
        defer { close(dirFd) }
        let (parentSock, childSock) = try SyncSocket.pair()
        // An overlay root: the rootfs is the lower layer, the container writes to its own upper.
        if spec.annotations?[OverlayLayers.annotation] == "true" {
            try OverlayLayers.checkLowerPath(rootfs)
            let layers = OverlayLayers(lower: rootfs, dataDir: store.dataDirectory(id))
            try layers.create()
            overlay = layers
        }
        var childSockOpen = true // closed right after the clone; an fd number must never be closed twice
        defer { if childSockOpen { childSock.close() } }
        let consoleFd = try options.consoleSocket.map { try Terminal.connect(socketPath: $0) } ?? -1
        defer { if consoleFd >= 0 { close(consoleFd) } }

        // Namespaces that apply to children only are entered here, before the clone.
        for (type, path) in plan.joined where type == .pid || type == .time { try Namespaces.join(type, path: path) }
        if plan.isNew(.time) { try enterNewTimeNamespace(spec.linux?.timeOffsets ?? [:]) }

        // The cgroup, its limits written: init is cloned straight into it.
        cgroup = try ContainerCgroup.create(id: id, spec: spec, root: store.root)
        flushStdio()
        let flags = plan.cloneFlags
        let cloneStart = monotonicNanos()
        child = try sys("clone3(\(NamespacePlan.describe(flags)))") { ContainerCgroup.clone3(flags, into: cgroup) }
        if child > 0 {
            Explain.note("new process", "clone3(\(NamespacePlan.describe(flags))) = \(child) (\(Explain.formatMillis(Double(monotonicNanos() - cloneStart) / 1e6)) ms)")
        }
        if child == 0 {
            parentSock.close()
            var initProcess = InitProcess(id: id, spec: spec, bundle: bundle, rootfs: overlay?.merged ?? rootfs, plan: plan,
                                          options: options, sync: childSock, stateDirFd: foreground ? -1 : dirFd,
                                          consoleFd: consoleFd, overlay: overlay)
            initProcess.run()
        }
        childSock.close()
        childSockOpen = false
        try cgroup?.adopt(child) // cgroup v1 device rules: before init goes on

        if plan.isNew(.user) { try writeIDMappings(pid: child, linux: spec.linux) }
        try parentSock.send("go \(child)")
        var master: Int32?
        defer { if !succeeded, let master { close(master) } }
        handshake: while true {
            guard let (msg, fd) = try parentSock.receiveWithFd() else { throw SkiffError(ContainerCgroup.setupDeathReason(cgroup) ?? "container init exited during setup") }
            switch msg {
            case "ready": break handshake
            case "pty": master = fd
            case SeccompNotify.listenerMessage: // SCMP_ACT_NOTIFY: pass the listener to the agent
                try SeccompNotify.forwardListener(fd, over: parentSock, seccomp: spec.linux?.seccomp, pid: child,
                                                  state: Hooks.state(id, .creating, pid: child, bundle: bundle, spec: spec))
            case "hooks":
                let state = Hooks.state(id, .creating, pid: child, bundle: bundle, spec: spec)
                try Hooks.run(spec.hooks?.prestart, kind: "prestart", state: state)
                try Hooks.run(spec.hooks?.createRuntime, kind: "createRuntime", state: state)
                try parentSock.send("hooks-done")
            case _ where msg.hasPrefix("error "): throw SkiffError(String(msg.dropFirst(6)))
            default: throw SkiffError("container init sent an unexpected message: \(msg)")
            }
        }
        try cgroup?.attachDeviceFilter() // init's device nodes are made; the program has not started

        let record = ContainerRecord(
            ociVersion: spec.ociVersion, id: id, pid: child, bundle: bundle, rootfs: rootfs, created: rfc3339Now(),
            owner: "", annotations: spec.annotations, initStartTime: ProcessInfo.startTime(of: child) ?? 0,
            cgroupPath: cgroup?.path ?? "", config: spec, overlay: overlay, deviceCgroupV1: cgroup?.deviceV1Dir)
        try store.save(record)
        if let pidFile = options.pidFile {
            try writeFileAtomic(absolutePath(pidFile, relativeTo: currentDirectory()), "\(child)")
        }
        succeeded = true
        return Launched(record: record, sync: parentSock, master: master)
    }

    /// net.* sysctls need the container's own network namespace. The spec check accepts a
    /// joined one; here it must not be the host's (skiff's or pid 1's): writing
    /// net.ipv4.ip_forward there would change the host (runc's isHostNetNS; review L8).
    private func refuseHostNetworkSysctls(_ spec: Spec, _ plan: NamespacePlan) throws {
        guard let key = (spec.linux?.sysctl ?? [:]).keys.sorted().first(where: { $0.hasPrefix("net.") || $0.hasPrefix("net/") }),
              let path = plan.joined.first(where: { $0.0 == .network })?.1 else { return }
        var joined = stat(), mine = stat(), hostInit = stat()
        guard stat(path, &joined) == 0 else { return } // the join itself reports a bad path
        let same = { (a: stat) in a.st_dev == joined.st_dev && a.st_ino == joined.st_ino }
        if (stat("/proc/self/ns/net", &mine) == 0 && same(mine)) || (stat("/proc/1/ns/net", &hostInit) == 0 && same(hostInit)) {
            throw SkiffError("linux.sysctl[\"\(key)\"]: the network namespace \(path) is the host's; refusing to change the host's settings")
        }
    }

    func loadSpec(bundle: String) throws -> Spec {
        let path = bundle + "/config.json"
        guard let bytes = readFile(path) else { throw SkiffError("\(path): \(errnoText())") }
        do { return try Spec.parse(bytes) } catch { throw SkiffError("config.json: \(error)") }
    }

    /// A new time namespace takes its clock offsets before its first process enters it.
    private func enterNewTimeNamespace(_ offsets: [String: LinuxTimeOffset]) throws {
        try Namespaces.unshare(SK_CLONE_NEWTIME)
        var text = ""
        for (clock, off) in offsets.sorted(by: { $0.key < $1.key }) {
            text += "\(clock) \(off.secs ?? 0) \(off.nanosecs ?? 0)\n"
        }
        if !text.isEmpty { try writeKernelFile("/proc/self/timens_offsets", text) }
    }

    /// uid_map and gid_map of a new user namespace, written from outside it.
    private func writeIDMappings(pid: Int32, linux: Linux?) throws {
        func lines(_ maps: [LinuxIDMapping]?) -> String {
            (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        let uid = lines(linux?.uidMappings), gid = lines(linux?.gidMappings)
        if !uid.isEmpty {
            try Explain.step("map users", "write /proc/\(pid)/uid_map = \(uid.split(separator: "\n").joined(separator: ", "))") {
                try writeKernelFile("/proc/\(pid)/uid_map", uid)
            }
        }
        if !gid.isEmpty {
            try Explain.step("map groups", "write /proc/\(pid)/gid_map = \(gid.split(separator: "\n").joined(separator: ", "))") {
                try writeKernelFile("/proc/\(pid)/gid_map", gid)
            }
        }
    }

    // MARK: start

    /// Let a created container's init exec the user program.
    public func start(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .created else {
            throw SkiffError(status == .stopped ? "cannot start a container that has stopped" : "cannot start an already \(status.rawValue) container")
        }
        let fifo = try sys("open exec.fifo") { open(store.fifoPath(id), O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        defer { close(fifo) }
        var pfd = pollfd(fd: fifo, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&pfd, 1, 100)
            if n > 0 {
                var byte: UInt8 = 0
                if read(fifo, &byte, 1) == 1 { break }
            }
            if store.status(of: record) == .stopped { throw SkiffError("container init died before start") }
        }
        unlink(store.fifoPath(id))
        Explain.note("start", "container \(id) released from exec.fifo")
        // Init keeps its end open until execve (close-on-exec): EOF means the program runs.
        while true {
            var byte: UInt8 = 0
            let n = read(fifo, &byte, 1)
            if n == 0 { break }
            if n < 0 && errno != EAGAIN && errno != EINTR { break }
            _ = poll(&pfd, 1, 100)
        }
        if store.status(of: record) == .stopped {
            throw SkiffError("container \(id) exited before its program started (see its stderr: a startContainer hook or the exec failed)")
        }
        Hooks.runLogged(record.config.hooks?.poststart, kind: "poststart",
                        state: Hooks.state(id, .running, pid: record.pid, bundle: record.bundle, spec: record.config))
    }

    // MARK: run

    /// create + start + wait + delete in the foreground; returns the exit code (128+N
    /// for a death by signal N). Signals sent to skiff are forwarded to the container.
    /// `remove` false keeps the stopped container (quick-run without --rm), for `diff`.
    public func run(id: String, options: CreateOptions, detach: Bool, remove: Bool = true) throws -> Int32 {
        if detach {
            let record = try create(id: id, options: options)
            do { try start(id: id) } catch { try? delete(id: id, force: true); throw error }
            if remove && options.spec != nil { try removeOnExit(record) }
            return 0
        }
        // Block every signal before the clone so none is lost; sigwait takes them below.
        sk_sigmask_all(0)
        defer { sk_sigmask_all(1) }
        _ = sk_set_child_subreaper(1)
        let launched = try launch(id: id, options: options, foreground: true)
        let pid = launched.record.pid
        defer { launched.sync.close() }
        do {
            try launched.sync.send("start")
            // The socket closes on execve (close-on-exec); an error comes first otherwise.
            if let msg = try launched.sync.receive(), msg.hasPrefix("error ") { throw SkiffError(String(msg.dropFirst(6))) }
        } catch {
            try? delete(id: id, force: true); throw error
        }
        Hooks.runLogged(launched.record.config.hooks?.poststart, kind: "poststart",
                        state: Hooks.state(id, .running, pid: pid, bundle: launched.record.bundle, spec: launched.record.config))
        let code = Supervisor(pid: pid, master: launched.master, forwardStdin: !options.stdinNull).wait()
        if let master = launched.master { close(master) }
        ContainerCgroup.reportOOM(launched.record, exitCode: code)
        if !remove { return code }
        try delete(id: id, force: true)
        return code
    }

    /// `run -d --rm`: a small watcher process outlives skiff and deletes the container
    /// when its init exits (there is no daemon to do it).
    private func removeOnExit(_ record: ContainerRecord) throws {
        let pidfd = try sys("pidfd_open \(record.pid)") { sk_pidfd_open(record.pid) }
        flushStdio()
        let watcher = try sys("fork watcher") { sk_clone3(0, -1) }
        if watcher > 0 { close(pidfd); return }
        setsid()
        let null = open("/dev/null", O_RDWR)
        for fd in Int32(0)...2 { dup2(null, fd) }
        ProcessSetup.closeInheritedFds(preserve: 0, keep: [pidfd])
        _ = sk_set_name("skiff-rm")
        var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        while poll(&p, 1, -1) < 0 && errno == EINTR {}
        try? delete(id: record.id, force: true)
        _exit(0)
    }

    // MARK: state, kill, delete

    public func state(id: String) throws -> (ContainerRecord, ContainerStatus) {
        let record = try store.load(id)
        return (record, store.status(of: record))
    }

    /// Send a signal to init, or with `all` to every process of the container.
    public func kill(id: String, signal: Int32, all: Bool) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status != .stopped else { throw SkiffError("container \"\(id)\" is not running") }
        if all {
            if Cgroup.available && !record.cgroupPath.isEmpty { Cgroup.signalAll(record.cgroupPath, signal); return }
            for pid in processes(of: record) { Glibc.kill(pid, signal) }
            return
        }
        // A pidfd pins the process: the signal cannot reach a recycled pid.
        let pidfd = try sys("pidfd_open \(record.pid)") { sk_pidfd_open(record.pid) }
        defer { close(pidfd) }
        guard ProcessInfo.startTime(of: record.pid) == record.initStartTime else { throw SkiffError("container \"\(id)\" is not running") }
        try Explain.step("send signal", "pidfd_send_signal(\(record.pid), \(signal))") {
            try sys("kill \(record.pid)") { sk_pidfd_send_signal(pidfd, signal) }
        }
    }

    /// Every process in the container: those sharing init's pid namespace (or just init
    /// when the container shares the host's).
    func processes(of record: ContainerRecord) -> [Int32] {
        let plan = NamespacePlan(record.config)
        guard plan.isNew(.pid), let ns = Namespaces.inode(pid: record.pid, .pid) else { return [record.pid] }
        return listDirectory("/proc").compactMap { Int32($0) }.filter { Namespaces.inode(pid: $0, .pid) == ns }
    }

    /// Remove a container. A running one only with `force` (it is killed first).
    public func delete(id: String, force: Bool) throws {
        let record: ContainerRecord
        do { record = try store.load(id) } catch {
            if force && fileExists(store.directory(id)) == false { return }
            throw error
        }
        let status = store.status(of: record)
        if status == .running || status == .paused {
            guard force else { throw SkiffError("cannot delete container \"\(id)\" that is not stopped: \(status.rawValue)") }
        }
        if status != .stopped {
            let pids = processes(of: record)
            Explain.step("kill processes", "kill(\(pids), SIGKILL)") { for pid in pids { Glibc.kill(pid, SIGKILL) } }
            try waitForExit(record)
        }
        try ContainerCgroup.remove(record) // what is left in the cgroup is killed first
        ContainerNetwork.tearDown(id: id, dir: store.directory(id), store: store) // CNI DEL, netns, peers' hosts
        Explain.step("remove state", "rm -r \(store.directory(id))") { removeAll(store.directory(id)) }
        if let overlay = record.overlay {
            Explain.step("remove layers", "rm -r \(overlay.dataDir)") { removeAll(overlay.dataDir) }
        }
        Hooks.runLogged(record.config.hooks?.poststop, kind: "poststop",
                        state: Hooks.state(id, .stopped, pid: nil, bundle: record.bundle, spec: record.config))
    }

    /// Wait until init is gone (or a zombie nobody reaped yet), up to 10 s.
    private func waitForExit(_ record: ContainerRecord) throws {
        for _ in 0..<1000 {
            if store.status(of: record) == .stopped { return }
            sleepMillis(10)
        }
        throw SkiffError("container \"\(record.id)\" did not exit after SIGKILL")
    }
}
