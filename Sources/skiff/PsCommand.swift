// skiff ps: the processes of a container, from its cgroup's cgroup.procs. As runc does it:
// --format json prints the pids; the table is the host's `ps` (default `ps -ef`, or the
// ps options after the id) keeping the header and the container's lines.
import SkiffRuntime
import SkiffSpec

enum PsCommand: Command {
    static let name = "ps"
    static let summary = "list the processes running inside a container"
    static let arguments = "[--format table|json] <container-id> [ps options]"
    static let flags = [Flag(names: ["format", "f"], takesValue: true, help: "table (default) or json")]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        let format = args.value("format") ?? "table"
        guard format == "table" || format == "json" else {
            throw SkiffError("--format: unknown format \"\(format)\" (table or json)")
        }
        let pids = try global.runtime.processIDs(id: id)
        if format == "json" {
            printOut(JSON.array(pids.map { JSON.integer($0) }).serialized(indent: nil) + "\n")
            return 0
        }
        let psArgs = Array(args.positionals.dropFirst())
        printOut(try Runtime.psTable(pids: pids, psArgs: psArgs.isEmpty ? ["-ef"] : psArgs))
        return 0
    }
}
