// The process part of `skiff inspect`: what the container was told to run, from its
// saved config (docker inspect's .Config: Cmd, Env, WorkingDir, User, Hostname). Its text
// form is the CLI's (InspectText.process).
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
}
