// Running a helper program (hooks, tar, CNI plugins, ps): fork, execve, feed stdin,
// wait, and kill it at its timeout; `Captured.run` also collects its stdout and stderr.
// Otherwise its stdout and stderr are skiff's stderr. `spawn` is the one spawner of the
// runtime: every helper program starts there.
import CShim
import Glibc

enum Subprocess {
    /// fork + execve of a helper program, the one way skiff starts one (hooks, tar, CNI
    /// plugins, image tools): `stdin`, `stdout`, `stderr` become its fds 0-2 (stdout -1:
    /// skiff's stderr, since skiff's own stdout carries command output; stderr -1: skiff's).
    /// The child only wires fds, resets signals, runs `inChild` (async-signal-safe work
    /// only, e.g. dropping a capability) and execs. The strings are copied before the fork.
    static func spawn(
        _ path: String, args: [String], env: [String], stdin: Int32, stdout: Int32 = -1, stderr: Int32 = -1,
        inChild: () -> Void = {}
    ) throws -> pid_t {
        let cArgs = args.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        let failure = Array("exec \(path): ".utf8)
        flushStdio()
        let pid = sk_clone3(0, -1)
        if pid < 0 { throw SkiffError("fork: \(errnoText())") }
        if pid == 0 {
            dup2(stdin, 0)
            dup2(stdout >= 0 ? stdout : 2, 1)
            if stderr >= 0 { dup2(stderr, 2) }
            sk_reset_signal_handlers()
            sk_sigmask_all(1)
            inChild()
            execve(path, cArgs, cEnv)
            let why = String(cString: strerror(errno)) + "\n"
            _ = failure.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            _ = write(2, why, why.utf8.count)
            _exit(127)
        }
        return pid
    }

    /// Write `text` to the pipe a child reads, then close it. The program may not read its
    /// stdin: never die of SIGPIPE over it. While SIGPIPE is blocked (foreground `run`
    /// blocks every signal for its signalfd), an ignored one is not dropped but stays
    /// pending, and would kill skiff once unblocked: take it here.
    static func feed(_ fd: Int32, _ text: String) {
        let old = signal(SIGPIPE, SIG_IGN)
        try? writeAll(fd, Array(text.utf8))
        var pending = sigset_t()
        if sigpending(&pending) == 0, sigismember(&pending, SIGPIPE) == 1 {
            var pipeOnly = sigset_t()
            sigemptyset(&pipeOnly)
            sigaddset(&pipeOnly, SIGPIPE)
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeOnly, nil, &now)
        }
        signal(SIGPIPE, old)
        close(fd)
    }

    /// skiff's own environment, for a helper that should see it (ps: its locale, columns).
    static func currentEnvironment() -> [String] {
        var env: [String] = []
        var p = environ
        while let entry = p.pointee {
            env.append(String(cString: entry))
            p += 1
        }
        return env
    }

    /// `stdinFd` >= 0: the program reads that fd (a file) instead of `text`.
    static func run(
        _ path: String, args: [String], env: [String], stdin text: String = "", stdinFd: Int32 = -1,
        timeout: Int? = nil
    ) throws {
        var pipeFds: [Int32] = [0, 0]
        try sys("pipe") { pipe(&pipeFds) }
        for fd in pipeFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do { pid = try spawn(path, args: args, env: env, stdin: stdinFd >= 0 ? stdinFd : pipeFds[0]) } catch {
            close(pipeFds[0])
            close(pipeFds[1])
            throw error
        }
        close(pipeFds[0])
        feed(pipeFds[1], text)

        let pidfd = sk_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        if let timeout, pidfd >= 0 {
            var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            var n: Int32
            repeat { n = poll(&p, 1, Int32(clamping: timeout * 1000)) } while n < 0 && errno == EINTR
            if n == 0 {
                kill(pid, SIGKILL)
                var st: Int32 = 0
                waitpid(pid, &st, 0)
                throw SkiffError("timed out after \(timeout)s and was killed")
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if sk_wifsignaled(status) != 0 { throw SkiffError("killed by signal \(sk_wtermsig(status))") }
        if sk_wexitstatus(status) != 0 { throw SkiffError("exit status \(sk_wexitstatus(status))") }
    }
}

/// Run a program to completion with stdin text, capturing stdout and stderr (the CNI
/// plugins, whose result is their stdout; iptables and ip for --explain's read-back; ps).
/// It starts the program with `Subprocess.spawn` like every helper; pipes are drained
/// with poll so a chatty program never blocks on a full pipe.
enum Captured {
    static func run(
        _ path: String, args: [String], env: [String], stdin text: String = "",
        timeout: Int = 30
    ) throws -> (Int32, [UInt8], [UInt8]) {
        var inFds: [Int32] = [0, 0]
        var outFds: [Int32] = [0, 0]
        var errFds: [Int32] = [0, 0]
        try sys("pipe") { pipe(&inFds) }
        try sys("pipe") { pipe(&outFds) }
        try sys("pipe") { pipe(&errFds) }
        for fd in inFds + outFds + errFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do {
            pid = try Subprocess.spawn(
                path, args: args, env: env, stdin: inFds[0], stdout: outFds[1], stderr: errFds[1])
        } catch {
            for fd in inFds + outFds + errFds { close(fd) }
            throw error
        }
        close(inFds[0])
        close(outFds[1])
        close(errFds[1])
        Subprocess.feed(inFds[1], text)
        var out: [UInt8] = []
        var err: [UInt8] = []
        var fds = [
            pollfd(fd: outFds[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: errFds[0], events: Int16(POLLIN), revents: 0),
        ]
        let deadline = monotonicNanos() + UInt64(timeout) * 1_000_000_000
        var buf = [UInt8](repeating: 0, count: 65536)
        var timedOut = false
        while fds.contains(where: { $0.fd >= 0 }) {
            if monotonicNanos() > deadline {
                timedOut = true
                break
            }
            let n = poll(&fds, 2, 200)
            if n < 0 && errno != EINTR { break }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let r = buf.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if r > 0 {
                    if i == 0 { out += buf[0..<r] } else { err += buf[0..<r] }
                } else if r == 0 || errno != EINTR {
                    close(fds[i].fd)
                    fds[i].fd = -1
                }
            }
        }
        for f in fds where f.fd >= 0 { close(f.fd) }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut { throw SkiffError("\(path): timed out after \(timeout)s and was killed") }
        if sk_wifsignaled(status) != 0 { return (128 + sk_wtermsig(status), out, err) }
        return (sk_wexitstatus(status), out, err)
    }
}
