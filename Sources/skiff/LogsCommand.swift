// skiff logs: what a detached quick-run container wrote (Logs.swift).
import Glibc
import SkiffRuntime

enum LogsCommand: Command {
    static let name = "logs"
    static let summary = "print the output of a detached container (run -d --rootfs)"
    static let arguments = "[-f] [--tail N] [-t] <container-id>"
    static let flags = [
        Flag(names: ["follow", "f"], takesValue: false, help: "keep printing new output until the container stops"),
        Flag(names: ["tail", "n"], takesValue: true, help: "only the last N lines (or all)"),
        Flag(names: ["timestamps", "t"], takesValue: false, help: "start each line with the time it was written"),
    ]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        var options = LogsOptions()
        options.follow = args.bool("follow")
        options.timestamps = args.bool("timestamps")
        if let t = args.value("tail"), t != "all" {
            guard let n = Int(t), n >= 0 else {
                throw SkiffError("--tail \(t): expected a number of lines, 0 or more, or all")
            }
            options.tail = n
        }
        try global.runtime.logs(id: id, options: options) { stream, bytes in
            try? writeFd(stream == "stderr" ? 2 : 1, bytes)
        }
        return 0
    }

    static func writeFd(_ fd: Int32, _ bytes: [UInt8]) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            rest = rest.dropFirst(n)
        }
    }
}
