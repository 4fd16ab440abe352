// OCI hooks: programs the spec asks to run at fixed moments of the lifecycle, each
// given the container's state JSON on stdin.
//
//   prestart, createRuntime   skiff, runtime namespaces, after the namespaces exist, before pivot_root
//   createContainer           the container's init, its namespaces, before pivot_root
//   startContainer            the container's init, after `start`, just before the program's execve
//   poststart                 skiff, after the program started (failures are only logged)
//   poststop                  skiff, after the container is deleted (failures are only logged)
import CShim
import Glibc
import SkiffSpec

enum Hooks {
    /// Run the hooks of one kind in order; the first failure throws, naming the hook.
    static func run(_ hooks: [Hook]?, kind: String, state: State) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let stdin = JSONCodec.encode(state)
        for (i, hook) in hooks.enumerated() {
            try Explain.step("hook \(kind)", "\(hook.path) \((hook.args ?? []).dropFirst().joined(separator: " "))") {
                do { try runOne(hook, stdin: stdin) } catch let e as SkiffError {
                    throw SkiffError("hooks.\(kind)[\(i)] \(hook.path): \(e.message)")
                }
            }
        }
    }

    /// poststart and poststop: a failure is logged, never fatal.
    static func runLogged(_ hooks: [Hook]?, kind: String, state: State) {
        do { try run(hooks, kind: kind, state: state) } catch { Log.warn("\(error)") }
    }

    /// fork + execve one hook, feed it the state, wait for it (killing it at its timeout).
    private static func runOne(_ hook: Hook, stdin text: String) throws {
        var pipeFds: [Int32] = [0, 0]
        try sys("pipe") { pipe(&pipeFds) }
        for fd in pipeFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        flushStdio()
        let pid = sk_clone3(0, -1)
        if pid < 0 { close(pipeFds[0]); close(pipeFds[1]); throw SkiffError("fork: \(errnoText())") }
        if pid == 0 {
            dup2(pipeFds[0], 0)
            let args = (hook.args?.isEmpty == false ? hook.args! : [hook.path])
            let env = hook.env ?? []
            sk_reset_signal_handlers()
            sk_sigmask_all(1)
            let cArgs = args.map { strdup($0) } + [nil]
            let cEnv = env.map { strdup($0) } + [nil]
            execve(hook.path, cArgs, cEnv)
            let msg = "exec \(hook.path): \(errnoText())\n"
            _ = write(2, msg, msg.utf8.count)
            _exit(127)
        }
        close(pipeFds[0])
        // The hook may not read its stdin: never die of SIGPIPE over it.
        let old = signal(SIGPIPE, SIG_IGN)
        try? writeAll(pipeFds[1], Array(text.utf8))
        signal(SIGPIPE, old)
        close(pipeFds[1])

        let pidfd = sk_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        if let timeout = hook.timeout, pidfd >= 0 {
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

    /// The state a hook reads, at a given moment of the lifecycle.
    static func state(_ id: String, _ status: ContainerState, pid: Int32?, bundle: String, spec: Spec) -> State {
        State(ociVersion: spec.ociVersion, id: id, status: status, pid: pid.map(Int.init), bundle: bundle,
              annotations: spec.annotations)
    }
}
