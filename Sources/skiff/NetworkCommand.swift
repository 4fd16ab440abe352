// skiff network: the named networks quick-run containers join with --network NAME
// (Sources/SkiffRuntime/Network/). Each one is a CNI config list in ROOT/networks.
//   skiff network create [--internal] [--subnet CIDR] NAME
//   skiff network ls | inspect NAME | rm NAME
import SkiffRuntime

enum NetworkCommand: Command {
    static let name = "network"
    static let summary = "create, list, inspect or remove networks for run --rootfs --network NAME"
    static let arguments = "create [--internal] [--subnet CIDR] NAME | ls | inspect NAME | rm NAME"
    static let flags = [
        Flag(names: ["internal"], takesValue: false, help: "no route out and no NAT: containers reach only each other"),
        Flag(
            names: ["subnet"], takesValue: true, help: "the network's IPv4 prefix (default: a free /24 of 10.89.0.0/16)"
        ),
    ]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let store = NetworkStore(root: global.root)
        let words = Array(args.positionals)
        func nameArg() throws -> String {
            guard words.count == 2 else {
                throw SkiffError(
                    "network \(words.first ?? ""): expects one network name (usage: skiff network \(arguments))")
            }
            return words[1]
        }
        switch words.first {
        case "create":
            let def = try store.create(
                name: try nameArg(), subnet: args.value("subnet"), isInternal: args.bool("internal"))
            printOut(def.name + "\n")
        case "ls", "list":
            printOut("NAME".padded(14) + "BRIDGE".padded(10) + "SUBNET".padded(18) + "INTERNAL\n")
            for n in store.all() {
                printOut(
                    n.name.padded(14) + n.bridge.padded(10) + n.subnet.description.padded(18)
                        + (n.isInternal ? "yes" : "no") + "\n")
            }
        case "inspect":
            printOut(try store.inspect(try nameArg(), containers: global.runtime.store).serialized(indent: "  ") + "\n")
        case "rm", "remove":
            try store.remove(name: try nameArg(), containers: global.runtime.store)
        default:
            throw SkiffError("network: expected create, ls, inspect or rm (usage: skiff network \(arguments))")
        }
        return 0
    }
}
