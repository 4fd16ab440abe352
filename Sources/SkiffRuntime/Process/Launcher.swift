// Starting a process in a container: the one sequence behind create, run and exec, both
// sides of it. The command first does what is its own (create: read the config, make the
// state directory, the network, the cgroup; exec: check the container, open its
// namespaces and cgroup), then hands over to `Launcher.start`:
//
//   skiff (Launcher.start)                         the child (ChildSetup.run)
//   --------------------------------------------   -----------------------------------------
//   connect --console-socket; the socketpair
//   enter the pid/time namespaces (children only)
//   clone3 into the cgroup (init: CLONE_VM) -----> setUp: setsid, not dumpable, close fds,
//   (init) afterClone: v1 devices, id maps; "go"   namespaces, (init) rootfs, terminal,
//   handshake until "ready": pty, seccomp          ProcessSetup.prepare
//   listener, (init) hooks                  <----- "ready"
//   whenReady (create: device filter, state.json)
//   pid file; (create) "created", EOF       -----> execute: (init) wait for the go-ahead,
//   the command ends it: run sends "start",        execve (ProcessSetup.exec)
//   a foreground run or exec supervises
//
// An init shares skiff's memory until execve when it can (`sharesMemory`, shared_clone.c):
// then the two take turns, each handing over by a message it sends and blocks after
// (SyncSocket.exchange), never running at the same time.
//
// A failure after the clone kills and reaps the child and closes the pty master before the
// error goes on; what the command made before (cgroup, network, state directory) it
// undoes itself. The messages and their order: Sync.swift.
//
// Everything that differs between the two kinds of process is in this table; in the code,
// where `LaunchKind` is switched on and in the command's own steps it passes to `start`
// (`child`, `afterClone`, `whenReady`):
//
//   step                       init (create, run)                   exec
//   -------------------------  -----------------------------------  -------------------------------
//   tty without console socket only in the foreground (run)         only without --detach
//   console socket without tty "(process.terminal is false)"        "(use --tty)"
//   before the clone           join pid/time by the spec's path;    join init's pid/time (fds on
//                              a new time namespace, its offsets    /proc/PID/ns, opened by exec)
//   clone3 flags               the new namespaces (NamespacePlan)   none: the child uses setns
//   cgroup                     made by create, limits written       the container's, opened
//   after the clone            v1 device cgroup, id maps, "go"      nothing: the child goes on
//   "hooks" from the child     run prestart + createRuntime hooks   a protocol error
//   seccomp agent's state      "creating", the new init's pid       "running", the init's pid
//   EOF before "ready"         the cgroup's OOM kill, or "container "exec: process exited during
//                              init exited during setup"            setup"
//   end of the handshake       create: "created"; run: "start"      none: it execs after "ready"
//   the child's own steps      Init.swift: InitProcess              Exec.swift: ExecProcess
import CShim
import Glibc
import SkiffSpec

/// What kind of process a launch starts, with the data only that kind has.
enum LaunchKind {
    /// A container's init (create, run). `plan`: its namespaces, new ones made by clone3
    /// (and by the child's unshare), joined ones entered by path; `timeOffsets` for a new
    /// time namespace.
    case initProcess(plan: NamespacePlan, timeOffsets: [String: LinuxTimeOffset])
    /// One more process in a running container whose init is `containerInit`.
    /// `namespaces`: init's namespaces that differ from skiff's, open (the child joins them).
    case exec(containerInit: Int32, namespaces: [NamespaceFile])

    /// process.terminal against --console-socket, checked before anything is made.
    /// `foreground`: a skiff stays to relay the terminal (run, exec without --detach).
    static func checkTerminal(_ terminal: Bool, consoleSocket: String?, foreground: Bool, hint: String) throws {
        if terminal && !foreground && consoleSocket == nil {
            throw SkiffError("cannot allocate tty if skiff will detach without setting console socket")
        }
        if !terminal && consoleSocket != nil {
            throw SkiffError("cannot use console socket if skiff will not allocate a tty (\(hint))")
        }
    }
}

/// A started process, its handshake at "ready" (or, after create, over).
struct LaunchedProcess {
    let pid: Int32
    /// skiff's end of the handshake; the command closes it.
    let sync: SyncSocket
    /// The pty master, when skiff itself relays the process's terminal.
    let master: Int32?
    /// Log.fd and Explain.fd as they were at the clone. A child that shares skiff's
    /// memory sets both for itself on its way to execve (ProcessSetup.exec, Init.swift),
    /// and skiff sees that: it takes its own back once the child has exec'd.
    let ownOutput: (log: Int32, explain: Int32)

    /// Foreground start: "start", wait until the child execs (Sync.swift).
    func startAndAwaitExec() throws {
        defer { (Log.fd, Explain.fd) = ownOutput }
        try sync.finish(.start)
    }

