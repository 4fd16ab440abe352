// The process part of `skiff inspect`: what the container was told to run, from its
// saved config (docker inspect's .Config: Cmd, Env, WorkingDir, User, Hostname).
import SkiffSpec

extension Inspection {
    var processJSON: JSON {
        let p = record.config.process
        var user: [(key: String, value: JSON)] = [
            ("uid", .integer(p?.user.uid ?? 0)), ("gid", .integer(p?.user.gid ?? 0)),
        ]
        if let g = p?.user.additionalGids, !g.isEmpty {
            user.append(("additionalGids", .array(g.map { .integer($0) })))
        }
        return .object([
            ("args", .array((p?.args ?? []).map { .string($0) })),
            ("env", .array((p?.env ?? []).map { .string($0) })),
            ("cwd", .string(p?.cwd ?? "/")),
            ("user", .object(user)),
            ("terminal", .bool(p?.terminal == true)),
            ("hostname", record.config.hostname.map { .string($0) } ?? .null),
            ("init", .bool(record.config.annotations?[InitReaper.annotation] == "true")),
            ("restart", .string(record.config.annotations?[RestartPolicy.annotation] ?? "no")),
        ])
    }

    var processText: String {
        let p = record.config.process
        var s = "\nprocess\n"
        s += "  args      \((p?.args ?? []).map(Inspection.quoted).joined(separator: " "))\n"
        s += "  cwd       \(p?.cwd ?? "/")\n"
        s += "  user      \(p?.user.uid ?? 0):\(p?.user.gid ?? 0)\n"
        s += "  hostname  \(record.config.hostname ?? "(the host's)")\n"
        s += "  terminal  \(p?.terminal == true)\n"
        for e in p?.env ?? [] { s += "  env       \(e)\n" }
        return s
    }

    /// A word as a shell would need it: quoted when it has spaces or is empty.
    static func quoted(_ word: String) -> String {
        word.isEmpty || word.contains(where: { " \t\"'$".contains($0) }) ? "'" + word.replacingQuote + "'" : word
    }
}

extension String {
    fileprivate var replacingQuote: String {
        split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
    }
}
