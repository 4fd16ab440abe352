// skiff: a runc-compatible command line. Global flags come before the command:
//   skiff [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [flags] ID
// Each command lives in its own file in this directory.
import Glibc
import SkiffRuntime

/// Options shared by every command.
struct Global {
    var root = "/run/skiff"
    var runtime: Runtime { Runtime(root: root) }
}

protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var arguments: String { get }
    static var flags: [Flag] { get }
    /// Whether flags may also follow positionals (runc: only before them).
    static var flagsAnywhere: Bool { get }
    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32
}

extension Command {
    static var flagsAnywhere: Bool { false }
    static func usage() -> String {
        "usage: skiff \(name) "
            + "\(arguments)\n\n\(summary)\n" + (flags.isEmpty ? "" : "\noptions:\n\(ArgParser.usage(flags))\n")
    }
}

let commands: [Command.Type] = [
    SpecCommand.self, CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self,
    KillCommand.self, DeleteCommand.self, ListCommand.self, FeaturesCommand.self,
    PauseCommand.self, ResumeCommand.self, PsCommand.self, EventsCommand.self, UpdateCommand.self, ExecCommand.self,
    InspectCommand.self, DiffCommand.self,
    LogsCommand.self, StopCommand.self, RestartCommand.self, StatsCommand.self, InfoCommand.self, VolumeCommand.self,
    CommitCommand.self, ExportCommand.self, ImageCommand.self,
    NetworkCommand.self,
]

let globalFlags = [
    Flag(
        names: ["root"], takesValue: true,
        help: "root directory for container state (default: $SKIFF_ROOT or /run/skiff)"),
    Flag(
        names: ["data-root"], takesValue: true,
        help: "root directory for writable layers, logs and volumes (default: $SKIFF_DATA or /var/lib/skiff)"),
    Flag(names: ["log"], takesValue: true, help: "write log lines to this file instead of stderr"),
    Flag(names: ["log-format"], takesValue: true, help: "log format: text (default) or json"),
    Flag(names: ["debug"], takesValue: false, help: "log debug messages"),
    Flag(names: ["explain"], takesValue: false, help: "narrate every kernel step on stderr (also SKIFF_EXPLAIN=1)"),
    Flag(
        names: ["systemd-cgroup"], takesValue: false,
        help: "accepted for runc compatibility; systemd cgroups are not supported"),
    Flag(names: ["rootless"], takesValue: true, help: "accepted for runc compatibility (true|false|auto)"),
    Flag(names: ["criu"], takesValue: true, help: "accepted for runc compatibility; checkpointing is not supported"),
    Flag(names: ["version", "v"], takesValue: false, help: "print the version"),
    Flag(names: ["help", "h"], takesValue: false, help: "show help"),
]

func topUsage() -> String {
    var s = """
        skiff: a minimal OCI container runtime (runc-compatible)

        usage: skiff [global options] COMMAND [options] [arguments...]

        commands:

        """
    for c in commands { s += "   \(c.name.padded(12)) \(c.summary)\n" }
    s += "\nglobal options:\n" + ArgParser.usage(globalFlags) + "\n"
    return s
}

func printOut(_ text: String) {
    try? writeAllStdout(text)
}

func writeAllStdout(_ text: String) throws {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        bytes = bytes.dropFirst(n)
    }
}

/// One clear line on stderr (and in the log file when there is one), then exit 1.
func fail(_ message: String) -> Never {
    if Log.toFile { Log.error(message) }
    let line = "skiff: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

func main() -> Int32 {
    let argv = CommandLine.arguments
    var global = Global()
    do {
        // Before anything else: commands that clone into a container re-run skiff from a
        // sealed in-memory copy of its binary (CVE-2019-5736, ExeProtection.swift).
        try ExeProtection.reexecFromSealedCopyIfNeeded(arguments: argv)
        let parsed = try ArgParser.parse(argv.dropFirst(), flags: globalFlags)
        if parsed.bool("version") {
            printOut(versionText())
            return 0
        }
        if let root = parsed.value("root") ?? getenv("SKIFF_ROOT").map({ String(cString: $0) }) { global.root = root }
        // The runtime reads $SKIFF_DATA (StateStore.dataRoot); the flag sets it for this run.
        if let data = parsed.value("data-root") { setenv("SKIFF_DATA", data, 1) }
        if let fmt = parsed.value("log-format") {
            guard fmt == "text" || fmt == "json" else {
                throw SkiffError("--log-format: unknown format \"\(fmt)\" (text or json)")
            }
            Log.json = fmt == "json"
        }
        if parsed.bool("debug") { Log.level = .debug }
        if parsed.bool("explain") || getenv("SKIFF_EXPLAIN").map({ String(cString: $0) == "1" }) == true {
            Explain.enabled = true
        }
        guard let name = parsed.positionals.first, !parsed.bool("help") else {
            printOut(topUsage())
            return parsed.bool("help") ? 0 : 1
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            throw SkiffError("unknown command \"\(name)\" (see skiff --help)")
        }
        let rest = parsed.positionals.dropFirst()
        if rest.first == "--help" || (rest.first == "-h" && !command.flags.contains { $0.names.contains("h") }) {
            printOut(command.usage())
            return 0
        }
        let args = try ArgParser.parse(rest, flags: command.flags, stopAtPositional: !command.flagsAnywhere)
        // Before skiff opens any fd of its own (the log is the first).
        try checkPassedFdsAreOpen(args, command: name)
        if let path = parsed.value("log"), !path.isEmpty { try Log.open(path: path) }
        Log.debug("skiff \(argv.dropFirst().joined(separator: " "))")
        return try command.run(args, global)
    } catch {
        fail((error as? SkiffError)?.message ?? "\(error)")
    }
}

func versionText() -> String {
    """
    skiff version \(skiffVersion)
    spec: \(specVersion)
    libseccomp: \(libseccompVersion())

    """
}

/// The container id: the one positional argument a command takes.
func requireID(_ args: ParsedArgs, _ command: String) throws -> String {
    guard let id = args.positionals.first else {
        throw SkiffError("\(command): requires a container id (usage: skiff \(command) [options] <container-id>)")
    }
    return id
}

exit(main())
