// skiff info: kernel, cgroups, overlay, seccomp, roots and containers by status.
import SkiffRuntime

enum InfoCommand: Command {
    static let name = "info"
    static let summary = "show what this host offers containers, and how many there are"
    static let arguments = ""
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        printOut(global.runtime.hostInfo().map { "\(($0.0 + ":").padded(20))\($0.1)\n" }.joined())
        return 0
    }
}
