// skiff pause: freeze every process of a container (cgroup v2's cgroup.freeze); its
// status becomes "paused" until `skiff resume`.
import SkiffRuntime

enum PauseCommand: Command {
    static let name = "pause"
    static let summary = "suspend all processes of a container"
    static let arguments = "<container-id>"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        try global.runtime.pause(id: try requireID(args, name))
        return 0
    }
}
