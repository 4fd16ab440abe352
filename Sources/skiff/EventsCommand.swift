// skiff events: runc's event stream for a container, one JSON object a line:
// {"type":"stats","id":..,"data":{cpu, cpuset, memory, pids, blkio, hugetlb, ...}} every
// --interval, and {"type":"oom","id":..} when the kernel's OOM killer kills in it. Ends
// when the container has no process left. --stats prints the stats once.
import SkiffRuntime

enum EventsCommand: Command {
    static let name = "events"
    static let summary = "display container events such as OOM notifications and resource usage statistics"
    static let arguments = "[--stats] [--interval 5s] <container-id>"
    static let flags = [
        Flag(
            names: ["interval"], takesValue: true,
            help: "stats interval, a Go duration such as 5s or 500ms (default 5s)"),
        Flag(names: ["stats"], takesValue: false, help: "print the container's stats once, then exit"),
    ]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        if args.bool("stats") {
            printOut(try global.runtime.statsEvent(id: id) + "\n")
            return 0
        }
        let interval = try parseDuration(args.value("interval") ?? "5s")
        try global.runtime.events(id: id, intervalMillis: interval) { printOut($0 + "\n") }
        return 0
    }

    /// A Go duration ("5s", "1m30s", "250ms", "1.5s") in milliseconds, at least 1.
    static func parseDuration(_ text: String) throws -> Int {
        let units: [(String, Double)] = [
            ("ms", 1), ("us", 0.001), ("µs", 0.001), ("ns", 0.000001), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
        ]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { throw SkiffError("--interval: invalid duration \"\(text)\"") }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            guard let value = Double(number), let unit = units.first(where: { rest.hasPrefix($0.0) }) else {
                throw SkiffError("--interval: invalid duration \"\(text)\" (e.g. 5s, 500ms)")
            }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        guard total > 0 else { throw SkiffError("--interval: duration must be positive") }
        return max(1, Int(total.rounded()))
    }
}
