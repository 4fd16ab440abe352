// Running a helper program to completion (hooks, tar): fork, execve, feed stdin, wait,
// and kill it at its timeout. Its stdout and stderr are skiff's stderr.
import CShim
import Glibc

enum Subprocess {
    /// `stdinFd` >= 0: the program reads that fd (a file) instead of `text`.
    static func run(_ path: String, args: [String], env: [String], stdin text: String = "", stdinFd: Int32 = -1,
                    timeout: Int? = nil) throws {
        var pipeFds: [Int32] = [0, 0]
        try sys("pipe") { pipe(&pipeFds) }
        for fd in pipeFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        flushStdio()
        let pid = sk_clone3(0, -1)
        if pid < 0 { close(pipeFds[0]); close(pipeFds[1]); throw SkiffError("fork: \(errnoText())") }
        if pid == 0 {
            dup2(stdinFd >= 0 ? stdinFd : pipeFds[0], 0)
            dup2(2, 1) // stdout too goes to stderr: skiff's own stdout carries command output
            sk_reset_signal_handlers()
            sk_sigmask_all(1)
            let cArgs = args.map { strdup($0) } + [nil]
            let cEnv = env.map { strdup($0) } + [nil]
            execve(path, cArgs, cEnv)
            let msg = "exec \(path): \(errnoText())\n"
            _ = write(2, msg, msg.utf8.count)
            _exit(127)
        }
        close(pipeFds[0])
        // The program may not read its stdin: never die of SIGPIPE over it. While SIGPIPE is
        // blocked (foreground `run` blocks every signal for its signalfd), an ignored one is
        // not dropped but stays pending, and would kill skiff once unblocked: take it here.
        let old = signal(SIGPIPE, SIG_IGN)
        try? writeAll(pipeFds[1], Array(text.utf8))
        var pending = sigset_t()
        if sigpending(&pending) == 0, sigismember(&pending, SIGPIPE) == 1 {
            var pipeOnly = sigset_t()
            sigemptyset(&pipeOnly)
            sigaddset(&pipeOnly, SIGPIPE)
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeOnly, nil, &now)
        }
        signal(SIGPIPE, old)
        close(pipeFds[1])

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
