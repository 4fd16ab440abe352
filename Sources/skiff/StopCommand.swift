// skiff stop: docker stop. SIGTERM to the container's init, up to --time seconds for it
// to exit, then SIGKILL to all its processes (Stop.swift explains why pid 1 often needs it).
import Glibc
import SkiffRuntime

enum StopCommand: Command {
    static let name = "stop"
    static let summary = "stop containers: SIGTERM, a grace period, then SIGKILL"
    static let arguments = "[-t SECONDS] <container-id>..."
    static let flags = [
        Flag(names: ["time", "t"], takesValue: true, help: "seconds to wait after SIGTERM before SIGKILL (default 10)")
    ]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let timeout = try seconds(args, "time", default: 10)
        return try forEachID(args.positionals, name) { id in
            try stopAndSay(global.runtime, id, timeout)
            printOut(id + "\n")
        }
    }

    /// Stop one container; say on stderr when SIGTERM was not enough.
    static func stopAndSay(_ runtime: Runtime, _ id: String, _ timeout: Int) throws {
        if try runtime.stop(id: id, timeoutSeconds: timeout) {
            let why =
                "still running \(timeout)s after SIGTERM (a pid 1 without a SIGTERM handler ignores it; see "
                + "--init): sent SIGKILL"
            let line = "skiff: stop \(id): \(why)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }
}

enum RestartCommand: Command {
    static let name = "restart"
    static let summary = "stop, then start again, detached quick-run containers"
    static let arguments = StopCommand.arguments
    static let flags = StopCommand.flags
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let timeout = try seconds(args, "time", default: 10)
        let runtime = global.runtime
        return try forEachID(args.positionals, name) { id in
            let (record, _) = try runtime.state(id: id)
            guard runtime.isQuickRun(record) else {
                throw SkiffError(
                    "restart \(id): only a quick-run container (run --rootfs) can start again; a bundle container "
                        + "is created anew"
                )
            }
            try StopCommand.stopAndSay(runtime, id, timeout)
            try runtime.start(id: id)
            printOut(id + "\n")
        }
    }
}
