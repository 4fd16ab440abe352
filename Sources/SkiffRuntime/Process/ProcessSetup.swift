// The last steps before the user's program runs, shared by the container's init and by
// `exec`: working directory, environment, rlimits, capabilities, user and groups,
// no_new_privs, personality, file descriptors, the seccomp filter, and execve itself.
import CShim
import Glibc
import SkiffSpec

/// What `prepare` leaves for `exec`: the program, and the steps that must come last.
struct PreparedProcess {
    let path: String
    let args: [String]
    let env: [String]
    let preserveFds: Int
    let capabilities: CapabilityPlan
    /// The filter still to load right before execve (nil: none, or already loaded).
    let filter: SeccompProgram?
}

enum ProcessSetup {
    /// The common tail of init and exec, in runc's order (finalizeNamespace): working
    /// directory, program lookup, rlimits, bounding set, user (keeping capabilities
    /// across the uid change), the other capability sets, no_new_privs, umask,
    /// descriptors, personality. The seccomp filter, compiled by skiff before the clone
    /// (`seccomp`, from SeccompProgram.prepare), is loaded by `exec`, last, unless it
    /// notifies: then it is loaded here and its listener handed to skiff over `sync`
    /// (SeccompNotify.swift).
    static func prepare(
        _ process: Process, preserveFds: Int, linux: Linux?, seccomp: SeccompProgram?, sync: SyncSocket
    ) throws -> PreparedProcess {
        var capabilities = try CapabilityPlan(process.capabilities)
        // A profile without its program would run the container unfiltered: never.
        if (linux?.seccomp == nil) != (seccomp == nil) {
            throw SkiffError("linux.seccomp: the filter was not compiled before the process was started")
        }
        let filter = seccomp
        let sysAdmin = 21 // CAP_SYS_ADMIN
        if filter != nil && process.noNewPrivileges != true && !capabilities.effective.contains(sysAdmin) {
            // Without no_new_privs only CAP_SYS_ADMIN may load a filter: keep it until then.
            capabilities.extra = [sysAdmin]
        }
        try setOOMScoreAdj(process.oomScoreAdj)
        // Not dumpable since before any namespace join: init and exec both see to it first
        // thing (CVE-2016-9962), so nothing is left to do here.
        try changeDirectory(process.cwd)
        let env = environment(process)
        let args = process.args ?? []
        let path = try findExecutable(args[0], env: env)
        try setRlimits(process.rlimits ?? [])
        try capabilities.applyBounding()
        try capabilities.keepingCapabilities { try setUser(process.user) }
        try capabilities.apply()
        if process.noNewPrivileges == true {
            try Explain.step("no new privileges", "prctl(PR_SET_NO_NEW_PRIVS, 1)") {
                try sys("prctl(PR_SET_NO_NEW_PRIVS)") { sk_set_no_new_privs() }
            }
        }
        umask(mode_t(process.user.umask ?? 0o022))
        try markExtraFdsCloseOnExec(preserve: preserveFds)
        if let personality = linux?.personality { try setPersonality(personality) }
        if let filter, filter.usesNotify {
            filter.explain()
            capabilities.explainDrop()
            let listener = try filter.load()
            try SeccompNotify.handOver(listener, over: sync)
            try capabilities.dropExtra()
            capabilities.extra = []
            return PreparedProcess(
                path: path, args: args, env: env, preserveFds: preserveFds, capabilities: capabilities, filter: nil)
        }
        return PreparedProcess(
            path: path, args: args, env: env, preserveFds: preserveFds, capabilities: capabilities, filter: filter)
    }

    /// PR_SET_DUMPABLE 0, before the child joins any namespace of the container: until
    /// execve (which resets it) no process of the container may ptrace this one or open
    /// its /proc/PID/{exe,fd,root,mem}; it still holds host fds and runs skiff's code.
    /// Only CAP_SYS_PTRACE overrides this (CVE-2016-9962).
    static func becomeNonDumpable() throws {
        try Explain.step("not dumpable", "prctl(PR_SET_DUMPABLE, 0)") {
            try sys("prctl(PR_SET_DUMPABLE, 0)") { sk_set_dumpable(0) }
        }
    }

