// The Docker-like flags of `skiff run --rootfs` and `skiff spec --rootfs`.
import Glibc
import SkiffRuntime

let quickRunFlags = [
    Flag(
        names: ["rootfs"], takesValue: true,
        help: "run this root filesystem (a directory, .tar or .tar.gz) without a bundle"),
    Flag(names: ["tty", "t"], takesValue: false, help: "allocate a pseudo-terminal"),
    Flag(names: ["interactive", "i"], takesValue: false, help: "keep stdin attached"),
    Flag(names: ["name"], takesValue: true, help: "the container id (default: a generated name)"),
    Flag(names: ["rm"], takesValue: false, help: "remove the container when it exits"),
    Flag(names: ["env", "e"], takesValue: true, help: "set an environment variable KEY=VALUE (repeatable)"),
    Flag(names: ["env-file"], takesValue: true, help: "read KEY=VALUE lines from a file"),
    Flag(names: ["workdir", "w"], takesValue: true, help: "working directory inside the container"),
    Flag(names: ["user", "u"], takesValue: true, help: "user name or UID[:GID]"),
    Flag(names: ["hostname", "h"], takesValue: true, help: "the container's hostname"),
    Flag(
        names: ["volume", "v"], takesValue: true,
        help: "bind mount HOST:CONTAINER[:ro], or a named volume NAME:CONTAINER[:ro] (repeatable)"),
    Flag(names: ["init"], takesValue: false, help: "run a small init as pid 1 that forwards signals and reaps zombies"),
    Flag(names: ["tmpfs"], takesValue: true, help: "mount a tmpfs at this path (repeatable)"),
    Flag(names: ["read-only"], takesValue: false, help: "make the root filesystem read-only"),
    Flag(names: ["memory", "m"], takesValue: true, help: "memory limit (e.g. 64m)"),
    Flag(names: ["memory-swap"], takesValue: true, help: "memory plus swap limit (e.g. 128m; -1 for unlimited)"),
    Flag(names: ["cpus"], takesValue: true, help: "CPUs the container may use (e.g. 0.5)"),
    Flag(names: ["pids-limit"], takesValue: true, help: "maximum number of processes"),
    Flag(
        names: ["network"], takesValue: true,
        help:
            "bridge (default: skiff0, 10.88.0.0/16, NAT; or $SKIFF_DEFAULT_NETWORK), none (loopback only), host, "
            + "or a network NAME"
    ),
    Flag(
        names: ["publish", "p"], takesValue: true,
        help: "publish a port [IP:]HOST:CONTAINER[/tcp|udp] (repeatable; bridge networks)"),
    Flag(names: ["dns"], takesValue: true, help: "name server for /etc/resolv.conf (repeatable)"),
    Flag(names: ["add-host"], takesValue: true, help: "add NAME:IP to /etc/hosts (repeatable)"),
    Flag(names: ["cap-add"], takesValue: true, help: "add a capability (repeatable; ALL)"),
    Flag(names: ["cap-drop"], takesValue: true, help: "drop a capability (repeatable; ALL)"),
    Flag(names: ["security-opt"], takesValue: true, help: "no-new-privileges, seccomp=unconfined or seccomp=FILE"),
    Flag(names: ["ulimit"], takesValue: true, help: "resource limit NAME=SOFT[:HARD], e.g. nofile=1024:2048"),
    Flag(names: ["entrypoint"], takesValue: true, help: "the program to run; the command becomes its arguments"),
]

/// The names of quick-run flags that have no meaning for a bundle.
let quickOnlyFlags = quickRunFlags.map { $0.names[0] }.filter { $0 != "rootfs" }

func quickRunOptions(_ args: ParsedArgs, rootfs: String, command: [String]) throws -> QuickRunOptions {
    var o = QuickRunOptions()
    o.rootfs = rootfs
    o.command = command
    o.entrypoint = args.value("entrypoint")
    o.tty = args.bool("tty")
    o.interactive = args.bool("interactive")
    if let file = args.value("env-file") {
        guard let text = readFile(file).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw SkiffError("--env-file \(file): cannot read")
        }
        for line in text.split(separator: "\n") {
            let l = line.trimmingWhitespace()
            if l.isEmpty || l.hasPrefix("#") { continue }
            if l.contains("=") {
                o.env.append(l)
            } else if let v = getenv(l) {
                o.env.append(l + "=" + String(cString: v))
            }
        }
    }
    o.env += args.all("env")
    o.workdir = args.value("workdir")
    o.user = args.value("user")
    o.hostname = args.value("hostname")
    o.volumes = args.all("volume")
    o.tmpfs = args.all("tmpfs")
    o.readOnly = args.bool("read-only")
    if let m = args.value("memory") { o.memory = try ByteSize.parse(m, flag: "--memory") }
    if let m = args.value("memory-swap") {
        o.memorySwap = try ByteSize.parse(m, flag: "--memory-swap", unlimited: true)
    }
    if let c = args.value("cpus") {
        guard let v = Double(c) else { throw SkiffError("--cpus \(c): expected a number such as 0.5") }
        o.cpus = v
    }
    if let p = args.value("pids-limit") {
        guard let v = Int64(p) else { throw SkiffError("--pids-limit \(p): expected a number") }
        o.pidsLimit = v
    }
    // As docker: a bridge with NAT unless told otherwise ($SKIFF_DEFAULT_NETWORK changes the default).
    o.network =
        args.value("network") ?? getenv("SKIFF_DEFAULT_NETWORK").map { String(cString: $0) }.flatMap {
            $0.isEmpty ? nil : $0
        } ?? "bridge"
    o.publish = args.all("publish")
    o.dns = args.all("dns")
    o.addHosts = args.all("add-host")
    o.capAdd = args.all("cap-add")
    o.capDrop = args.all("cap-drop")
    for opt in args.all("security-opt") {
        switch opt {
        case "no-new-privileges", "no-new-privileges:true", "no-new-privileges=true": o.noNewPrivileges = true
        case "seccomp=unconfined", "seccomp:unconfined": o.seccomp = .unconfined
        case _ where opt.hasPrefix("seccomp=") || opt.hasPrefix("seccomp:"): o.seccomp = .file(String(opt.dropFirst(8)))
        default:
            throw SkiffError(
                "--security-opt \(opt): expected no-new-privileges, seccomp=unconfined or "
                    + "seccomp=FILE")
        }
    }
    o.ulimits = args.all("ulimit")
    o.initProcess = args.bool("init")
    return o
}
