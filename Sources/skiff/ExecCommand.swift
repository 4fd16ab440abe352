// skiff exec: run a new process inside a running container.
import SkiffRuntime
import SkiffSpec

enum ExecCommand: Command {
    static let name = "exec"
    static let summary = "run a new process inside a running container"
    static let arguments = "[options] <container-id> <command> [args...]"
    static let flags = [
        Flag(
            names: ["process", "p"], takesValue: true,
            help: "a process.json (the spec's process object) instead of the arguments"),
        Flag(names: ["tty", "t"], takesValue: false, help: "allocate a pseudo-terminal"),
        Flag(
            names: ["interactive", "i"], takesValue: false,
            help: "keep stdin attached (as docker exec -i; skiff exec, like runc, always passes stdin on)"),
        Flag(names: ["detach", "d"], takesValue: false, help: "return once the process has started"),
        Flag(names: ["pid-file"], takesValue: true, help: "write the process id to this file"),
        Flag(names: ["console-socket"], takesValue: true, help: "unix socket that receives the pty master"),
        Flag(names: ["env", "e"], takesValue: true, help: "set an environment variable KEY=VALUE (repeatable)"),
        Flag(names: ["cwd"], takesValue: true, help: "working directory inside the container"),
        Flag(names: ["user", "u"], takesValue: true, help: "UID[:GID] to run as"),
        Flag(names: ["additional-gids", "g"], takesValue: true, help: "additional group id (repeatable)"),
        Flag(names: ["cap", "c"], takesValue: true, help: "add a capability (repeatable)"),
        Flag(names: ["no-new-privs"], takesValue: false, help: "set no_new_privs for the process"),
        Flag(names: ["preserve-fds"], takesValue: true, help: "pass N extra file descriptors (3 .. 3+N-1)"),
    ]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        let runtime = global.runtime
        var process: Process
        if let file = args.value("process") {
            guard let bytes = readFile(file) else { throw SkiffError("--process \(file): cannot read") }
            do {
                process = try JSONCodec.decode(Process.self, from: bytes)
                try process.validate(path: "process")
            } catch let e as SpecError {
                // Paths in the file are relative to the process object itself.
                let path = e.path.isEmpty || e.path.hasPrefix("process") ? e.path : "process." + e.path
                throw SkiffError("\(file): \(SpecError(path: path, message: e.message))")
            } catch { throw SkiffError("\(file): \(error)") }
        } else {
            let (record, _) = try runtime.state(id: id)
            process = record.config.process ?? Process(user: User(), cwd: "/")
            let command = Array(args.positionals.dropFirst())
            guard !command.isEmpty else {
                throw SkiffError(
                    "exec: no command given (usage: skiff exec [options] "
                        + "<container-id> <command> [args...])")
            }
            process.args = command
            process.terminal = args.bool("tty")
            process.consoleSize = nil
        }
        // Flags override the process, whichever way it came.
        if args.has("tty") { process.terminal = args.bool("tty") }
        var env = process.env ?? []
        for kv in args.all("env") {
            guard let eq = kv.firstIndex(of: "=") else { throw SkiffError("--env \(kv): expected KEY=VALUE") }
            let key = kv[..<eq]
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append(kv)
        }
        process.env = env
        if let cwd = args.value("cwd") { process.cwd = cwd }
        if let user = args.value("user") {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw SkiffError("--user \(user): expected UID[:GID] as numbers")
            }
            process.user.uid = uid
            if parts.count == 2 { process.user.gid = UInt32(parts[1])! }
        }
        let gids = try args.all("additional-gids").map { g -> UInt32 in
            guard let v = UInt32(g) else { throw SkiffError("--additional-gids \(g): expected a number") }
            return v
        }
        if !gids.isEmpty { process.user.additionalGids = gids }
        let caps = args.all("cap")
        if !caps.isEmpty {
            var c = process.capabilities ?? LinuxCapabilities()
            c.bounding = (c.bounding ?? []) + caps
            c.effective = (c.effective ?? []) + caps
            c.permitted = (c.permitted ?? []) + caps
            process.capabilities = c
        }
        if args.bool("no-new-privs") { process.noNewPrivileges = true }

        var options = ExecOptions(process: process)
        options.detach = args.bool("detach")
        options.pidFile = args.value("pid-file")
        options.consoleSocket = args.value("console-socket")
        options.preserveFds = try preserveFds(args)
        return try runtime.exec(id: id, options: options)
    }
}
