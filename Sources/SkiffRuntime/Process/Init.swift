// The container's init process: the child of clone3, running Skiff's code until it
// execs the user's program. It does every step in the order the kernel needs and
// reports the first failure back to skiff as one line. Its life is the sequence of
// ChildSetup.run (Launcher.swift, which also says how it differs from exec's process):
// setUp, "ready", execute.
import CShim
import Glibc
import SkiffSpec

/// The part of create's options init itself acts on (the rest is skiff's: bundle,
/// pid file, console socket...).
struct InitOptions {
    var noPivot = false
    var noNewKeyring = false
    /// The fds after stdio that the program inherits (--preserve-fds, LISTEN_FDS).
    var preserveFds = 0
    var stdinNull = false
    /// The log relay's pipes for stdout and stderr (-1: inherited).
    var stdoutFd: Int32 = -1
    var stderrFd: Int32 = -1
    /// The seccomp filter, compiled by skiff before the clone (SeccompProgram.swift).
    var seccompProgram: SeccompProgram?
    /// Without cgroup v2: the cgroup v1 devices directory and an fd on its `tasks` file,
    /// which init writes itself into before anything else (DeviceCgroupV1.swift).
    var deviceCgroupV1: (dir: String, tasks: Int32)?

    init(_ o: CreateOptions) {
        noPivot = o.noPivot
        noNewKeyring = o.noNewKeyring
        preserveFds = o.preserveFds
        stdinNull = o.stdinNull
        stdoutFd = o.stdoutFd
        stderrFd = o.stderrFd
        seccompProgram = o.seccompProgram
    }
}

/// An InitProcess made by skiff before the clone, run in place by the child. Building it
/// copies the Spec, which retains every string and array in it: in the child each retain
/// is a write, i.e. a copy-on-write copy of the heap page, charged to the container's
/// memory limit (8 pages for the default spec). Made in skiff, the child only reads it.
final class InitBox {
    var initProcess: InitProcess
    init(_ initProcess: InitProcess) { self.initProcess = initProcess }

    /// Run by skiff right before the clone. The Swift runtime fills its caches lazily: the
    /// first use of a generic type (Set<Int32>, a dictionary literal...) demangles its name
    /// (a deep stack), allocates metadata and writes cache slots and locks in the binary's
    /// data; a `static let` runs its initializer once. Done first in the child, each of
    /// those is pages copied or made inside the container's memory limit. These are the
    /// pure steps of init's own code that do so (found with `perf record -e page-faults`
    /// on init, docs/performance.md): done here, the child finds the caches filled.
    func warmUp() {
        let spec = initProcess.spec
        let keep: Set<Int32> = [-1, -2]
        _ = keep.contains(0)
        _ = try? SyncMessage.decode(SyncMessage.go(hostPid: 1).encoded())
        for m in spec.mounts ?? [] {
            let opts = MountOptions(m.options ?? [])
            _ = RootfsSetup.mountAttributes(opts.flags)
            _ = opts.dataString
            _ = FSMagic.of(m.type ?? "")
            _ = lxcfsProcFiles.contains(m.destination)
        }
        _ = FSMagic.of("proc")
        // A lazy value that reads the host (the v1 cgroup layout, CgroupMount.swift): made here,
        // not by a child that shares skiff's memory (shared_clone.c), whose cached value
        // skiff would see too, nor first in init, where its parsing took 0.4 ms.
        _ = CgroupV1Mount.host
        _ = (Devices.defaults.count, Devices.symlinks.count)
        for r in spec.process?.rlimits ?? [] { _ = ProcessSetup.rlimitResource(r.type) }
    }

    /// The child's whole life (clone3's child: never returns).
    func run(sync: SyncSocket, consoleFd: Int32, parentPidfd: Int32 = -1) -> Never {
        initProcess.sync = sync
        initProcess.consoleFd = consoleFd
        initProcess.parentPidfd = parentPidfd
        initProcess.run()
    }
}

struct InitProcess: ChildSetup {
    let id: String
    let spec: Spec
    let bundle: String
    let rootfs: String
    let plan: NamespacePlan
    let options: InitOptions
    /// The handshake socket and the console socket's connection are the launcher's, made
    /// right before the clone: the child sets them (InitBox).
    var sync = SyncSocket(fd: -1)
    /// SK_O_PATH fd on the state directory: how init reaches exec.fifo after pivot_root.
    /// -1 when skiff itself starts the program (foreground `run`).
    let stateDirFd: Int32
    /// init.error in the state directory (-1 in foreground `run`): where a failure goes
    /// once the socket is closed, for `start` to report (Sync.swift).
    let reportFd: Int32
    /// The connection to --console-socket (-1 when none): receives the pty master.
    var consoleFd: Int32 = -1
    /// The overlay to mount as the root, if any.
    let overlay: OverlayLayers?
    /// This process's pid as the host sees it (for hook state), sent with "go".
    private var hostPid: Int32 = 0
    /// What init is doing, for the error report ("namespaces", "rootfs", ...).
    private(set) var step = "waiting for go"
    /// The handshake socket is closed once create is done (init then waits on exec.fifo).
    private var syncOpen = true