    /// setsid(): a new session with no controlling terminal, first thing in init and in
    /// every exec'd process. Only a process group leader cannot do it (EPERM): a clone
    /// never is one.
    static func newSession() throws {
        try Explain.step("new session", "setsid()") {
            try sys("setsid") { setsid() }
        }
    }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// process.env, plus HOME (from the container's /etc/passwd) and PATH when missing.
    static func environment(_ process: Process) -> [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.append("PATH=" + defaultPath) }
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + (homeDirectory(uid: process.user.uid) ?? "/"))
        }
        return env
    }

    /// The home directory of `uid` in the current root's /etc/passwd.
    static func homeDirectory(uid: UInt32) -> String? {
        guard let passwd = readText("/etc/passwd") else { return nil }
        for line in passwd.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count >= 6, UInt32(f[2]) == uid { return String(f[5]) }
        }
        return nil
    }

    /// Resolve args[0] the way execvp would, with the container's PATH, so that a
    /// missing program is reported at create time instead of failing silently later.
    static func findExecutable(_ name: String, env: [String]) throws -> String {
        func runnable(_ path: String) -> Bool {
            var st = stat()
            return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
        }
        if name.contains("/") {
            if runnable(name) { return name }
            let why = access(name, F_OK) == 0 ? "permission denied or not a regular file" : "no such file or directory"
            throw SkiffError("exec \"\(name)\": \(why)")
        }
        let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? defaultPath
        for dir in path.split(separator: ":") {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if runnable(candidate) { return candidate }
        }
        throw SkiffError("exec \"\(name)\": executable file not found in $PATH")
    }

    /// chdir to process.cwd, inside the container's root. A cwd like /proc/self/fd/N
    /// names whatever fd N is in this process: skiff's own fds (the state directory,
    /// the log) would put the program's working directory on the host, from where
    /// "../../.." walks the host's tree (CVE-2024-21626). The kernel shows such a
    /// directory to getcwd as "(unreachable)", which glibc turns into ENOENT: that is
    /// the check (runc's too), done before anything else runs in that directory.
    static func changeDirectory(_ cwd: String) throws {
        try sys("process.cwd \(cwd)") { chdir(cwd) }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        if getcwd(&buf, buf.count) == nil || buf[0] != CChar(UInt8(ascii: "/")) {
            throw SkiffError(
                "process.cwd \(cwd): lies outside the container's root filesystem; refusing it "
                    + "(CVE-2024-21626)")
        }
    }

    /// process.oomScoreAdj, written to /proc/self/oom_score_adj (which must be procfs).
    /// Init writes it first thing, through the host's /proc; `prepare` then finds it
    /// already set. Lowering it below 0 needs CAP_SYS_RESOURCE.
    static func setOOMScoreAdj(_ value: Int?) throws {
        guard let value else { return }
        let field = "process.oomScoreAdj \(value)"
        if let current = readText("/proc/self/oom_score_adj"), Int(current.trimmingWhitespace()) == value { return }
        let fd = try sys(
            "\(field): open "
                + "/proc/self/oom_score_adj"
        ) { open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        try requireFilesystem(fd, FSMagic.proc, "\(field): /proc/self/oom_score_adj")
        try Explain.step("OOM score", "write /proc/self/oom_score_adj = \(value)") {
            let bytes = Array(String(value).utf8)
            if bytes.withUnsafeBytes({ write(fd, $0.baseAddress, bytes.count) }) < 0 {
                let e = errno
                let why =
                    (e == EACCES || e == EPERM) && value < 0
                    ? "lowering the OOM score needs "
                        + "CAP_SYS_RESOURCE" : errnoText(e)
                throw SkiffError("\(field): \(why)")
            }
        }
    }

    /// linux.personality: LINUX32 makes `uname -m` report a 32-bit machine.
    static func setPersonality(_ p: LinuxPersonality) throws {
        let persona: UInt = p.domain == .linux32 ? 0x0008 : 0x0000 // PER_LINUX32, PER_LINUX
        try Explain.step("personality", "personality(\(p.domain.rawValue))") {
            if sk_personality(persona) < 0 {
                throw SkiffError(
                    "linux.personality \(p.domain.rawValue): "
                        + "\(errnoText())")
            }
        }
    }

    /// process.rlimits, set while still privileged.
    static func setRlimits(_ limits: [POSIXRlimit]) throws {
        for l in limits {
            guard let resource = rlimitResource(l.type) else { continue }
            var value = rlimit(rlim_cur: rlim_t(l.soft), rlim_max: rlim_t(l.hard))
            let rc = Explain.step("resource limit", "setrlimit(\(l.type), \(l.soft), \(l.hard))") {
                setrlimit(__rlimit_resource_t(UInt32(resource)), &value)
            }
            if rc != 0 {
                let e = errno
                var current = rlimit()
                getrlimit(__rlimit_resource_t(UInt32(resource)), &current)
                let why =
                    e == EPERM && UInt64(l.hard) > UInt64(current.rlim_max)
                    ? "raising the hard limit above \(current.rlim_max) needs CAP_SYS_RESOURCE"
                    : errnoText(e)
                throw SkiffError("process.rlimits \(l.type) soft=\(l.soft) hard=\(l.hard): \(why)")
            }
        }
    }

    static func rlimitResource(_ name: String) -> Int32? {
        let table: [String: Int32] = [
            "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
            "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
            "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
            "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
        ]
        return table[name]
    }

    /// Supplementary groups, gid, then uid (the order matters: after setuid the
    /// process may no longer change its groups).
    static func setUser(_ user: User) throws {
        let groups = (user.additionalGids ?? []).map { gid_t($0) }
        try Explain.step("set user", "setgroups(\(groups)); setresgid(\(user.gid)); setresuid(\(user.uid))") {
            try sys("setgroups \(groups)") { sk_setgroups(groups.count, groups) }
            try sys("setgid \(user.gid)") { sk_setresgid(user.gid, user.gid, user.gid) }
            try sys("setuid \(user.uid)") { sk_setresuid(user.uid, user.uid, user.uid) }
        }
    }

    /// Close every inherited descriptor above stdio and the `preserve` fds after them,
    /// except `keep`. A process that may wait (init until `start`) must not hold its
    /// caller's pipes or sockets open that long, nor pass them to the container.
    static func closeInheritedFds(preserve: Int, keep: Set<Int32>) {
        let fds = listDirectory("/proc/self/fd").compactMap { Int32($0) }
        for fd in fds where fd >= 3 + Int32(preserve) && !keep.contains(fd) { close(fd) }
    }

    /// Everything above stdio and the `preserve` fds after them is closed on exec.
    static func markExtraFdsCloseOnExec(preserve: Int) throws {
        for fd in 3..<(3 + Int32(preserve)) {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
        }
        if sk_close_range_cloexec(UInt32(3 + preserve)) != 0 {
            // Kernels before 5.11: walk /proc/self/fd.
            for name in listDirectory("/proc/self/fd") {
                if let fd = Int32(name), fd >= 3 + Int32(preserve) { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            }
        }
    }

    /// Replace this process with the program. Only returns by not returning: on failure
    /// it prints one line and exits 127, as a shell would. The last steps happen here,
    /// as close to execve as possible:
    ///  * skiff's own fds are closed, not just marked close-on-exec: execve resolves its
    ///    path before it closes those, so a program named /proc/self/fd/N would run
    ///    whatever skiff had open (CVE-2024-21626). `keep` are fds the caller still
    ///    needs until execve (init's exec.fifo, whose closing tells `start` it is done);
    ///  * the seccomp filter is loaded, then the CAP_SYS_ADMIN kept for it is dropped.
    /// Nothing is printed after the filter is loaded except an exec failure, which also
    /// goes to `report` (init.error, for `start`) when there is one.
    /// With `asInit` (--init), a small init stays behind as the parent (InitReaper.swift).
    static func exec(_ p: PreparedProcess, keep: Set<Int32> = [], report: Int32 = -1, asInit: Bool = false) -> Never {
        p.filter?.explain()
        if p.filter != nil { p.capabilities.explainDrop() }
        // execve's three arguments: the program, its argv and its whole environment (process.env,
        // plus HOME and PATH when it had none), as the program will see them.
        Explain.note("start program", "execve(\"\(p.path)\", \(p.args), \(p.env))")
        sk_reset_signal_handlers()
        sk_sigmask_all(1)
        flushStdio()
        let cArgs = p.args.map { strdup($0) } + [nil]
        let cEnv = p.env.map { strdup($0) } + [nil]
        closeFds(from: Int32(3 + p.preserveFds), except: keep)
        do {
            if let filter = p.filter { _ = try filter.load() }
            try p.capabilities.dropExtra()
        } catch {
            try? writeAll(2, Array("skiff: \((error as? SkiffError)?.message ?? "\(error)")\n".utf8))
            if report >= 0 { try? writeAll(report, SyncMessage.error(ChildError(error, step: "exec")).encoded()) }
            _exit(127)
        }
        if asInit { InitReaper.forkProgram(args: p.args, keep: keep) }
        execve(p.path, cArgs, cEnv)
        let code = errno
        let msg = "skiff: exec \(p.path): \(errnoText(code))\n"
        try? writeAll(2, Array(msg.utf8))
        if report >= 0 {
            let e = ChildError(step: "exec", code: code, message: "exec \(p.path): \(errnoText(code))")
            try? writeAll(report, SyncMessage.error(e).encoded())
        }
        _exit(127)
    }

    /// Close every fd from `first` up, except `keep` (close_range between them).
    static func closeFds(from first: Int32, except keep: Set<Int32>) {
        var start = first
        for k in keep.filter({ $0 >= first }).sorted() {
            if k > start { _ = sk_close_range_between(UInt32(start), UInt32(k - 1)) }
            start = k + 1
        }
        _ = sk_close_range_between(UInt32(start), UInt32.max)
        if !keep.contains(Log.fd) { Log.fd = 2 } // the log file is closed now
    }
}
