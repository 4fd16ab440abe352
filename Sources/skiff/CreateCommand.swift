// skiff create: set the container up; it waits for `skiff start`.
import Glibc
import SkiffRuntime

/// Flags shared by create and run.
let createFlags = [
    Flag(names: ["bundle", "b"], takesValue: true, help: "path to the bundle directory (default: current)"),
    Flag(names: ["pid-file"], takesValue: true, help: "write the container process id to this file"),
    Flag(
        names: ["console-socket"], takesValue: true,
        help: "unix socket that receives the pty master (with process.terminal)"),
    Flag(
        names: ["no-pivot"], takesValue: false, help: "use MS_MOVE and chroot instead of pivot_root (rootfs on ramfs)"),
    Flag(names: ["no-new-keyring"], takesValue: false, help: "do not create a new session keyring"),
    Flag(
        names: ["preserve-fds"], takesValue: true, help: "pass N extra file descriptors (3 .. 3+N-1) to the container"),
]

func createOptions(_ args: ParsedArgs) throws -> CreateOptions {
    var o = CreateOptions()
    o.bundle = args.value("bundle") ?? "."
    o.pidFile = args.value("pid-file")
    o.consoleSocket = args.value("console-socket")
    o.noPivot = args.bool("no-pivot")
    o.noNewKeyring = args.bool("no-new-keyring")
    o.preserveFds = try preserveFds(args)
    o.listenFds = listenFds()
    return o
}

/// Socket activation (sd_listen_fds): LISTEN_FDS counts only when LISTEN_PID names this
/// very process. A stale LISTEN_FDS inherited from some activated service names fds that
/// are long closed; honouring it would hand whatever skiff opens there (its log, the
/// state directory, the host cgroup) to the container (CVE-2024-21626 pattern). The
/// sealed-binary re-exec keeps the pid, so the check holds after it.
func listenFds() -> Int {
    guard let n = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), n > 0,
        let pid = getenv("LISTEN_PID").flatMap({ Int32(String(cString: $0)) }), pid == getpid()
    else { return 0 }
    return n
}

/// Every fd that will be passed to the container (3 ..< 3+N) must be open in skiff's
/// caller now, before skiff opens anything of its own: a closed one would be filled by
/// the first fd skiff opens, and that fd would reach the container. Called from main
/// before the log file is opened.
func checkPassedFdsAreOpen(_ args: ParsedArgs, command: String) throws {
    guard ["create", "run", "exec"].contains(command) else { return }
    let preserved = try preserveFds(args)
    let listen = command == "exec" ? 0 : listenFds()
    for fd in Int32(3)..<Int32(3 + listen + preserved) where fcntl(fd, F_GETFD) < 0 {
        let what = fd < 3 + Int32(listen) ? "LISTEN_FDS=\(listen)" : "--preserve-fds \(preserved)"
        throw SkiffError(
            "\(what): fd \(fd) is not open (the fds passed to the container must be open in skiff's "
                + "caller)")
    }
}

/// --preserve-fds N (create, run, exec).
func preserveFds(_ args: ParsedArgs) throws -> Int {
    guard let n = args.value("preserve-fds") else { return 0 }
    guard let v = Int(n), v >= 0 else { throw SkiffError("--preserve-fds: expected a number, got \"\(n)\"") }
    return v
}

enum CreateCommand: Command {
    static let name = "create"
    static let summary = "create a container (it waits for start)"
    static let arguments = "[options] <container-id>"
    static let flags = createFlags

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        try global.runtime.create(id: id, options: createOptions(args))
        return 0
    }
}
