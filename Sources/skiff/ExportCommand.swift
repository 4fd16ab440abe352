// skiff export: a container's whole file tree as one tar (what `docker export` writes).
import SkiffRuntime

enum ExportCommand: Command {
    static let name = "export"
    static let summary = "write a container's merged file tree as a tar (run it again with --rootfs FILE.tar)"
    static let arguments = "-o FILE.tar <container-id>"
    static let flags = [Flag(names: ["output", "o"], takesValue: true, help: "the tar file to write")]
    static var flagsAnywhere: Bool { true }

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        guard let file = args.value("output") else { throw SkiffError("export: -o FILE.tar is required") }
        let (record, _) = try global.runtime.state(id: id)
        try Export.export(record, to: file)
        return 0
    }
}
