// skiff spec: write a default config.json, as `runc spec` does; with --rootfs and the
// Docker-like flags of `run`, write the config that `run --rootfs` would use.
import Glibc
import SkiffRuntime
import SkiffSpec

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "create a new specification file (config.json)"
    static let arguments = "[--bundle DIR] [--rootfs DIR [run flags] [COMMAND...]]"
    static let flags =
        [
            Flag(
                names: ["bundle", "b"], takesValue: true, help: "directory to write config.json in (default: current)"),
            Flag(names: ["rootless"], takesValue: false, help: "accepted for runc compatibility"),
        ] + quickRunFlags + [imageFlag]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let dir = args.value("bundle") ?? "."
        let path = dir + "/config.json"
        if access(path, F_OK) == 0 { throw SkiffError("\(path) exists. Remove it first") }
        var spec = Spec.runcDefault()
        if let image = args.value("image") {
            spec = try imageQuickRunSpec(args, image: image, id: args.value("name") ?? "skiff").0 // ImageRunFlags.swift
        } else if let rootfs = args.value("rootfs") {
            let quick = try quickRunOptions(args, rootfs: try RootfsCache.prepare(rootfs), command: args.positionals)
            spec = try QuickRun.spec(quick, id: args.value("name") ?? "skiff")
        } else if let flag = quickOnlyFlags.first(where: { args.has($0) }) {
            throw SkiffError("--\(flag) needs --rootfs")
        }
        try writeFileAtomic(path, spec.json(indent: "\t"), mode: 0o644)
        return 0
    }
}
