// Running a helper program (hooks, tar, CNI plugins, ps): fork, execve, feed stdin or
// read its output, wait, and kill it at its timeout. Unless captured, its stdout and
// stderr are skiff's stderr. The one spawner of the runtime.
import CShim
import Glibc

enum Subprocess {
    /// fork + execve of a helper program, the one way skiff starts one (hooks, tar, CNI
    /// plugins, image tools): `stdin`, `stdout`, `stderr` become its fds 0-2 (stdout -1:
    /// skiff's stderr, since skiff's own stdout carries command output; stderr -1: skiff's).
    /// The child only wires fds, resets signals, runs `inChild` (async-signal-safe work
    /// only, e.g. dropping a capability) and execs. The strings are copied before the fork.
    static func spawn(_ path: String, args: [String], env: [String], stdin: Int32, stdout: Int32 = -1, stderr: Int32 = -1,
                      inChild: () -> Void = {}) throws -> pid_t {
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

    /// Run a program to its end and return what it wrote on stdout and stderr (one pipe,
    /// interleaved as a terminal would show them); its exit status is not checked (`ps`
    /// exits 1 when no process matched, and its header is still wanted).
    static func output(_ path: String, args: [String], env: [String]) throws -> String {
        var fds: [Int32] = [0, 0]
        try sys("pipe") { pipe(&fds) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if devnull >= 0 { close(devnull) } }
        let pid: pid_t
        do { pid = try spawn(path, args: args, env: env, stdin: devnull, stdout: fds[1], stderr: fds[1]) } catch {
            close(fds[0]); close(fds[1]); throw error
        }
        close(fds[1])
        defer { close(fds[0]) }
        let output = String(decoding: readAll(fds[0]), as: UTF8.self)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return output
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
    static func run(_ path: String, args: [String], env: [String], stdin text: String = "", stdinFd: Int32 = -1,
                    timeout: Int? = nil) throws {
        var pipeFds: [Int32] = [0, 0]
        try sys("pipe") { pipe(&pipeFds) }
        for fd in pipeFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do { pid = try spawn(path, args: args, env: env, stdin: stdinFd >= 0 ? stdinFd : pipeFds[0]) } catch {
            close(pipeFds[0]); close(pipeFds[1]); throw error
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
