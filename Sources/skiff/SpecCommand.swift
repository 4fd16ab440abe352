// skiff spec: write a default config.json, as `runc spec` does.
import Glibc
import SkiffRuntime
import SkiffSpec

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "create a new specification file (config.json)"
    static let arguments = "[--bundle DIR]"
    static let flags = [
        Flag(names: ["bundle", "b"], takesValue: true, help: "directory to write config.json in (default: current)"),
        Flag(names: ["rootless"], takesValue: false, help: "accepted for runc compatibility"),
    ]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let dir = args.value("bundle") ?? "."
        let path = dir + "/config.json"
        if access(path, F_OK) == 0 { throw SkiffError("\(path) exists. Remove it first") }
        try writeFileAtomic(path, Spec.runcDefault().json(indent: "\t"), mode: 0o666 & ~0o022)
        return 0
    }
}
