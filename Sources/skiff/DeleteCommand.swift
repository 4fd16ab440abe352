// skiff delete: remove a stopped (or, with --force, any) container.
import SkiffRuntime

enum DeleteCommand: Command {
    static let name = "delete"
    static let summary = "delete a container and everything it held"
    static let arguments = "[--force] <container-id>"
    static let flags = [Flag(names: ["force", "f"], takesValue: false, help: "kill the container first if it is running")]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        try global.runtime.delete(id: try requireID(args, name), force: args.bool("force"))
        return 0
    }
}
