// skiff resume: thaw a paused container (cgroup.freeze = 0).
import SkiffRuntime

enum ResumeCommand: Command {
    static let name = "resume"
    static let summary = "resume all processes of a paused container"
    static let arguments = "<container-id>"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        try global.runtime.resume(id: try requireID(args, name))
        return 0
    }
}