    init(
        id: String, spec: Spec, bundle: String, rootfs: String, plan: NamespacePlan, options: InitOptions,
        stateDirFd: Int32, reportFd: Int32, overlay: OverlayLayers?
    ) {
        self.id = id
        self.spec = spec
        self.bundle = bundle
        self.rootfs = rootfs
        self.plan = plan
        self.options = options
        self.stateDirFd = stateDirFd
        self.reportFd = reportFd
        self.overlay = overlay
    }

    var openSync: SyncSocket? { syncOpen ? sync : nil }
    /// Foreground run: "start" on the socket; create: "created", then exec.fifo.
    var readyAnswer: SyncMessage? { stateDirFd < 0 ? .start : .created }
    /// create, when init shares skiff's memory (Launcher.sharesMemory): a pidfd on
    /// create's skiff. After "created" init waits for that skiff to exit before it runs
    /// on: until then both would run in the same memory (shared_clone.c). -1: no wait.
    var parentPidfd: Int32 = -1

    /// After "ready": wait for `start`, run the startContainer hooks, exec.
    mutating func execute(_ prepared: PreparedProcess) throws -> Never {
        step = "waiting for start"
        let fifo = try waitForStart()
        step = "startContainer hooks"
        try Hooks.run(
            spec.hooks?.startContainer, kind: "startContainer",
            state: Hooks.state(id, .created, pid: hostPid, bundle: bundle, spec: spec))
        // The fifo (or, in the foreground, the socket) closes at execve: `start` and a
        // detached run's monitor know the program runs, its capabilities dropped.
        var keep: Set<Int32> = reportFd >= 0 ? [reportFd] : []
        keep.insert(fifo ?? sync.fd)
        ProcessSetup.exec(
            prepared, keep: keep, report: reportFd, asInit: spec.annotations?[InitReaper.annotation] == "true")
    }

