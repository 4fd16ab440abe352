// Detached quick-run containers (`run -d --rootfs`, and `start` of a stopped one): a
// small monitor process stays behind as the parent of the container's init, because
// there is no daemon to do what Docker's containerd-shim does:
//
//   skiff run -d ──fork──▶ monitor (setsid, own session: the shell's Ctrl-C and hang-up
//        │                   │      do not reach it)
//        │                   ├─ launch: clone3 init, handshake, "start" (as `run` does)
//        │◀──── "ok" ────────┤  or "error <one line>", over a pipe
//   prints the id, exits     ├─ stdio → /dev/null: `ID=$(skiff run -d …)` returns at once
//                            ├─ relays init's stdout/stderr pipes (or its pty) into the log
//                            ├─ waitpid(init) → ROOT/ID/exit (the exit code `list` shows)
//                            └─ --rm: delete; --restart: launch again; else exit
//
// The log is DATA/containers/[TAG-]ID/container.log in the CRI logging format that containerd
// and CRI-O write for Kubernetes, one record per line:
//   2026-11-29T12:00:00.123456789Z stdout F hello
// (F: a full line; P: a partial one, continued by the next record of that stream).
// It lives next to the container's writable layer, in its data directory, which keeps
// what must outlive a run (stop/start, a reboot) until `delete`.
import CShim
import Glibc
import SkiffSpec

extension Runtime {
    /// In the container's data directory (StateStore.dataDirectory), next to its layers.
    public func logPath(_ id: String) -> String { store.dataDirectory(id) + "/container.log" }
    func exitPath(_ id: String) -> String { store.directory(id) + "/exit" }
    func monitorPath(_ id: String) -> String { store.directory(id) + "/monitor" }
    /// Present while `stop` or `delete` ends the container: the monitor must not restart it.
    func stopRequestPath(_ id: String) -> String { store.directory(id) + "/stop-requested" }

    /// A container made by `run --rootfs` (its spec came from flags; the state directory
    /// is its bundle): it can be started again.
    public func isQuickRun(_ record: ContainerRecord) -> Bool {
        record.bundle == store.directory(record.id) && record.annotations?[OverlayLayers.annotation] == "true"
    }

    /// The exit code of a stopped detached container, when its monitor saw it.
    public func exitCode(_ id: String) -> Int32? {
        readText(exitPath(id)).flatMap { Int32($0.split(separator: "\n").first ?? "") }
    }

    /// `run -d --rootfs`: launch under a monitor and return once the program runs.
    public func runDetached(id: String, options: CreateOptions, remove: Bool) throws {
        let report = try cloexecPipe()
        flushStdio()
        let monitor = try sys("fork monitor") { sk_clone3(0, -1) }
        if monitor == 0 {
            close(report[0])
            Monitor(runtime: self, id: id, options: options, remove: remove).run(report: report[1])
        }
        close(report[1])
        let answer = String(decoding: readAll(report[0]), as: UTF8.self)
        close(report[0])
        if answer == "ok" { return }
        var status: Int32 = 0
        waitpid(monitor, &status, 0)
        throw SkiffError(
            answer.hasPrefix("error ") ? String(answer.dropFirst(6)) : "the container monitor exited during setup")
    }

    /// `start` of a stopped quick-run container: the same config, the same writable layer
    /// and log, a new init (Docker does the same: an OCI runtime cannot restart a process).
    func startAgain(_ record: ContainerRecord) throws {
        waitForMonitor(record.id)
        try ContainerCgroup.remove(record) // the old, empty one; launch makes it again
        var options = CreateOptions()
        options.spec = record.config
        options.stdinNull = true
        options.reuseStateDir = true
        unlink(stopRequestPath(record.id))
        try runDetached(id: record.id, options: options, remove: false)
    }

    /// Wait (up to 10 s) until the container's monitor has written the exit code and gone.
    func waitForMonitor(_ id: String) {
        guard let text = readText(monitorPath(id)) else { return }
        let f = text.split(separator: " ")
        guard f.count == 2, let pid = Int32(f[0]), let start = UInt64(String(f[1]).trimmingWhitespace()),
            pid != getpid()
        else { return }
        for _ in 0..<1000 {
            if ProcessInfo.startTime(of: pid) != start || ProcessInfo.isZombie(pid) { return }
            sleepMillis(10)
        }
    }
}

/// A pipe whose ends close on exec (pipe2 is not visible from Swift's Glibc).
func cloexecPipe() throws -> [Int32] {
    var fds: [Int32] = [-1, -1]
    try sys("pipe") { pipe(&fds) }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fds
}

