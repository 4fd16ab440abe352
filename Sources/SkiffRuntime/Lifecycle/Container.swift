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
    /// Init's stdout and stderr (the log relay's pipes, Detached.swift); -1: inherited.
    public var stdoutFd: Int32 = -1
    public var stderrFd: Int32 = -1
    /// run --detach of a bundle: this skiff starts the container right after create.
    var startsItself = false
    /// Launch again into the existing state directory of a stopped container (start
    /// again, Detached.swift): it is not made, and not removed if the launch fails.
    public var reuseStateDir = false
    /// The compiled seccomp filter for init, filled in by `launch` (SeccompProgram.swift).
    var seccompProgram: SeccompProgram?
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
        let process: LaunchedProcess
        var sync: SyncSocket { process.sync }
        /// The pty master, when skiff itself relays the container's terminal.
        var master: Int32? { process.master }
    }

    /// create's work; in the foreground (`run`) mode init waits on the socket instead of
    /// the fifo, and skiff stays its parent. The process itself is started by the
    /// Launcher (Process/Launcher.swift), as exec's is.
    func launch(id: String, options: CreateOptions, foreground: Bool) throws -> Launched {
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
        guard isDirectory(rootfs) else {
            throw SkiffError(
                "root.path: rootfs \(rootfs) is not a directory: "
                    + "\(errnoText())")
        }
        guard spec.process?.args?.isEmpty == false else {
            throw SkiffError(
                "config.json: process.args: must "
                    + "contain at least one element")
        }
        var plan = NamespacePlan(spec)
        if !plan.has(.mount) { // accepted, as runc and crun do: init only chroots (Init.swift)
            if spec.root?.readonly == true {
                throw SkiffError(
                    "root.readonly: needs a mount namespace "
                        + "(linux.namespaces has none)")
            }
            if spec.annotations?[OverlayLayers.annotation] == "true" {
                throw SkiffError(
                    "annotations.\(OverlayLayers.annotation): an overlay root needs a mount "
                        + "namespace (linux.namespaces has none)")
            }
            if spec.mounts?.isEmpty == false {
                Log.warn(
                    "mounts: ignored: the container has no mount namespace of "
                        + "its own")
            }
        }
        try refuseHostNetworkSysctls(spec, plan)
        try LaunchKind.checkTerminal(
            spec.process?.terminal == true, consoleSocket: options.consoleSocket,
            foreground: foreground, hint: "process.terminal is false")

        // From here on everything made is undone if a step fails.
        // The state root is root's alone (runc's is 0700 too); each container's directory
        // stays 0711 so a user-namespaced init can reach exec.fifo by its directory fd.
        try mkdirAll(store.root, mode: 0o700)
        _ = chmod(store.root, 0o700)
        // The seccomp filter, compiled or taken from the cache before anything is made.
        options.seccompProgram = try spec.linux?.seccomp.map { try SeccompProgram.prepare($0, stateRoot: store.root) }
        if mkdir(dir, 0o711) != 0 && !(options.reuseStateDir && errno == EEXIST) {
            throw SkiffError(errno == EEXIST ? "container \"\(id)\" already exists" : "mkdir \(dir): \(errnoText())")
        }
        var succeeded = false
        var cgroup: ContainerCgroup?
        var overlay: OverlayLayers?
        var overlayMade = false
        defer {
            if !succeeded {
                cgroup?.destroy() // the launcher killed and reaped init, if it got that far
                ContainerNetwork.tearDown(id: id, dir: dir, store: store) // Network/ContainerNetwork.swift
                if !options.reuseStateDir {
                    removeAll(dir)
                    if let overlay, overlayMade { removeAll(overlay.dataDir) }
                }
            }
        }
        // An overlay root: the rootfs is the lower layer, the container writes to its own
        // upper, in its data directory (off /run, 0700).
        if spec.annotations?[OverlayLayers.annotation] == "true" {
            try OverlayLayers.checkLowerPath(rootfs)
            overlay = OverlayLayers(lower: rootfs, dataDir: store.dataDirectory(id))
        }
        // A first state.json (pid 0: no process yet) before anything else is made, naming
        // the cgroup and layers to be: if this skiff is killed half-way, `delete --force`
        // finds what to undo. (Its init dies with it: PR_SET_PDEATHSIG, Init.swift.)
        let plannedCgroup =
            Cgroup.available
            ? (try? Cgroup.containerPath(spec.linux?.cgroupsPath, id: id, root: store.root).path) ?? "" : ""
        let plannedDevices =
            !Cgroup.available && DeviceCgroupV1.available
            ? (try? Cgroup.containerPath(spec.linux?.cgroupsPath, id: id, root: store.root).path).map {
                DeviceCgroupV1.mountPoint + $0
            } : nil
        try store.save(
            ContainerRecord(
                ociVersion: spec.ociVersion, id: id, pid: 0, bundle: bundle, rootfs: rootfs, created: rfc3339Now(),
                owner: "",
                annotations: spec.annotations, initStartTime: 0, cgroupPath: plannedCgroup, config: spec,
                overlay: overlay,
                deviceCgroupV1: plannedDevices))
        // Quick-run networking (annotation run.skiff.network): DNS files, netns, CNI ADD.
        if try ContainerNetwork.setUp(id: id, dir: dir, spec: &spec, store: store) { plan = NamespacePlan(spec) }
        // The quick-run config holds the -e/--env-file values: for root's eyes only.
        if options.spec != nil { try writeFile(dir + "/config.json", spec.json(indent: "\t"), mode: 0o600) }
        var reportFd: Int32 = -1
        defer { if reportFd >= 0 { close(reportFd) } }
        if !foreground {
            try sys("mkfifo exec.fifo") { mkfifo(store.fifoPath(id), 0o622) }
            // 0622 whatever skiff's umask (runc sets umask 0 around its mkfifo): init opens
            // the fifo as process.user, after dropping privileges, so "others" must be
            // able to write it (it only ever carries one byte).
            try sys("chmod exec.fifo") { chmod(store.fifoPath(id), 0o622) }
            try UserNamespace.giveToContainerRoot(store.fifoPath(id), spec: spec) // init opens it as that uid
            reportFd = try sys("create init.error") {
                open(store.reportPath(id), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            }
        }
        let dirFd = try sys("open \(dir)") { open(dir, SK_O_PATH | O_DIRECTORY | O_CLOEXEC) }
        defer { close(dirFd) }
        if var layers = overlay {
            layers.lowers = ImageAnnotations.lowerDirs(spec) // --image: the image's layers
            for lower in layers.lowerDirs { try OverlayLayers.checkLowerPath(lower) }
            overlay = layers
        }
        try overlay?.create(reuse: options.reuseStateDir)
        overlayMade = overlay != nil

        // The cgroup, its limits written: init is cloned straight into it.
        cgroup = try ContainerCgroup.create(id: id, spec: spec, root: store.root)
        var launcher = Launcher(
            kind: .initProcess(plan: plan, timeOffsets: spec.linux?.timeOffsets ?? [:]),
            id: id, bundle: bundle, spec: spec, process: spec.process!,
            consoleSocket: options.consoleSocket, foreground: foreground, pidFile: options.pidFile)
        launcher.cgroupFd = cgroup?.fd ?? -1
        launcher.cgroupPath = cgroup?.path ?? ""
        // create: an init sharing skiff's memory waits for this skiff's exit (Init.swift).
        launcher.mayShareMemory = foreground || !options.startsItself
        var selfPidfd: Int32 = -1
        defer { if selfPidfd >= 0 { close(selfPidfd) } }
        if launcher.sharesMemory && !foreground {
            selfPidfd = sk_pidfd_open(getpid())
            if selfPidfd < 0 { launcher.mayShareMemory = false }
        }
        var record: ContainerRecord?
        let (initRootfs, stateDirFd) = (overlay?.merged ?? rootfs, foreground ? -1 : dirFd)
        var initOptions = InitOptions(options)
        initOptions.deviceCgroupV1 = cgroup?.deviceV1Join
        let initBox = InitBox(
            InitProcess(
                id: id, spec: spec, bundle: bundle, rootfs: initRootfs, plan: plan, options: initOptions,
                stateDirFd: stateDirFd, reportFd: reportFd, overlay: overlay))
        initBox.warmUp()
        let process = try launcher.start(
            child: { sync, consoleFd in initBox.run(sync: sync, consoleFd: consoleFd, parentPidfd: selfPidfd) },
            afterClone: { pid in
                if plan.isNew(.user) { try UserNamespace.writeIDMappings(pid: pid, linux: spec.linux) }
            },
            whenReady: { pid in
                try cgroup?.attachDeviceFilter() // init's device nodes are made; the program has not started
                let saved = ContainerRecord(
                    ociVersion: spec.ociVersion, id: id, pid: pid, bundle: bundle, rootfs: rootfs,
                    created: rfc3339Now(),
                    owner: "", annotations: spec.annotations, initStartTime: ProcessInfo.startTime(of: pid) ?? 0,
                    cgroupPath: cgroup?.path ?? "", config: spec, overlay: overlay, deviceCgroupV1: cgroup?.deviceV1Dir)
                try store.save(saved)
                record = saved
            })
        succeeded = true
        return Launched(record: record!, process: process)
    }

    /// net.* sysctls need the container's own network namespace. The spec check accepts a
    /// joined one; here it must not be the host's (skiff's or pid 1's): writing
    /// net.ipv4.ip_forward there would change the host (runc's isHostNetNS; review L8).
    private func refuseHostNetworkSysctls(_ spec: Spec, _ plan: NamespacePlan) throws {
        guard
            let key = (spec.linux?.sysctl ?? [:]).keys.sorted().first(where: {
                $0.hasPrefix("net.") || $0.hasPrefix("net/")
            }),
            let path = plan.joined.first(where: { $0.0 == .network })?.1
        else { return }
        var joined = stat()
        var mine = stat()
        var hostInit = stat()
        guard stat(path, &joined) == 0 else { return } // the join itself reports a bad path
        let same = { (a: stat) in a.st_dev == joined.st_dev && a.st_ino == joined.st_ino }
        if (stat("/proc/self/ns/net", &mine) == 0 && same(mine))
            || (stat("/proc/1/ns/net", &hostInit) == 0 && same(hostInit))
        {
            throw SkiffError(
                "linux.sysctl[\"\(key)\"]: the network namespace \(path) is the host's; refusing to "
                    + "change the host's settings")
        }
    }

    func loadSpec(bundle: String) throws -> Spec {
        let path = bundle + "/config.json"
        guard let bytes = readFile(path) else { throw SkiffError("\(path): \(errnoText())") }
        do { return try Spec.parse(bytes) } catch { throw SkiffError("config.json: \(error)") }
    }

    // MARK: start

    /// Let a created container's init exec the user program.
    public func start(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        if status == .stopped && isQuickRun(record) { return try startAgain(record) } // Detached.swift
        guard status == .created else {
            if status == .stopped, let failure = initFailure(id) { throw failure }
            throw SkiffError(
                status == .stopped
                    ? "cannot start a container that has "
                        + "stopped" : "cannot start an already \(status.rawValue) container")
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
            if store.status(of: record) == .stopped {
                throw initFailure(id)
                    ?? SkiffError(
                        "container init died "
                            + "before start")
            }
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
        // EOF: execve closed the fifo, or init died. Which one, the report tells: init
        // writes it before it exits (a program that ran may well be done by now too).
        if let failure = initFailure(id) { throw failure }
        Hooks.runLogged(
            record.config.hooks?.poststart, kind: "poststart",
            state: Hooks.state(id, .running, pid: record.pid, bundle: record.bundle, spec: record.config))
    }

    /// What init reported in init.error after create returned (Sync.swift), as the error
    /// `start` throws; it also went to the log.
    private func initFailure(_ id: String) -> SkiffError? {
        guard let e = ChildExit.readReport(store.reportPath(id)) else { return nil }
        return SkiffError("container \(id) failed before its program started (\(e.step)): \(e.message)", code: e.code)
    }

    // MARK: run

    /// create + start + wait + delete in the foreground; returns the exit code (128+N
    /// for a death by signal N). Signals sent to skiff are forwarded to the container.
    /// `remove` false keeps the stopped container (quick-run without --rm), for `diff`.
    public func run(id: String, options: CreateOptions, detach: Bool, remove: Bool = true) throws -> Int32 {
        if detach { // a bundle; a detached quick-run container has a monitor (Detached.swift)
            var options = options
            options.startsItself = true
            try create(id: id, options: options)
            do { try start(id: id) } catch {
                try? delete(id: id, force: true)
                throw error
            }
            return 0
        }
        // Block every signal before the clone so none is lost; the supervisor takes them.
        Supervisor.takeSignals()
        defer { Supervisor.releaseSignals() }
        let launched = try launch(id: id, options: options, foreground: true)
        let pid = launched.record.pid
        defer { launched.sync.close() }
        do {
            try launched.process.startAndAwaitExec()
        } catch {
            try? delete(id: id, force: true)
            throw error
        }
        Hooks.runLogged(
            launched.record.config.hooks?.poststart, kind: "poststart",
            state: Hooks.state(id, .running, pid: pid, bundle: launched.record.bundle, spec: launched.record.config))
        let code = launched.process.supervise(forwardStdin: !options.stdinNull)
        ContainerCgroup.reportOOM(launched.record, exitCode: code)
        if !remove { return code }
        try delete(id: id, force: true)
        return code
    }

    // MARK: state, kill, delete

    public func state(id: String) throws -> (ContainerRecord, ContainerStatus) {
        let record = try store.load(id)
        return (record, store.status(of: record))
    }

    /// `state` without the config (StateStore.loadSummary): for `list` and `state`.
    public func summary(id: String) throws -> (ContainerSummary, ContainerStatus) {
        let summary = try store.loadSummary(id)
        return (summary, store.status(of: summary))
    }

    /// Send a signal to init, or with `all` to every process of the container.
    public func kill(id: String, signal: Int32, all: Bool) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status != .stopped else { throw SkiffError("container \"\(id)\" is not running") }
        if all {
            if Cgroup.available && !record.cgroupPath.isEmpty {
                Cgroup.signalAll(record.cgroupPath, signal)
                return
            }
            for pid in processes(of: record) { Glibc.kill(pid, signal) }
            return
        }
        // A pidfd pins the process: the signal cannot reach a recycled pid.
        let pidfd = try sys("pidfd_open \(record.pid)") { sk_pidfd_open(record.pid) }
        defer { close(pidfd) }
        guard ProcessInfo.startTime(of: record.pid) == record.initStartTime else {
            throw SkiffError("container \"\(id)\" is not running")
        }
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
            // A create killed before it wrote its first state.json made nothing but the
            // directory (and perhaps exec.fifo, config.json): --force removes it.
            if force && !fileExists(store.recordPath(id)) && isDirectory(store.directory(id)) {
                Explain.step("remove state", "rm -r \(store.directory(id))") { removeAll(store.directory(id)) }
                return
            }
            throw error
        }
        let status = store.status(of: record)
        if status == .running || status == .paused {
            guard force else {
                throw SkiffError(
                    "cannot delete container \"\(id)\" that is not stopped: "
                        + "\(status.rawValue)")
            }
        }
        if isQuickRun(record) { try? writeFile(stopRequestPath(id), "") } // its monitor must not --restart it
        if status != .stopped {
            let pids = processes(of: record)
            Explain.step("kill processes", "kill(\(pids), SIGKILL)") { for pid in pids { Glibc.kill(pid, SIGKILL) } }
            try waitForExit(record)
        }
        try ContainerCgroup.remove(record) // what is left in the cgroup is killed first
        waitForMonitor(id) // it writes the exit code once init is gone (Detached.swift)
        ContainerNetwork.tearDown(id: id, dir: store.directory(id), store: store) // CNI DEL, netns, peers' hosts
        // The data directory first (overlay layers, log): once the state is gone, nothing is left.
        let data = record.overlay?.dataDir ?? store.dataDirectory(id)
        if isDirectory(data) { Explain.step("remove layers", "rm -r \(data)") { removeAll(data) } }
        Explain.step("remove state", "rm -r \(store.directory(id))") { removeAll(store.directory(id)) }
        guard record.pid > 0 else { return } // a create that never finished: no container to stop
        Hooks.runLogged(
            record.config.hooks?.poststop, kind: "poststop",
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
