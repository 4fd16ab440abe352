// skiff run: create + start, then (unless --detach) wait, forward signals, delete,
// and exit with the container's exit code.
import SkiffRuntime

enum RunCommand: Command {
    static let name = "run"
    static let summary = "create and run a container"
    static let arguments = "[options] <container-id>"
    static let flags = createFlags + [
        Flag(names: ["detach", "d"], takesValue: false, help: "return once the container has started"),
    ]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        return try global.runtime.run(id: id, options: createOptions(args), detach: args.bool("detach"))
    }
}
