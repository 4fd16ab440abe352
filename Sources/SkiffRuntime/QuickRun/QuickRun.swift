// `skiff run --rootfs DIR|TARBALL [flags] [COMMAND...]`: a container from Docker-like
// flags, without a bundle. This file turns those flags into an OCI spec, with Docker's
// defaults (capabilities, masked paths, the default seccomp profile, /bin/sh); `skiff
// spec` with the same flags writes that spec as config.json instead.
import Glibc
import SkiffSpec

public struct QuickRunOptions {
    public enum SeccompChoice {
        case defaultProfile, unconfined
        case file(String)
    }

    public var rootfs = ""
    public var command: [String] = []
    public var entrypoint: String?
    public var tty = false
    public var interactive = false
    public var env: [String] = []
    public var workdir: String?
    public var user: String?
    public var hostname: String?
    public var volumes: [String] = []
    public var tmpfs: [String] = []
    public var readOnly = false
    public var memory: Int64?
    public var memorySwap: Int64?
    public var cpus: Double?
    public var pidsLimit: Int64?
    public var network = "bridge"
    public var publish: [String] = [] // -p, Network/ContainerNetwork.swift
    public var dns: [String] = []
    public var addHosts: [String] = []
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var noNewPrivileges = false
    public var seccomp = SeccompChoice.defaultProfile
    public var ulimits: [String] = []
    /// --init: a small init of Skiff's as pid 1 (InitReaper.swift).
    public var initProcess = false
    /// --restart, for detached containers (Detached.swift).
    public var restart: RestartPolicy?
    /// Where named volumes live (DATA/volumes/NAME, Volumes.swift).
    public var dataRoot = StateStore.dataRoot
    public init() {}
}

public enum QuickRun {
    /// Docker's default capability set.
    public static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// Docker's masked and read-only paths.
    static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The spec for these options; `id` names the container (and its default hostname).
    public static func spec(_ o: QuickRunOptions, id: String) throws -> Spec {
        var spec = Spec.runcDefault()
        spec.hostname = o.hostname ?? String(id.prefix(63))
        spec.root = Root(path: o.rootfs, readonly: o.readOnly)
        spec.annotations = [OverlayLayers.annotation: "true"]
        if o.initProcess { spec.annotations?[InitReaper.annotation] = "true" }
        if let r = o.restart, r.mode != .no { spec.annotations?[RestartPolicy.annotation] = r.text }

        var process = spec.process!
        process.terminal = o.tty
        var args = o.command.isEmpty ? ["/bin/sh"] : o.command
        if let entry = o.entrypoint { args = [entry] + o.command }
        process.args = args
        var env = ["PATH=" + ProcessSetup.defaultPath, "HOSTNAME=" + (spec.hostname ?? id)]
        if o.tty { env.append("TERM=xterm") }
        for kv in o.env {
            let key = kv.split(separator: "=", maxSplits: 1).first.map(String.init) ?? kv
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append(kv)
        }
        process.env = env
        process.cwd = o.workdir ?? "/"
        if let user = o.user { process.user = try resolveUser(user, rootfs: o.rootfs) }
        var caps = Set(defaultCapabilities)
        // As docker does: drops first (ALL empties the set), then adds.
        for c in o.capDrop { if c.uppercased() == "ALL" { caps.removeAll() } else { caps.remove(capName(c)) } }
        for c in o.capAdd {
            if c.uppercased() == "ALL" { caps.formUnion(LinuxCapabilities.knownNames) } else { caps.insert(capName(c)) }
        }
        let capList = caps.sorted()
        process.capabilities = LinuxCapabilities(bounding: capList, effective: capList, permitted: capList)
        process.noNewPrivileges = o.noNewPrivileges
        process.rlimits = try rlimits(o.ulimits)
        spec.process = process

        var mounts = spec.mounts ?? []
        var namedVolumes: [String] = []
        for v in o.volumes {
            if let (mount, name) = try Volumes.namedVolumeMount(v, dataRoot: o.dataRoot) {
                mounts.append(mount)
                namedVolumes.append(name)
                continue
            }
            mounts.append(try volume(v))
        }
        for t in o.tmpfs {
            guard t.hasPrefix("/") else { throw SkiffError("--tmpfs \(t): must be an absolute path in the container") }
            mounts.append(
                Mount(destination: t, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]))
        }
        spec.mounts = mounts