/// The process that stays behind for a detached container (see the top of this file).
struct Monitor {
    let runtime: Runtime
    let id: String
    var options: CreateOptions
    let remove: Bool

    func run(report: Int32) -> Never {
        var report = report
        var options = self.options
        setsid()
        ProcessSetup.closeInheritedFds(preserve: options.preserveFds, keep: [report, Log.fd])
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        dup2(null, 0)
        _ = sk_set_name("skiff-monitor")
        // As for foreground `run`: every signal blocked before the clone, taken from a signalfd.
        sk_sigmask_all(0)
        _ = sk_set_child_subreaper(1)
        let policy = RestartPolicy(options.spec?.annotations?[RestartPolicy.annotation])
        var restarts = 0
        while true {
            let started: Started
            do {
                started = try start(&options)
            } catch {
                let message = (error as? SkiffError)?.message ?? "\(error)"
                if report >= 0 { try? writeAll(report, Array(("error " + message).utf8)) }
                _exit(1)
            }
            if report >= 0 {
                try? writeAll(report, Array("ok".utf8))
                close(report)
                report = -1
                // From now on nothing of the caller's is held: its $(…) or pipe ends.
                flushStdio()
                dup2(null, 1)
                dup2(null, 2)
            }
            let code = relay(started)
            try? writeFileAtomic(runtime.exitPath(id), "\(code)\n\(rfc3339Now())\n")
            if remove {
                try? runtime.delete(id: id, force: true)
                _exit(0)
            }
            guard policy.restarts(after: code, count: restarts), !fileExists(runtime.stopRequestPath(id)) else {
                _exit(0)
            }
            // Docker's back-off: 100 ms, doubling, at most 10 s between attempts.
            restarts += 1
            let delay = min(100 << min(restarts - 1, 7), 10_000)
            for _ in 0..<(delay / 50) where !fileExists(runtime.stopRequestPath(id)) { sleepMillis(50) }
            if fileExists(runtime.stopRequestPath(id)) || !fileExists(runtime.store.directory(id)) { _exit(0) }
            try? ContainerCgroup.remove(started.record)
            options.reuseStateDir = true
        }
    }

    struct Started {
        let record: ContainerRecord
        /// What to copy into the log: (fd, stream name).
        let streams: [(Int32, String)]
        let log: Int32
        let tty: Bool
    }

