// skiff stats: a live table of CPU, memory, pids and block I/O per container (Stats.swift).
import Glibc
import SkiffRuntime

enum StatsCommand: Command {
    static let name = "stats"
    static let summary = "show containers' resource usage from their cgroups (like docker stats)"
    static let arguments = "[--no-stream] [<container-id>...]"
    static let flags = [Flag(names: ["no-stream"], takesValue: false, help: "print one table and exit")]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let runtime = global.runtime
        let named = args.positionals
        for id in named { _ = try runtime.summary(id: id) } // an unknown id: one line, nothing printed
        /// The containers to show: those named, else every running one.
        func ids() -> [String] {
            named.isEmpty ? runtime.store.ids().filter { (try? runtime.summary(id: $0))?.1 == .running } : named
        }
        var previous: [String: StatsSample] = [:]
        for id in ids() { previous[id] = try? runtime.statsSample(id) }
        let clear = isatty(1) == 1
        while true {
            sleepSeconds(args.bool("no-stream") ? 0.5 : 1)
            var rows = [StatsTable.header]
            var next: [String: StatsSample] = [:]
            for id in ids() {
                guard let now = try? runtime.statsSample(id) else { continue }
                rows.append(StatsTable.row(previous[id], now))
                next[id] = now
            }
            previous = next
            printOut((clear && !args.bool("no-stream") ? "\u{1b}[2J\u{1b}[H" : "") + ListCommand.tabwriter(rows))
            if args.bool("no-stream") { return 0 }
        }
    }

    static func sleepSeconds(_ s: Double) {
        var ts = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
        var left = timespec()
        while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }
}
