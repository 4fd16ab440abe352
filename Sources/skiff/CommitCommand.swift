// skiff commit: the container's changes as a new layer on its image, in an OCI layout.
import SkiffRuntime

enum CommitCommand: Command {
    static let name = "commit"
    static let summary = "write a container's changes as a new image layer (an OCI image layout DIR[:TAG])"
    static let arguments = "<container-id> DIR[:TAG]"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        guard args.positionals.count == 2 else {
            throw SkiffError("commit: usage: skiff commit <container-id> DIR[:TAG]")
        }
        let (record, _) = try global.runtime.state(id: id)
        let (digest, reference) = try Commit.commit(record, to: args.positionals[1])
        printOut("\(digest)\n")
        Log.info("committed \(id) as \(reference)")
        return 0
    }
}