    /// Wait for the process in the foreground (Supervise.swift), then close the pty master.
    /// Signals must have been blocked before the clone (`Supervisor.takeSignals`).
    func supervise(forwardStdin: Bool = true) -> Int32 {
        defer { if let master { close(master) } }
        return Supervisor(pid: pid, master: master, forwardStdin: forwardStdin).wait()
    }
}

struct Launcher {
    let kind: LaunchKind
    /// The container (hook and seccomp agent state): its id, bundle and config.
    let id: String
    let bundle: String
    let spec: Spec
    /// The process to start (its terminal, console size).
    let process: Process
    let consoleSocket: String?
    /// A skiff stays the process's parent: foreground run, exec without --detach.
    let foreground: Bool
    let pidFile: String?
    /// The cgroup to clone into: an fd on its directory (-1: none) and its path.
    var cgroupFd: Int32 = -1
    var cgroupPath = ""
    /// The command's say on `sharesMemory`: create cannot let init share skiff's memory
    /// when this same skiff starts the container afterwards (run --detach: init waits for
    /// create's skiff to exit before it runs on), or without a pidfd to wait on.
    var mayShareMemory = true

    /// Whether the child runs in skiff's own memory until execve (CLONE_VM,
    /// shared_clone.c), so that the pages it writes are not copies charged to the
    /// container. Only init: exec's child runs on after "ready" while skiff does too.
    /// And only when nothing init does before execve would reach skiff as well: a user
    /// namespace (setns refuses a process that shares its memory), a new time namespace
    /// (it is entered with a memory of one's own), oomScoreAdj (the kernel sets it for
    /// every process that shares the memory), init as a reaper (it never execs); nor when
    /// the command says no (`mayShareMemory`).
    var sharesMemory: Bool {
        guard case .initProcess(let plan, _) = kind, mayShareMemory else { return false }
        return !plan.has(.user) && !plan.has(.time) && process.oomScoreAdj == nil
            && spec.annotations?[InitReaper.annotation] != "true"
    }

    /// Start the process. `child` is what the clone runs (it never returns); `afterClone`
    /// runs in skiff right after the clone, before the child may go on; `whenReady` once
    /// the child is ready, before the pid file. Both are the command's own steps.
    func start(
        child: @escaping (_ sync: SyncSocket, _ consoleFd: Int32) -> Never,
        afterClone: (_ pid: Int32) throws -> Void = { _ in },
        whenReady: (_ pid: Int32) throws -> Void = { _ in }
    ) throws -> LaunchedProcess {
        let consoleFd = try consoleSocket.map { try Terminal.connect(socketPath: $0) } ?? -1
        defer { if consoleFd >= 0 { close(consoleFd) } }
        let (parentSock, childSock) = try SyncSocket.pair()
        var childSockOpen = true // closed right after the clone; an fd number must never be closed twice
        defer { if childSockOpen { childSock.close() } }
        var parentSockOpen = true
        defer { if parentSockOpen { parentSock.close() } }

        try enterBeforeClone()
        let ownOutput = (log: Log.fd, explain: Explain.fd)
        flushStdio()
        let flags = cloneFlags
        let cloneStart = monotonicNanos()
        // What the clone runs, in either kind of clone: it drops skiff's end of the pair first.
        let runChild: () -> Never = {
            parentSock.close()
            child(childSock, consoleFd)
        }
        var pid: pid_t = -1
        var sharedClone = false
        if sharesMemory {
            // Read by the child once skiff has sent "go" (never cleared: the child holds it).
            Launcher.sharedChild = runChild
            // On failure (not built for this machine, no CLONE_INTO_CGROUP...): the plain clone.
            pid = sk_clone3_shared(flags, cgroupFd, childSock.fd, { _ in Launcher.sharedChild!() }, nil)
            sharedClone = pid > 0
        }
        if pid < 0 {
            pid = try sys(cloneLabel(flags)) { Cgroup.clone3(flags, cgroupFd: cgroupFd, path: cgroupPath) }
            if pid == 0 { runChild() }
        }
        childSock.close()
        childSockOpen = false
        explainClone(pid, flags: flags, shared: sharedClone, millis: Double(monotonicNanos() - cloneStart) / 1e6)

        var master: Int32?
        do {
            try afterClone(pid)
            var go: SyncMessage?
            if case .initProcess = kind { go = .go(hostPid: pid) }
            try parentSock.receiveUntilReady(first: go, eof: childDied) { message, fd in
                try handle(message, fd: fd, pid: pid, master: &master)
            }
            try whenReady(pid)
            if let pidFile { try writeFileAtomic(absolutePath(pidFile, relativeTo: currentDirectory()), "\(pid)") }
            if case .initProcess = kind, !foreground { try parentSock.finish(.created) }
        } catch {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if let master { close(master) }
            throw error
        }
        parentSockOpen = false
        return LaunchedProcess(pid: pid, sync: parentSock, master: master, ownOutput: ownOutput)
    }

