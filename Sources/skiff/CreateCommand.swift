// skiff create: set the container up; it waits for `skiff start`.
import Glibc
import SkiffRuntime

/// Flags shared by create and run.
let createFlags = [
    Flag(names: ["bundle", "b"], takesValue: true, help: "path to the bundle directory (default: current)"),
    Flag(names: ["pid-file"], takesValue: true, help: "write the container process id to this file"),
    Flag(names: ["console-socket"], takesValue: true, help: "unix socket that receives the pty master (with process.terminal)"),
    Flag(names: ["no-pivot"], takesValue: false, help: "use MS_MOVE and chroot instead of pivot_root (rootfs on ramfs)"),
    Flag(names: ["no-new-keyring"], takesValue: false, help: "do not create a new session keyring"),
    Flag(names: ["preserve-fds"], takesValue: true, help: "pass N extra file descriptors (3 .. 3+N-1) to the container"),
]

func createOptions(_ args: ParsedArgs) throws -> CreateOptions {
    var o = CreateOptions()
    o.bundle = args.value("bundle") ?? "."
    o.pidFile = args.value("pid-file")
    o.consoleSocket = args.value("console-socket")
    o.noPivot = args.bool("no-pivot")
    o.noNewKeyring = args.bool("no-new-keyring")
    o.preserveFds = try preserveFds(args)
    if let n = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), n > 0 { o.listenFds = n }
    return o
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
