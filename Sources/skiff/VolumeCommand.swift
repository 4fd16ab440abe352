// skiff volume ls|create|rm|inspect: the named volumes of `-v NAME:/path` (Volumes.swift).
import SkiffRuntime
import SkiffSpec

enum VolumeCommand: Command {
    static let name = "volume"
    static let summary = "manage named volumes: ls, create [NAME], rm NAME..., inspect NAME..."
    static let arguments = "ls [-q] | create [NAME] | rm NAME... | inspect NAME..."
    static let flags = [Flag(names: ["quiet", "q"], takesValue: false, help: "ls: print only the names")]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let volumes = Volumes(dataRoot: StateStore.dataRoot)
        let names = Array(args.positionals.dropFirst())
        switch args.positionals.first {
        case "ls", "list":
            if args.bool("quiet") {
                printOut(volumes.names().map { $0 + "\n" }.joined())
                return 0
            }
            printOut(ListCommand.tabwriter([["DRIVER", "VOLUME NAME"]] + volumes.names().map { ["local", $0] }))
            return 0
        case "create":
            guard names.count <= 1 else { throw SkiffError("volume create: takes at most one name") }
            let name = names.first ?? generatedName()
            try volumes.create(name)
            printOut(name + "\n")
            return 0
        case "rm", "remove":
            return try forEachName(names, "rm") {
                try volumes.remove($0, runtime: global.runtime)
                printOut($0 + "\n")
            }
        case "inspect":
            var docs: [JSON] = []
            let code = try forEachName(names, "inspect") { name in
                try Volumes.validate(name)
                guard volumes.exists(name) else { throw SkiffError("volume \"\(name)\" does not exist") }
                docs.append(
                    .object([
                        ("Name", .string(name)), ("Driver", .string("local")),
                        ("Mountpoint", .string(volumes.path(name))),
                        ("CreatedAt", .string(volumes.created(name))),
                    ]))
            }
            printOut(JSON.array(docs).serialized(indent: "    ") + "\n")
            return code
        case let other?:
            throw SkiffError("volume: unknown subcommand \"\(other)\" (ls, create, rm or inspect)")
        case nil:
            throw SkiffError("volume: needs a subcommand (usage: skiff volume \(arguments))")
        }
    }

    static func forEachName(_ names: [String], _ sub: String, _ body: (String) throws -> Void) throws -> Int32 {
        guard !names.isEmpty else { throw SkiffError("volume \(sub): requires at least one volume name") }
        return try forEachID(names, "volume \(sub)", body)
    }

    /// Docker names an anonymous volume with 64 hex digits; 16 are enough here.
    static func generatedName() -> String {
        (0..<16).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
    }
}
