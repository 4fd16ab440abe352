// Waiting for a foreground container process (run, exec): forward every signal skiff
// receives, reap every child (skiff is a subreaper meanwhile), relay a pty if there is
// one, and turn the wait status into an exit code (128+N for death by signal N).
import CShim
import Glibc

struct Supervisor {
    let pid: Int32
    /// The pty master to relay to skiff's own stdin/stdout, if the process has a terminal.
    let master: Int32?
    /// Whether skiff's stdin is copied to the pty (docker's -i).
    var forwardStdin = true

    /// Before a foreground process is cloned: block every signal, so none is lost (`wait`
    /// reads them from a signalfd and forwards them), and become a subreaper.
    static func takeSignals() {
        sk_sigmask_all(0)
        _ = sk_set_child_subreaper(1)
    }

    /// After supervising: the signal mask as it was.
    static func releaseSignals() { sk_sigmask_all(1) }

    /// Signals must already be blocked (before the clone, so none is lost).
    func wait() -> Int32 {
        let sigfd = sk_signalfd_all()
        defer { close(sigfd) }
        var raw = RawTerminal()
        var stdinOpen = master != nil && forwardStdin
        var masterOpen = master != nil
        if let master {
            raw.enable()
            copyWindowSize(to: master)
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        }
        defer { raw.restore() }
        var code: Int32? = nil
        while code == nil {
            var fds = [pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)]
            if masterOpen, let master { fds.append(pollfd(fd: master, events: Int16(POLLIN), revents: 0)) }
            if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for p in fds where p.revents != 0 {
                if p.fd == sigfd {
                    var sender: Int32 = 0
                    let sig = sk_signalfd_read(sigfd, &sender)
                    if sig == SIGCHLD {
                        code = reap() ?? code
                    } else if sig == SIGWINCH, let master {
                        copyWindowSize(to: master)
                    } else if sig > 0 {
                        kill(pid, sig)
                    }
                } else if p.fd == 0 {
                    if copy(from: 0, to: master!) == .end { stdinOpen = false }
                } else {
                    if copy(from: master!, to: 1) == .end { masterOpen = false }
                }
            }
        }
        if masterOpen, let master { while copy(from: master, to: 1) == .data {} }
        return code ?? 1
    }

    /// Reap every exited child; the exit code if one of them was the process.
    private func reap() -> Int32? {
        var result: Int32?
        var status: Int32 = 0
        while true {
            let r = waitpid(-1, &status, WNOHANG)
            if r <= 0 { break }
            if r == pid {
                result = sk_wifsignaled(status) != 0 ? 128 + sk_wtermsig(status) : sk_wexitstatus(status)
                Explain.note("process exited", "status \(result!)")
            }
        }
        return result
    }

    private enum Copied { case data, again, end }

    /// Copy what is available. A pty master reads EIO once every peer is closed: an end.
    private func copy(from: Int32, to: Int32) -> Copied {
        var buf = [UInt8](repeating: 0, count: 16384)
        let n = read(from, &buf, buf.count)
        if n < 0 { return errno == EAGAIN || errno == EINTR ? .again : .end }
        if n == 0 { return .end }
        try? writeAll(to, Array(buf[0..<n]))
        return .data
    }

    private func copyWindowSize(to master: Int32) {
        var rows: UInt16 = 0
        var cols: UInt16 = 0
        if sk_get_winsize(0, &rows, &cols) == 0 { _ = sk_set_winsize(master, rows, cols) }
    }
}
