// skiff delete: remove stopped (or, with --force, any) containers.
import SkiffRuntime

enum DeleteCommand: Command {
    static let name = "delete"
    static let summary = "delete containers and everything they held"
    static let arguments = "[--force] <container-id>..."
    static let flags = [
        Flag(names: ["force", "f"], takesValue: false, help: "kill the container first if it is running")
    ]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        try forEachID(args.positionals, name) { try global.runtime.delete(id: $0, force: args.bool("force")) }
    }
}