        var linux = spec.linux!
        switch o.network {
        case "none": break
        case "host":
            // (sysfs is still mounted fresh: real root may; Rootfs falls back to binding the
            // host's where the kernel refuses, e.g. in a user namespace.)
            linux.namespaces = linux.namespaces?.filter { $0.type != .network }
        default: try NetworkStore.validate(name: o.network, flag: "--network") // bridge or a user network
        }
        // The network, ports and DNS files are made at create time, from these annotations.
        try QuickRun.networkAnnotations(o, into: &spec)
        linux.maskedPaths = maskedPaths
        linux.readonlyPaths = readonlyPaths
        var resources = LinuxResources()
        if o.memory != nil || o.memorySwap != nil {
            resources.memory = LinuxMemory(limit: o.memory, swap: o.memorySwap)
        }
        if let cpus = o.cpus {
            guard cpus > 0 else { throw SkiffError("--cpus \(cpus): must be positive") }
            resources.cpu = LinuxCPU(quota: Int64(cpus * 100_000), period: 100_000)
        }
        if let pids = o.pidsLimit { resources.pids = LinuxPids(limit: pids) }
        linux.resources = resources.memory == nil && resources.cpu == nil && resources.pids == nil ? nil : resources
        switch o.seccomp {
        case .defaultProfile: linux.seccomp = LinuxSeccomp.skiffDefault(capabilities: capList) // SeccompProfile.swift
        case .unconfined: linux.seccomp = nil
        case .file(let path):
            guard let bytes = readFile(path) else { throw SkiffError("--security-opt seccomp=\(path): \(errnoText())") }
            do { linux.seccomp = try JSONCodec.decode(LinuxSeccomp.self, from: bytes) } catch {
                throw SkiffError("--security-opt seccomp=\(path): \(error)")
            }
        }
        spec.linux = linux
        do { try spec.validate() } catch { throw SkiffError("the flags make an invalid config: \(error)") }
        // Named volumes are made last, once every flag has been accepted (created on first use).
        for name in namedVolumes { try Volumes(dataRoot: o.dataRoot).create(name) }
        return spec
    }

    /// HOST:CTR[:ro|rw] → a bind mount.
    static func volume(_ v: String) throws -> Mount {
        let parts = v.split(separator: ":").map(String.init)
        guard parts.count == 2 || parts.count == 3, parts[0].hasPrefix("/"), parts[1].hasPrefix("/") else {
            throw SkiffError("--volume \(v): expected /host/path:/container/path[:ro]")
        }
        var options = ["rbind"]
        if parts.count == 3 {
            guard parts[2] == "ro" || parts[2] == "rw" else {
                throw SkiffError("--volume \(v): unknown mode \"\(parts[2])\" (ro or rw)")
            }
            options.append(parts[2])
        }
        guard fileExists(parts[0]) else { throw SkiffError("--volume \(v): \(parts[0]): \(errnoText())") }
        return Mount(destination: parts[1], type: "bind", source: parts[0], options: options)
    }

    /// nofile=1024:2048 or nproc=64 → rlimits.
    static func rlimits(_ ulimits: [String]) throws -> [POSIXRlimit] {
        var out: [POSIXRlimit] = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
        for u in ulimits {
            let kv = u.split(separator: "=", maxSplits: 1)
            let values = kv.count == 2 ? kv[1].split(separator: ":").compactMap { UInt64($0) } : []
            guard kv.count == 2, values.count == 1 || values.count == 2 else {
                throw SkiffError(
                    "--ulimit \(u): "
                        + "expected NAME=SOFT[:HARD]")
            }
            let type = "RLIMIT_" + kv[0].uppercased()
            guard ProcessSetup.rlimitResource(type) != nil else {
                throw SkiffError(
                    "--ulimit \(u): unknown limit "
                        + "\"\(kv[0])\"")
            }
            out.removeAll { $0.type == type }
            out.append(POSIXRlimit(type: type, hard: values.last!, soft: values[0]))
        }
        return out
    }

    static func capName(_ c: String) -> String {
        let up = c.uppercased()
        return up.hasPrefix("CAP_") ? up : "CAP_" + up
    }

    /// "uid[:gid]" as numbers, or a user name from the image's /etc/passwd.
    static func resolveUser(_ text: String, rootfs: String) throws -> User {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let passwd = imageFile(rootfs, "/etc/passwd") ?? ""
        var uid: UInt32?
        var gid: UInt32?
        if let n = UInt32(parts[0]) {
            uid = n
        } else {
            for line in passwd.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count >= 4, f[0] == parts[0] {
                    uid = UInt32(f[2])
                    gid = UInt32(f[3])
                }
            }
        }
        guard let u = uid else { throw SkiffError("--user \(text): no user \"\(parts[0])\" in \(rootfs)/etc/passwd") }
        if parts.count == 2 {
            guard let g = UInt32(parts[1]) else { throw SkiffError("--user \(text): the group must be a number") }
            gid = g
        }
        return User(uid: u, gid: gid ?? u)
    }

    /// A small text file of the image, read by skiff on the host: resolved inside the
    /// rootfs (its symlinks cannot lead to the host's files), a regular file only, and at
    /// most 1 MiB (`/etc/passwd -> /dev/zero` would otherwise eat memory; review L4).
    static func imageFile(_ rootfs: String, _ path: String) -> String? {
        guard let root = try? RootDir(path: rootfs) else { return nil }
        defer { root.close() }
        guard let fd = try? root.open(path, flags: O_RDONLY) else { return nil }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= 1 << 20 else { return nil }
        var buf = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = read(fd, &buf, buf.count)
        return n < 0 ? nil : String(decoding: buf[0..<n], as: UTF8.self)
    }

    /// A fresh container name: skiff- and 8 hex digits.
    public static func generatedName() -> String {
        let n = UInt32.random(in: 0...UInt32.max)
        let hex = String(n, radix: 16)
        return "skiff-" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