    /// The namespaces that apply to children only (pid, time) are skiff's to enter, now.
    private func enterBeforeClone() throws {
        switch kind {
        case .initProcess(let plan, let offsets):
            for (type, path) in plan.joined where type == .pid || type == .time {
                try Namespaces.join(type, path: path)
            }
            if plan.isNew(.time) { try Namespaces.enterNewTimeNamespace(offsets) }
        case .exec(_, let namespaces):
            for ns in namespaces where ns.type == .pid || ns.type == .time { try Namespaces.join(ns) }
        }
    }

    var cloneFlags: UInt64 {
        if case .initProcess(let plan, _) = kind { return plan.cloneFlags }
        return 0
    }

    private func cloneLabel(_ flags: UInt64) -> String {
        if case .initProcess = kind { return "clone3(\(NamespacePlan.describe(flags)))" }
        return "clone3"
    }

    private func explainClone(_ pid: Int32, flags: UInt64, shared: Bool, millis: Double) {
        switch kind {
        case .initProcess:
            let took = Explain.formatMillis(millis)
            let vm = shared ? "CLONE_VM|" : ""
            Explain.note("new process", "clone3(\(vm)\(NamespacePlan.describe(flags))) = \(pid) (\(took) ms)")
        case .exec(_, let namespaces):
            Explain.note(
                "new process", "clone3() = \(pid), joining \(namespaces.map(\.type.procName).joined(separator: ","))")
        }
    }

    /// One of the child's messages before "ready" (Sync.swift: receiveUntilReady); returns
    /// the answer.
    func handle(_ message: SyncMessage, fd: Int32?, pid: Int32, master: inout Int32?) throws -> SyncMessage {
        switch (message, kind) {
        case (.pty, _):
            master = fd
            return .ptyDone
        case (.seccompListener, _): // SCMP_ACT_NOTIFY: pass the listener to the agent
            return try SeccompNotify.forwardListener(
                fd, seccomp: spec.linux?.seccomp, pid: pid, state: agentState(pid))
        case (.hooks, .initProcess):
            // prestart hooks see "created", as the runtime spec asks; createRuntime "creating".
            let hooks = spec.hooks
            try Hooks.run(
                hooks?.prestart, kind: "prestart",
                state: Hooks.state(id, .created, pid: pid, bundle: bundle, spec: spec))
            try Hooks.run(
                hooks?.createRuntime, kind: "createRuntime",
                state: Hooks.state(id, .creating, pid: pid, bundle: bundle, spec: spec))
            return .hooksDone
        default:
            if let fd { close(fd) }
            throw SkiffError(
                "handshake: exec's process sent \"\(message.name)\", which only a container's init sends", code: EPROTO)
        }
    }

    /// The container's state as the seccomp agent receives it.
    func agentState(_ pid: Int32) -> State {
        switch kind {
        case .initProcess: return Hooks.state(id, .creating, pid: pid, bundle: bundle, spec: spec)
        case .exec(let initPid, _): return Hooks.state(id, .running, pid: initPid, bundle: bundle, spec: spec)
        }
    }

    /// The error when the child's end closed before "ready": it died.
    func childDied() -> SkiffError {
        switch kind {
        case .initProcess:
            return SkiffError(
                ContainerCgroup.setupDeathReason(path: cgroupPath) ?? "container init exited during setup")
        case .exec:
            return SkiffError("exec: process exited during setup")
        }
    }

    /// The child's body, for sk_clone3_shared's entry (a C function pointer cannot
    /// capture it).
    nonisolated(unsafe) static var sharedChild: (() -> Never)?
}

// MARK: - The child's side

/// What init (Init.swift) and exec's process (Exec.swift) each do between clone3 and
/// execve; `run` is the sequence they share.
protocol ChildSetup {
    /// What the child is doing, for the error report ("namespaces", "rootfs", ...).
    var step: String { get }
    /// The handshake socket while it is open (init closes it once create is done).
    var openSync: SyncSocket? { get }
    /// init.error (-1: none): where a failure goes once the socket is closed (Sync.swift).
    var reportFd: Int32 { get }
    /// What skiff answers "ready" with (init: "created" or "start"); nil: no answer, the
    /// child execs at once (exec).
    var readyAnswer: SyncMessage? { get }
    /// Everything up to `ProcessSetup.prepare`: returns what to exec.
    mutating func setUp() throws -> PreparedProcess
    /// After "ready": wait for the go-ahead if there is one, then execve.
    mutating func execute(_ prepared: PreparedProcess) throws -> Never
}

extension ChildSetup {
    /// The child's whole life: set up, "ready", execute. A failure at any step is reported
    /// (over the socket, else to init.error and the log) and the child exits 1.
    mutating func run() -> Never {
        do {
            let prepared = try setUp()
            guard let sync = openSync else { throw SkiffError("handshake: the socket closed before \"ready\"") }
            if let answer = readyAnswer { try sync.ask(.ready, expect: answer) } else { try sync.send(.ready) }
            try execute(prepared)
        } catch {
            ChildExit.fail(error, step: step, sync: openSync, report: reportFd)
        }
    }
}
