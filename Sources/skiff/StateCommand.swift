// skiff state: the container's state as JSON, in runc's format.
import SkiffRuntime
import SkiffSpec

/// What `state` and `list --format json` print for one container (runc's fields).
struct StateOutput: Encodable {
    let ociVersion: String
    let id: String
    let pid: Int32
    let status: String
    let bundle: String
    let rootfs: String
    let created: String
    let owner: String
    let annotations: [String: String]?

    init(_ record: ContainerSummary, _ status: ContainerStatus) {
        ociVersion = record.ociVersion
        id = record.id
        pid = status == .stopped ? 0 : record.pid
        self.status = status.rawValue
        bundle = record.bundle
        rootfs = record.rootfs
        created = record.created
        owner = record.owner
        annotations = record.annotations?.isEmpty == false ? record.annotations : nil
    }
}

enum StateCommand: Command {
    static let name = "state"
    static let summary = "print the state of a container as JSON"
    static let arguments = "<container-id>"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let (record, status) = try global.runtime.summary(id: try requireID(args, name))
        printOut(JSONCodec.encode(StateOutput(record, status), indent: "  ") + "\n")
        return 0
    }
}
