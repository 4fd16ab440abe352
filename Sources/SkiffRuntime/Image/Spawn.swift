// Helper programs wired with pipes, for the image code: `tar -x` reading a layer that skiff
// hashes on the way, `tar -xO` reading one member of an image archive, `tar -c` writing a
// layer that skiff hashes on the way out. (Subprocess.swift runs a program to completion
// with a string on stdin; here skiff sits in the middle of the stream.)
import CCap
import CShim
import Glibc

struct Spawned {
    let pid: Int32
    let name: String

    /// Start `args` (args[0] is the program name; tar is looked up in /usr/bin, /bin).
    /// stdin/stdout/stderr: fds to give the child (-1: /dev/null for stdin, skiff's own for
    /// the others). `dropMknod`: remove CAP_MKNOD from the bounding set before exec, so the
    /// program (and anything it runs) cannot create device nodes.
    static func start(
        _ args: [String], stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1,
        dropMknod: Bool = false
    ) throws -> Spawned {
        let candidates = args[0].hasPrefix("/") ? [args[0]] : ["/usr/bin/" + args[0], "/bin/" + args[0]]
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw SkiffError("\(args[0]) is needed (apt-get install \(args[0]))")
        }
        let devnull = stdin < 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1
        defer { if devnull >= 0 { close(devnull) } }
        // The child drops CAP_MKNOD if asked (device entries of a layer then fail), nothing else.
        let pid = try Subprocess.spawn(
            path, args: args, env: ["PATH=/usr/bin:/bin", "LC_ALL=C"], stdin: stdin >= 0 ? stdin : devnull,
            stdout: stdout, stderr: stderr
        ) {
            if dropMknod && cap_drop_bound(cap_value_t(CAP_MKNOD)) != 0 { _exit(126) }
        }
        return Spawned(pid: pid, name: args[0])
    }

    /// Wait for the program; its exit status (128+N if killed by signal N).
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if sk_wifsignaled(status) != 0 { return 128 + sk_wtermsig(status) }
        return sk_wexitstatus(status)
    }

    /// Run `args` to completion and return what it printed on stdout (and its status).
    static func output(_ args: [String]) throws -> (status: Int32, text: String) {
        let (r, w) = try makePipe()
        let fds = [r, w]
        let child: Spawned
        do { child = try start(args, stdout: fds[1]) } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        let bytes = readAll(fds[0])
        close(fds[0])
        return (child.wait(), String(decoding: bytes, as: UTF8.self))
    }
}

/// A pipe whose ends are close-on-exec (the child gets its end through dup2).
func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    try sys("pipe") { pipe(&fds) }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
}
