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
            throw SkiffError(
                "container \"\(id)\" has no overlay root (run it with --rootfs, or the annotation "
                    + "run.skiff.overlay)")
        }
        // The mount points skiff itself added for /etc/{resolv.conf,hosts,hostname} (an
        // image without them) are not the container's changes (docker hides them too).
        let ownMountPoints =
            record.config.annotations?[NetworkAnnotation.network] == nil
            ? [] : ["A /etc/resolv.conf", "A /etc/hosts", "A /etc/hostname"]
        printOut(overlay.changes().map { "\($0)" }.filter { !ownMountPoints.contains($0) }.map { $0 + "\n" }.joined())
        return 0
    }
}