    /// Namespaces, root filesystem and process attributes; returns what to exec.
    mutating func setUp() throws -> PreparedProcess {
        // Until create is done, init dies with skiff: a `create` killed half-way must
        // not leave an init behind that nobody knows of (runc does the same).
        // Changing credentials clears the setting, so it is armed again after each
        // (and once more at the end, below).
        _ = sk_set_pdeathsig(SIGKILL)
        // The device rules hold from the start: without cgroup v2, init moves itself into
        // the v1 devices cgroup before it does anything else (finding H2).
        if let (dir, tasks) = options.deviceCgroupV1 {
            step = "devices cgroup"
            try DeviceCgroupV1.joinSelf(tasks, dir: dir)
            close(tasks)
            step = "waiting for go"
        }
        // A session of its own, before anything else: otherwise the caller's terminal
        // stays the container's controlling tty, and a program in the image can open
        // /dev/tty and push keystrokes into the administrator's shell with TIOCSTI
        // (runc calls setsid() for every init and exec too). With process.terminal the
        // new pty becomes the controlling tty of this new session (Terminal.swift).
        try ProcessSetup.newSession()
        umask(0) // device nodes and directories get exactly the modes asked for
        closeInheritedFds()
        if case .go(let pid) = try sync.expect(.go(hostPid: 1)).0 { hostPid = pid }
        step = "namespaces"
        let process = spec.process!
        // First, while /proc is still the host's: a later write would meet the
        // non-dumpable process's root-owned /proc files in a user namespace.
        try ProcessSetup.setOOMScoreAdj(process.oomScoreAdj)
        // Not dumpable before any namespace join (CVE-2016-9962, ProcessSetup).
        try ProcessSetup.becomeNonDumpable()

        // Joined namespaces first (user before the rest), then the new ones.
        let joins = plan.joined.filter { $0.0 != .pid && $0.0 != .time }
        for (type, path) in joins where type == .user { try Namespaces.join(type, path: path) }
        if plan.has(.user) {
            try becomeRootInUserNamespace()
            _ = sk_set_pdeathsig(SIGKILL)
        }
        for (type, path) in joins where type != .user && type != .mount { try Namespaces.join(type, path: path) }
        for (type, path) in joins where type == .mount { try Namespaces.join(type, path: path) }
        try Namespaces.unshare(plan.unshareFlags)

        if !options.noNewKeyring {
            // A session keyring of its own, so containers don't share kernel keys.
            if sk_join_session_keyring("_ses.\(id)") < 0 { Log.debug("session keyring: \(errnoText())") }
        }
        if plan.has(.uts) { // new, or joined by path: either way it is the container's
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

        var rootfsSetup = RootfsSetup(
            spec: spec, rootfs: rootfs, bundle: bundle, noPivot: options.noPivot,
            newNetwork: plan.isNew(.network), overlay: overlay)
        let (hooks, state) = (spec.hooks, Hooks.state(id, .creating, pid: hostPid, bundle: bundle, spec: spec))
        let sync = self.sync
        rootfsSetup.beforeSwitch = {
            // The namespaces exist and the mounts are made: time for skiff to run prestart
            // and createRuntime hooks, then for createContainer hooks here, in the container.
            if hooks?.prestart?.isEmpty == false || hooks?.createRuntime?.isEmpty == false {
                try sync.ask(.hooks, expect: .hooksDone)
            }
            try Hooks.run(hooks?.createContainer, kind: "createContainer", state: state)
        }
        step = "rootfs"
        if plan.has(.mount) {
            try rootfsSetup.run()
            try rootfsSetup.finish()
        } else {
            // No mount namespace: any mount would be the host's, so none is made (runc
            // and crun accept such a config too); the process is only chrooted.
            try rootfsSetup.beforeSwitch()
            try Explain.step("change root", "chroot(\"\(rootfs)\")") {
                try sys("chroot \(rootfs)") { chdir(rootfs) == 0 ? chroot(".") : -1 }
                try sys("chdir /") { chdir("/") }
            }
        }
        step = "process"
        if process.terminal == true {
            let master = try Terminal.attachNewPty(size: process.consoleSize, bindConsole: plan.has(.mount))
            try Terminal.handOver(master: master, consoleFd: consoleFd, sync: sync)
        } else if options.stdinNull {
            let null = try sys("open /dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
            dup2(null, 0)
            close(null)
        }
        // A detached quick-run container writes into the log relay's pipes (Detached.swift).
        if options.stdoutFd >= 0 { try sys("dup2 stdout") { dup2(options.stdoutFd, 1) } }
        if options.stderrFd >= 0 {
            if Explain.enabled { Explain.fd = fcntl(2, F_DUPFD_CLOEXEC, 3) } // --explain stays on skiff's stderr
            try sys("dup2 stderr") { dup2(options.stderrFd, 2) }
        }

        let prepared = try ProcessSetup.prepare(
            process, preserveFds: options.preserveFds, linux: spec.linux, seccomp: options.seccompProgram, sync: sync)
        _ = sk_set_pdeathsig(SIGKILL) // prepare changed credentials, which cleared it
        return prepared
    }

    /// In a new (or joined) user namespace this process still carries the host uid it
    /// was cloned with, which the namespace does not map: it looks like "nobody" there,
    /// and files it creates would have no owner the kernel can write down (EOVERFLOW).
    /// setresuid/setresgid(0) make it the namespace's root, i.e. the host uid that
    /// uidMappings maps to 0 (runc's nsexec does the same).
    private func becomeRootInUserNamespace() throws {
        try Explain.step("root in user ns", "setresgid(0); setresuid(0)") {
            if sk_setresgid(0, 0, 0) != 0 || sk_setresuid(0, 0, 0) != 0 {
                let e = errno
                throw SkiffError(
                    "linux.uidMappings/gidMappings: cannot become uid/gid 0 in the user namespace "
                        + "(is 0 mapped?): \(errnoText(e))")
            }
        }
    }

    /// Close every descriptor inherited from skiff's caller except stdio, the
    /// --preserve-fds ones, the handshake socket, the state directory and the log. Init
    /// may wait a long time for `start`; an inherited pipe or socket must not stay open
    /// that long (the caller would never see EOF on it), nor reach the container.
    private func closeInheritedFds() {
        ProcessSetup.closeInheritedFds(
            preserve: options.preserveFds,
            keep: [sync.fd, stateDirFd, reportFd, Log.fd, consoleFd, options.stdoutFd, options.stderrFd, parentPidfd])
    }

    /// Skiff has answered "ready" (readyAnswer): in foreground `run` that was "start";
    /// after create, block until `skiff start` opens exec.fifo for reading. Returns the
    /// fifo's write end, which stays open until execve.
    private mutating func waitForStart() throws -> Int32? {
        if stateDirFd < 0 {
            _ = sk_set_pdeathsig(0) // skiff saved the state: the container is on its own
            return nil
        }
        _ = sk_set_pdeathsig(0) // skiff saved the state and may exit now; init stays
        // Closing the socket is skiff's cue that init got "created"; sharing its memory,
        // init then waits in C for that skiff's exit (its pidfd) before it runs on.
        sk_close_and_await_exit(sync.fd, parentPidfd)
        syncOpen = false
        // openat() through the directory fd still reaches the host's state directory,
        // although this process's root is now the container's. The fifo is 0622 (see
        // launch), so a non-root process.user, which init is by now, may open it.
        let fifo = try sys("open exec.fifo") { openat(stateDirFd, "exec.fifo", O_WRONLY | O_CLOEXEC) }
        try writeAll(fifo, [UInt8(ascii: "0")])
        // The write end stays open (close-on-exec): `start` reads EOF when execve has
        // happened (or init died), and only then runs the poststart hooks.
        close(stateDirFd)
        return fifo
    }
}
