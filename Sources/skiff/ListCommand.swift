// skiff list: the containers under --root, as runc prints them.
import SkiffRuntime
import SkiffSpec

enum ListCommand: Command {
    static let name = "list"
    static let summary = "list containers"
    static let arguments = "[--format table|json] [-q] [--filter status=S|id=ID|name=TEXT]..."
    static let flags = [
        Flag(
            names: ["format", "f"], takesValue: true,
            help: "table (default) or json; -f KEY=VALUE is a --filter, as with docker ps"),
        Flag(names: ["quiet", "q"], takesValue: false, help: "print only the container ids"),
        Flag(
            names: ["filter"], takesValue: true,
            help: "status=created|running|paused|stopped|exited, id=PREFIX, name=TEXT (repeatable)"),
    ]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let runtime = global.runtime
        // runc's -f is --format; a KEY=VALUE after it can only be Docker's -f (filter).
        var filters = args.all("filter")
        var format = args.value("format") ?? "table"
        if format.contains("=") {
            filters.append(format)
            format = args.all("format").last { !$0.contains("=") } ?? "table"
        }
        let filter = try ContainerFilter(filters)
        // Summaries, not whole records: the config each state.json carries is skipped.
        var records: [String: ContainerSummary] = [:]
        let rows: [StateOutput] = runtime.store.ids().compactMap { id in
            guard let (record, status) = try? runtime.summary(id: id), filter.matches(record, status) else {
                return nil
            }
            records[id] = record
            return StateOutput(record, status)
        }
        if args.bool("quiet") {
            printOut(rows.map { $0.id + "\n" }.joined())
            return 0
        }
        switch format {
        case "json":
            // runc encodes a nil slice when there are no containers.
            printOut((rows.isEmpty ? "null" : JSONCodec.encode(rows)) + "\n")
        case "table":
            // runc's columns, then COMMAND; a stopped detached container shows its exit code.
            var table = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER", "COMMAND"]]
            table += rows.map { row in
                let exit = row.status == "stopped" ? runtime.exitCode(row.id).map { " (\($0))" } ?? "" : ""
                return [
                    row.id, "\(row.pid)", row.status + exit, row.bundle, row.created,
                    row.owner.isEmpty ? "-" : row.owner,
                    command(records[row.id]?.args ?? []),
                ]
            }
            printOut(tabwriter(table))
        case let other:
            throw SkiffError("--format: unknown format \"\(other)\" (table or json)")
        }
        return 0
    }

    /// The command as docker ps shows it: quoted, cut at 40 characters.
    static func command(_ args: [String]) -> String {
        let text = args.joined(separator: " ")
        return "\"" + (text.count > 40 ? String(text.prefix(39)) + "…" : text) + "\""
    }

    /// Go's text/tabwriter as runc configures it (minwidth 12, padding 3): every column
    /// but the last is padded to its widest cell plus 3, at least 12.
    static func tabwriter(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], max(12, cell.count + 3)) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padded(widths[i]) }.joined() + "\n"
        }.joined()
    }
}

/// `list --filter`: every filter must match (a repeated key: any of its values).
struct ContainerFilter {
    var values: [String: [String]] = [:]

    init(_ filters: [String]) throws {
        for f in filters {
            let kv = f.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, ["status", "id", "name"].contains(kv[0]) else {
                throw SkiffError("--filter \(f): expected status=STATUS, id=PREFIX or name=TEXT")
            }
            var value = kv[1]
            if kv[0] == "status" {
                if value == "exited" { value = "stopped" } // Docker's word for it
                guard ContainerStatus(rawValue: value) != nil else {
                    throw SkiffError("--filter \(f): unknown status (created, running, paused, stopped or exited)")
                }
            }
            values[kv[0], default: []].append(value)
        }
    }

    func matches(_ record: ContainerSummary, _ status: ContainerStatus) -> Bool {
        for (key, wanted) in values {
            let ok: Bool
            switch key {
            case "status": ok = wanted.contains(status.rawValue)
            case "id": ok = wanted.contains { record.id.hasPrefix($0) }
            default: ok = wanted.contains { record.id.includes($0) }
            }
            if !ok { return false }
        }
        return true
    }
}
