// `--init`: a small init of Skiff's own as the container's pid 1 (Docker bind-mounts tini
// as /sbin/docker-init for the same job). It does two things a program does not expect to
// do when it finds itself pid 1 of a pid namespace:
//   * forward signals: the kernel delivers a signal from outside the namespace to its
//     pid 1 only if pid 1 handles it, so `sleep` as pid 1 ignores `skiff stop`'s SIGTERM.
//     This init handles every signal and hands it on to the program (not pid 1 itself);
//   * reap zombies: orphans in the namespace become pid 1's children; it waits for them.
// It exits with the program's exit code (128+N if a signal N ended it).
//
// The choice: the init process that skiff cloned already runs Skiff's code inside the
// container. With --init it forks right before execve: the child execs the program, the
// parent stays as pid 1 in a short loop. Nothing is copied into the image and nothing
// needs to run there (a bind-mounted init binary would have to be static, since a glibc
// Swift binary cannot run on Alpine's musl), and pid 1 ends up with exactly the program's
// restrictions: the same user, capabilities, no_new_privs and seccomp filter were applied
// before the fork. It stays non-dumpable (execve, which would reset that, never comes),
// so no process of the container can ptrace it or open its /proc/1/mem or /proc/1/exe.
import CShim
import Glibc

enum InitReaper {
    /// The spec annotation that asks for it (`run --rootfs --init` sets it).
    static let annotation = "run.skiff.init"

    /// Fork; returns in the child (which goes on to execve). The parent becomes the init
    /// loop and never returns. `keep` are fds only the program must hold until execve
    /// (exec.fifo: `start` waits for its last writer to close).
    static func forkProgram(args: [String], keep: Set<Int32>) {
        sk_sigmask_all(0) // no signal may slip between the fork and the loop
        let child = fork()
        if child == 0 {
            sk_sigmask_all(1)
            return
        }
        if child < 0 {
            try? writeAll(2, Array("skiff: --init: fork: \(errnoText())\n".utf8))
            _exit(127)
        }
        for fd in keep { close(fd) }
        setProcessTitle(["skiff-init", "--"] + args)
        let sigfd = sk_signalfd_all()
        while true {
            var sender: Int32 = 0
            let sig = sk_signalfd_read(sigfd, &sender)
            if sig == SIGCHLD {
                var status: Int32 = 0
                while true {
                    let pid = waitpid(-1, &status, WNOHANG)
                    if pid <= 0 { break }
                    if pid == child {
                        _exit(sk_wifsignaled(status) != 0 ? 128 + sk_wtermsig(status) : sk_wexitstatus(status))
                    }
                }
            } else if sig > 0 {
                Glibc.kill(child, sig)
            }
        }
    }

    /// What `ps` shows for pid 1 inside the container: overwrite skiff's command line in
    /// place (it names host paths), as setproctitle does.
    static func setProcessTitle(_ words: [String]) {
        let argc = Int(CommandLine.argc)
        guard argc > 0, let first = CommandLine.unsafeArgv[0], let last = CommandLine.unsafeArgv[argc - 1] else {
            return
        }
        let size = (last + strlen(last) + 1) - first
        guard size > 1 else { return }
        let title = Array(words.joined(separator: "\0").utf8.prefix(size - 1))
        memset(first, 0, size)
        for (i, b) in title.enumerated() { first[i] = CChar(bitPattern: b) }
        _ = sk_set_name("skiff-init")
    }
}