    /// Launch and start the container with its output going to new pipes (or its pty).
    private func start(_ options: inout CreateOptions) throws -> Started {
        var ok = false
        let tty = options.spec?.process?.terminal == true
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        if !tty {
            out = try cloexecPipe()
            err = try cloexecPipe()
        }
        defer { if !ok { for fd in out + err where fd >= 0 { close(fd) } } }
        options.stdoutFd = out[1]
        options.stderrFd = err[1]
        let launched = try runtime.launch(id: id, options: options, foreground: true)
        defer { launched.sync.close() }
        // Only init holds the write ends now: EOF comes when the container's last process is gone.
        if !tty {
            close(out[1])
            close(err[1])
            out[1] = -1
            err[1] = -1
        }
        do {
            try launched.process.startAndAwaitExec()
        } catch {
            if let master = launched.master { close(master) }
            if options.reuseStateDir {
                Glibc.kill(launched.record.pid, SIGKILL)
                var st: Int32 = 0
                waitpid(launched.record.pid, &st, 0)
            } else {
                try? runtime.delete(id: id, force: true)
            }
            throw error
        }
        // The data directory exists now (launch made the overlay layers there); a fresh
        // container's log starts empty, a started-again one's goes on.
        let log: Int32
        do {
            try mkdirAll(runtime.store.dataDirectory(id), mode: 0o700)
            log = try sys("open \(runtime.logPath(id))") {
                open(runtime.logPath(id), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            }
        } catch {
            if let master = launched.master { close(master) }
            Glibc.kill(launched.record.pid, SIGKILL)
            var st: Int32 = 0
            waitpid(launched.record.pid, &st, 0)
            if !options.reuseStateDir { try? runtime.delete(id: id, force: true) }
            throw error
        }
        unlink(runtime.exitPath(id)) // running again: the last exit code no longer applies
        try? writeFileAtomic(
            runtime.monitorPath(id), "\(getpid()) \(ProcessInfo.startTime(of: getpid()) ?? 0)\n", mode: 0o600)
        Hooks.runLogged(
            launched.record.config.hooks?.poststart, kind: "poststart",
            state: Hooks.state(
                id, .running, pid: launched.record.pid, bundle: launched.record.bundle, spec: launched.record.config))
        ok = true
        if let master = launched.master {
            _ = sk_set_winsize(master, 24, 80) // nobody's terminal to copy a size from
            return Started(record: launched.record, streams: [(master, "stdout")], log: log, tty: true)
        }
        return Started(
            record: launched.record, streams: [(out[0], "stdout"), (err[0], "stderr")], log: log, tty: false)
    }

    /// Copy the container's output into the log until init has exited and the output
    /// has ended (or 2 s after, should something outside the container still hold it).
    /// Signals sent to the monitor go to init. Returns init's exit code (128+N: signal N).
    private func relay(_ s: Started) -> Int32 {
        let sigfd = sk_signalfd_all()
        defer { close(sigfd) }
        var open = s.streams
        var code: Int32?
        var deadline: UInt64 = 0
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds =
                [pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)]
                + open.map { pollfd(fd: $0.0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), code == nil ? -1 : 100) < 0 && errno != EINTR { break }
            for p in fds where p.revents != 0 {
                if p.fd == sigfd {
                    var sender: Int32 = 0
                    let sig = sk_signalfd_read(sigfd, &sender)
                    if sig == SIGCHLD {
                        code = reap(s.record.pid) ?? code
                    } else if sig > 0 {
                        Glibc.kill(s.record.pid, sig)
                    }
                    continue
                }
                let n = read(p.fd, &buf, buf.count)
                if n > 0, let stream = open.first(where: { $0.0 == p.fd })?.1 {
                    writeRecords(buf[0..<n], stream: stream, to: s.log, tty: s.tty)
                } else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    close(p.fd) // EOF, or EIO: a pty whose last peer is closed
                    open.removeAll { $0.0 == p.fd }
                }
            }
            if code != nil {
                if deadline == 0 { deadline = monotonicNanos() + 2_000_000_000 }
                if open.isEmpty || monotonicNanos() > deadline { break }
            }
        }
        for (fd, _) in open { close(fd) }
        close(s.log)
        return code ?? 1
    }

    private func reap(_ pid: Int32) -> Int32? {
        var result: Int32?
        var status: Int32 = 0
        while true {
            let r = waitpid(-1, &status, WNOHANG)
            if r <= 0 { break }
            if r == pid { result = sk_wifsignaled(status) != 0 ? 128 + sk_wtermsig(status) : sk_wexitstatus(status) }
        }
        return result
    }

    /// One CRI record per line of `chunk`; a trailing piece without a newline is a
    /// partial (P) record, written at once so `logs -f` shows a prompt as it appears.
    private func writeRecords(_ chunk: ArraySlice<UInt8>, stream: String, to log: Int32, tty: Bool) {
        var out: [UInt8] = []
        let prefix = Array((LogFile.timestamp() + " " + stream + " ").utf8)
        var line = chunk.startIndex
        for i in chunk.indices where chunk[i] == UInt8(ascii: "\n") {
            var end = i
            if tty && end > line && chunk[end - 1] == UInt8(ascii: "\r") { end -= 1 } // a pty writes \r\n
            out += prefix + Array("F ".utf8) + chunk[line..<end] + [UInt8(ascii: "\n")]
            line = i + 1
        }
        if line < chunk.endIndex { out += prefix + Array("P ".utf8) + chunk[line...] + [UInt8(ascii: "\n")] }
        try? writeAll(log, out)
    }
}

/// `--restart no|always|on-failure[:N]`, kept as an annotation of the container's spec.
public struct RestartPolicy: Equatable {
    public static let annotation = "run.skiff.restart"
    public enum Mode: String {
        case no, always
        case onFailure = "on-failure"
    }
    public var mode: Mode = .no
    /// on-failure's maximum number of restarts (nil: no maximum).
    public var maximum: Int?

    public var text: String { mode == .onFailure && maximum != nil ? "on-failure:\(maximum!)" : mode.rawValue }

    init(_ text: String?) { self = (try? RestartPolicy(parsing: text ?? "no")) ?? RestartPolicy() }
    init() {}

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let mode = Mode(rawValue: parts.first ?? "") else {
            throw SkiffError("--restart \(text): expected no, always or on-failure[:N]")
        }
        self.mode = mode
        if parts.count == 2 {
            guard mode == .onFailure, let n = Int(parts[1]), n >= 0 else {
                throw SkiffError("--restart \(text): only on-failure takes a count (on-failure:N, N >= 0)")
            }
            maximum = n
        }
    }

    func restarts(after code: Int32, count: Int) -> Bool {
        switch mode {
        case .no: return false
        case .always: return true
        case .onFailure: return code != 0 && count < (maximum ?? Int.max)
        }
    }
}
