// skiff kill: send a signal (name with or without SIG, or number; default TERM).
import Glibc
import SkiffRuntime

enum KillCommand: Command {
    static let name = "kill"
    static let summary = "send a signal to the container's init process"
    static let arguments = "[--all] <container-id> [SIGNAL]  |  [--all] [-s SIGNAL] <container-id>..."
    static let flags = [
        Flag(names: ["all", "a"], takesValue: false, help: "send the signal to every process of the container"),
        Flag(names: ["signal", "s"], takesValue: true, help: "the signal (then every argument is a container id)"),
    ]
    static let flagsAnywhere = true

    static let signals: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
        "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17,
        "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25,
        "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
    ]

    static func parseSignal(_ text: String) throws -> Int32 {
        if let n = Int32(text), n > 0, n <= 64 { return n }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let n = signals[name] { return n }
        if name.hasPrefix("RTMIN"),
            let off = Int32(name.dropFirst(5).drop { $0 == "+" }.isEmpty ? "0" : String(name.dropFirst(6)))
        {
            return 34 + off
        }
        throw SkiffError("unknown signal \"\(text)\"")
    }

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        // runc's form is `kill ID [SIGNAL]`; several ids are Docker's habit. Without -s, a
        // last argument that names no container is the signal: with two arguments always
        // (runc's form: a bad name is an unknown signal), with more when it names a signal.
        var ids = args.positionals
        var signalName = args.value("signal") ?? "TERM"
        if !args.has("signal"), ids.count >= 2, let last = ids.last, ids.count == 2 || (try? parseSignal(last)) != nil,
            (try? global.runtime.summary(id: last)) == nil
        {
            signalName = last
            ids.removeLast()
        }
        let signal = try parseSignal(signalName)
        return try forEachID(ids, name) { try global.runtime.kill(id: $0, signal: signal, all: args.bool("all")) }
    }
}
