// skiff start: let a created container run its program.
import SkiffRuntime

enum StartCommand: Command {
    static let name = "start"
    static let summary = "start a created container"
    static let arguments = "<container-id>"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        try global.runtime.start(id: try requireID(args, name))
        return 0
    }
}
