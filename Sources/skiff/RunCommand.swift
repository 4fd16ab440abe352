// skiff run: create + start, then (unless --detach) wait, forward signals, delete,
// and exit with the container's exit code.
//   skiff run [--bundle DIR] ID                         a bundle, as runc does
//   skiff run --rootfs DIR|TARBALL [flags] [COMMAND...]  no bundle: Docker-like flags, overlay root
//   skiff run --image PATH[:TAG] [flags] [COMMAND...]    the same from an OCI layout / docker save archive
import SkiffRuntime

enum RunCommand: Command {
    static let name = "run"
    static let summary = "create and run a container (from a bundle, or from --rootfs with Docker-like flags)"
    static let arguments = "[options] <container-id>  |  --rootfs DIR|TARBALL [options] [COMMAND [ARG...]]"
    static let flags =
        createFlags + [
            Flag(
                names: ["detach", "d"], takesValue: false,
                help: "return once the container has started (with --rootfs: print its id, log its output)"),
            Flag(
                names: ["restart"], takesValue: true,
                help: "with --rootfs -d: no (default), always, or on-failure[:N] (restart when it exits)"),
        ] + quickRunFlags + [imageFlag]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        var options = try createOptions(args)
        guard let rootfsArg = args.value("rootfs") ?? args.value("image") else {
            if let flag = (quickOnlyFlags + ["restart"]).first(where: { args.has($0) }) {
                throw SkiffError("--\(flag) needs --rootfs (with a bundle, put it in config.json)")
            }
            let id = try requireID(args, name)
            return try global.runtime.run(id: id, options: options, detach: args.bool("detach"))
        }
        let id = args.value("name") ?? QuickRun.generatedName()
        var restart: RestartPolicy?
        if let r = args.value("restart") {
            let policy = try RestartPolicy(parsing: r)
            if policy.mode != .no && !args.bool("detach") {
                throw SkiffError("--restart \(r): needs -d (a detached container has a monitor to restart it)")
            }
            if policy.mode != .no && args.bool("rm") { throw SkiffError("--restart \(r) and --rm cannot be combined") }
            restart = policy
        }
        try StateStore.validate(id: id)
        if (try? global.runtime.summary(id: id)) != nil { throw SkiffError("container \"\(id)\" already exists") }
        // A user network must exist before anything is made (named volumes are created
        // while the spec is built).
        if let net = args.value("network"), !["bridge", "none", "host"].contains(net), !net.hasPrefix("container:") {
            try NetworkStore(root: global.root).requireUsable(net)
        }
        var quick: QuickRunOptions
        if let image = args.value("image") {
            (options.spec, quick) = try imageQuickRunSpec(args, image: image, id: id) // ImageRunFlags.swift
            if let r = restart, r.mode != .no { options.spec?.annotations?[RestartPolicy.annotation] = r.text }
            quick.restart = restart
        } else {
            quick = try quickRunOptions(args, rootfs: try RootfsCache.prepare(rootfsArg), command: args.positionals)
            quick.restart = restart
            options.spec = try QuickRun.spec(quick, id: id)
        }
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
