// The last steps before the user's program runs, shared by the container's init and by
// `exec`: working directory, environment, rlimits, user and groups, file descriptors,
// signals, and execve itself.
import CShim
import Glibc
import SkiffSpec

enum ProcessSetup {
    /// The common tail of init and exec, in the kernel's order: working directory,
    /// program lookup, rlimits, no_new_privs, user, umask, descriptors. Returns what to
    /// execve: (path, argv, envp).
    static func prepare(_ process: Process, preserveFds: Int) throws -> (String, [String], [String]) {
        try changeDirectory(process.cwd)
        let env = environment(process)
        let args = process.args ?? []
        let path = try findExecutable(args[0], env: env)
        try setRlimits(process.rlimits ?? [])
        if process.noNewPrivileges == true {
            try Explain.step("no new privileges", "prctl(PR_SET_NO_NEW_PRIVS, 1)") {
                try sys("prctl(PR_SET_NO_NEW_PRIVS)") { sk_set_no_new_privs() }
            }
        }
        try setUser(process.user)
        umask(mode_t(process.user.umask ?? 0o022))
        try markExtraFdsCloseOnExec(preserve: preserveFds)
        return (path, args, env)
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
            throw SkiffError("exec \"\(name)\": \(access(name, F_OK) == 0 ? "permission denied or not a regular file" : "no such file or directory")")
        }
        let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? defaultPath
        for dir in path.split(separator: ":") {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if runnable(candidate) { return candidate }
        }
        throw SkiffError("exec \"\(name)\": executable file not found in $PATH")
    }

    static func changeDirectory(_ cwd: String) throws {
        try sys("process.cwd \(cwd)") { chdir(cwd) }
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
                let why = e == EPERM && UInt64(l.hard) > UInt64(current.rlim_max)
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
    /// it prints one line and exits 127, as a shell would.
    static func exec(_ path: String, args: [String], env: [String]) -> Never {
        Explain.note("start program", "execve(\"\(path)\", \(args))")
        sk_reset_signal_handlers()
        sk_sigmask_all(1)
        flushStdio()
        let cArgs = args.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        execve(path, cArgs, cEnv)
        let msg = "skiff: exec \(path): \(errnoText())\n"
        try? writeAll(2, Array(msg.utf8))
        _exit(127)
    }
}
