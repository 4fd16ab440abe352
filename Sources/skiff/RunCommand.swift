// skiff run: create + start, then (unless --detach) wait, forward signals, delete,
// and exit with the container's exit code.
//   skiff run [--bundle DIR] ID                         a bundle, as runc does
//   skiff run --rootfs DIR|TARBALL [flags] [COMMAND...]  no bundle: Docker-like flags, overlay root
import SkiffRuntime

enum RunCommand: Command {
    static let name = "run"
    static let summary = "create and run a container (from a bundle, or from --rootfs with Docker-like flags)"
    static let arguments = "[options] <container-id>  |  --rootfs DIR|TARBALL [options] [COMMAND [ARG...]]"
    static let flags = createFlags + [
        Flag(names: ["detach", "d"], takesValue: false, help: "return once the container has started (with --rootfs: print its id, log its output)"),
        Flag(names: ["restart"], takesValue: true, help: "with --rootfs -d: no (default), always, or on-failure[:N] (restart when it exits)"),
    ] + quickRunFlags

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        var options = try createOptions(args)
        guard let rootfsArg = args.value("rootfs") else {
            if let flag = (quickOnlyFlags + ["restart"]).first(where: { args.has($0) }) {
                throw SkiffError("--\(flag) needs --rootfs (with a bundle, put it in config.json)")
            }
            let id = try requireID(args, name)
            return try global.runtime.run(id: id, options: options, detach: args.bool("detach"))
        }
        let id = args.value("name") ?? QuickRun.generatedName()
        let rootfs = try RootfsCache.prepare(rootfsArg)
        var quick = try quickRunOptions(args, rootfs: rootfs, command: args.positionals)
        if let r = args.value("restart") {
            let policy = try RestartPolicy(parsing: r)
            if policy.mode != .no && !args.bool("detach") { throw SkiffError("--restart \(r): needs -d (a detached container has a monitor to restart it)") }
            if policy.mode != .no && args.bool("rm") { throw SkiffError("--restart \(r) and --rm cannot be combined") }
            quick.restart = policy
        }
        try StateStore.validate(id: id)
        if (try? global.runtime.state(id: id)) != nil { throw SkiffError("container \"\(id)\" already exists") }
        options.spec = try QuickRun.spec(quick, id: id)
        options.stdinNull = !quick.interactive
        if args.bool("detach") {
            // Like docker run -d: returns once the program runs, its output in `skiff logs`.
            try global.runtime.runDetached(id: id, options: options, remove: args.bool("rm"))
            printOut(id + "\n")
            return 0
        }
        return try global.runtime.run(id: id, options: options, detach: false, remove: args.bool("rm"))
    }
}
