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
    }

    /// create's work; in the foreground (`run`) mode init waits on the socket instead of
    /// the fifo, and skiff stays its parent.
    private func launch(id: String, options: CreateOptions, foreground: Bool) throws -> Launched {
        try StateStore.validate(id: id)
        let bundle = absolutePath(options.bundle, relativeTo: currentDirectory())
        let spec = try loadSpec(bundle: bundle)
        guard let rootPath = spec.root?.path else { throw SkiffError("config.json: root.path: missing required field") }
        let rootfs = absolutePath(rootPath, relativeTo: bundle)
        guard isDirectory(rootfs) else { throw SkiffError("root.path: rootfs \(rootfs) is not a directory: \(errnoText())") }
        guard spec.process?.args?.isEmpty == false else { throw SkiffError("config.json: process.args: must contain at least one element") }
        let plan = NamespacePlan(spec)
        guard plan.has(.mount) else { throw SkiffError("config.json: linux.namespaces: a mount namespace is required") }

        // From here on everything made is undone if a step fails.
        try mkdirAll(store.root, mode: 0o711)
        let dir = store.directory(id)
        if mkdir(dir, 0o711) != 0 {
            throw SkiffError(errno == EEXIST ? "container \"\(id)\" already exists" : "mkdir \(dir): \(errnoText())")
        }
        var child: Int32 = 0
        var succeeded = false
        defer {
            if !succeeded {
                if child > 0 { Glibc.kill(child, SIGKILL); var st: Int32 = 0; waitpid(child, &st, 0) }
                removeAll(dir)
            }
        }
        if !foreground {
            try sys("mkfifo exec.fifo") { mkfifo(store.fifoPath(id), 0o622) }
        }
        let dirFd = try sys("open \(dir)") { open(dir, SK_O_PATH | O_DIRECTORY | O_CLOEXEC) }
        defer { close(dirFd) }
        let (parentSock, childSock) = try SyncSocket.pair()
        defer { childSock.close() }

        // Namespaces that apply to children only are entered here, before the clone.
        for (type, path) in plan.joined where type == .pid || type == .time { try Namespaces.join(type, path: path) }
        if plan.isNew(.time) { try enterNewTimeNamespace(spec.linux?.timeOffsets ?? [:]) }

        flushStdio()
        let flags = plan.cloneFlags
        child = try Explain.step("new process", "clone3(\(NamespacePlan.describe(flags)))", result: { "\($0)" }) {
            try sys("clone3(\(NamespacePlan.describe(flags)))") { sk_clone3(flags, -1) }
        }
        if child == 0 {
            parentSock.close()
            InitProcess(id: id, spec: spec, bundle: bundle, rootfs: rootfs, plan: plan, options: options,
                        sync: childSock, stateDirFd: foreground ? -1 : dirFd).run()
        }
        childSock.close()

        if plan.isNew(.user) { try writeIDMappings(pid: child, linux: spec.linux) }
        try parentSock.send("go")
        switch try parentSock.receive() {
        case "ready"?: break
        case let msg? where msg.hasPrefix("error "): throw SkiffError(String(msg.dropFirst(6)))
        default: throw SkiffError("container init exited during setup")
        }

        let record = ContainerRecord(
            ociVersion: spec.ociVersion, id: id, pid: child, bundle: bundle, rootfs: rootfs, created: rfc3339Now(),
            owner: "", annotations: spec.annotations, initStartTime: ProcessInfo.startTime(of: child) ?? 0,
            cgroupPath: "", config: spec)
        try store.save(record)
        if let pidFile = options.pidFile {
            try writeFileAtomic(absolutePath(pidFile, relativeTo: currentDirectory()), "\(child)")
        }
        succeeded = true
        return Launched(record: record, sync: parentSock)
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
    }

    // MARK: run

    /// create + start + wait + delete in the foreground; returns the exit code (128+N
    /// for a death by signal N). Signals sent to skiff are forwarded to the container.
    public func run(id: String, options: CreateOptions, detach: Bool) throws -> Int32 {
        if detach {
            try create(id: id, options: options)
            do { try start(id: id) } catch { try? delete(id: id, force: true); throw error }
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
        } catch {
            try? delete(id: id, force: true); throw error
        }
        var code: Int32 = 0
        waiting: while true {
            let sig = sk_sigwait_any(-1)
            if sig == SIGCHLD {
                var status: Int32 = 0
                while true {
                    let r = waitpid(-1, &status, WNOHANG)
                    if r <= 0 { break }
                    if r == pid {
                        code = sk_wifsignaled(status) != 0 ? 128 + sk_wtermsig(status) : sk_wexitstatus(status)
                        Explain.note("container exited", "status \(code)")
                        break waiting
                    }
                }
            } else if sig > 0 {
                Glibc.kill(pid, sig) // forward
            }
        }
        try delete(id: id, force: true)
        return code
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
            for pid in processes(of: record) { Glibc.kill(pid, SIGKILL) }
            try waitForExit(record)
        }
        removeAll(store.directory(id))
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
