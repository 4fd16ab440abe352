// skiff list: the containers under --root, as runc prints them.
import SkiffRuntime
import SkiffSpec

enum ListCommand: Command {
    static let name = "list"
    static let summary = "list containers"
    static let arguments = "[--format table|json] [-q]"
    static let flags = [
        Flag(names: ["format", "f"], takesValue: true, help: "table (default) or json"),
        Flag(names: ["quiet", "q"], takesValue: false, help: "print only the container ids"),
    ]
    static let flagsAnywhere = true

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let runtime = global.runtime
        let rows: [StateOutput] = runtime.store.ids().compactMap { id in
            guard let (record, status) = try? runtime.state(id: id) else { return nil }
            return StateOutput(record, status)
        }
        if args.bool("quiet") {
            printOut(rows.map { $0.id + "\n" }.joined())
            return 0
        }
        switch args.value("format") ?? "table" {
        case "json":
            // runc encodes a nil slice when there are no containers.
            printOut((rows.isEmpty ? "null" : JSONCodec.encode(rows)) + "\n")
        case "table":
            var table = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            table += rows.map { [$0.id, "\($0.pid)", $0.status, $0.bundle, $0.created, $0.owner] }
            printOut(tabwriter(table))
        case let other:
            throw SkiffError("--format: unknown format \"\(other)\" (table or json)")
        }
        return 0
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
