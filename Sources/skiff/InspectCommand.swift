// skiff inspect: the container as the kernel sees it, next to the host.
import SkiffRuntime

enum InspectCommand: Command {
    static let name = "inspect"
    static let summary = "show namespaces, cgroup, mounts, capabilities and seccomp of a container"
    static let arguments = "[--format text|json] <container-id>"
    static let flags = [Flag(names: ["format", "f"], takesValue: true, help: "text (default) or json")]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let runtime = global.runtime
        let id = try requireID(args, name)
        let (record, status) = try runtime.state(id: id)
        var report = Inspection(record: record, status: status, stateDir: runtime.store.directory(id))
        if status == .stopped { report.exitCode = runtime.exitCode(record.id) }
        if runtime.isQuickRun(record) { report.logPath = runtime.logPath(record.id) }
        switch args.value("format") ?? "text" {
        case "json": printOut(report.json.serialized(indent: "  ") + "\n")
        case "text": printOut(InspectText.render(report))
        case let other: throw SkiffError("--format: unknown format \"\(other)\" (text or json)")
        }
        return 0
    }
}
