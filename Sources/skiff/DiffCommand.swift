// skiff diff: what a container changed in its overlay root, as `docker diff` prints it.
import SkiffRuntime

enum DiffCommand: Command {
    static let name = "diff"
    static let summary = "list the files a container added (A), changed (C) or deleted (D)"
    static let arguments = "<container-id>"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        let (record, _) = try global.runtime.state(id: id)
        guard let overlay = record.overlay else {
            throw SkiffError("container \"\(id)\" has no overlay root (run it with --rootfs, or the annotation run.skiff.overlay)")
        }
        printOut(overlay.changes().map { "\($0)\n" }.joined())
        return 0
    }
}
