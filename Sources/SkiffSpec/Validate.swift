// The validator: the rules of the runtime spec that can be checked on the
// document alone, without looking at the host (no system calls, no files).
//
// Decoding already guarantees the shape of the document (types, required
// fields, known enum values). The validator checks the rest: paths that
// must be absolute, values that must be in range, settings that need a
// namespace, and so on. Checks run in document order (the order of the
// fields in config.json), so the first error is the one nearest the top.
//
// This file covers the top level, `process`, `root`, `mounts`, `hooks`
// and `annotations`; ValidateLinux.swift covers `linux`.

extension Process {
    /// Checks the rules of a process on its own, e.g. the process.json of
    /// `exec --process`; errors are reported under `path`.
    public func validate(path: String = "process") throws {
        var validator = SpecValidator(spec: Spec())
        validator.checkProcess(self, path: path)
        if let first = validator.errors.first {
            throw first
        }
    }
}

extension Spec {
    /// Checks the spec's rules; throws the first `SpecError` found, in document order.
    public func validate() throws {
        if let first = validationErrors().first {
            throw first
        }
    }

    /// Every rule the spec breaks, in document order (empty when valid).
    public func validationErrors() -> [SpecError] {
        var validator = SpecValidator(spec: self)
        validator.run()
        return validator.errors
    }
}

struct SpecValidator {
    let spec: Spec
    var errors: [SpecError] = []

    init(spec: Spec) {
        self.spec = spec
    }

    mutating func fail(_ path: String, _ message: String) {
        errors.append(SpecError(path: path, message: message))
    }

    mutating func run() {
        checkVersion()
        checkProcess()
        checkRoot()
        checkUTSName(spec.hostname, field: "hostname")
        checkUTSName(spec.domainname, field: "domainname")
        checkMounts()
        checkHooks()
        checkAnnotations()
        if let linux = spec.linux {
            checkLinux(linux)
        }
    }

    // MARK: ociVersion

    mutating func checkVersion() {
        if spec.ociVersion.isEmpty {
            fail("ociVersion", "must not be empty")
        } else if !isSemVer(spec.ociVersion) {
            fail("ociVersion", "\(quoted(spec.ociVersion)) is not a SemVer 2.0.0 version")
        }
    }

    // MARK: process

    mutating func checkProcess() {
        guard let process = spec.process else {
            fail("process", "missing required field")
            return
        }
        checkProcess(process, path: "process")
    }

    /// The checks of one process; `path` is where it sits ("process").
    mutating func checkProcess(_ process: Process, path: String) {
        if let umask = process.user.umask, umask > 0o777 {
            fail("\(path).user.umask", "must be at most 0777")
        }

        let args = process.args ?? []
        if args.isEmpty {
            fail("\(path).args", "must contain at least one element")
        } else if args[0].isEmpty {
            fail("\(path).args[0]", "must not be empty")
        }

        checkEnv(process.env, path: "\(path).env")

        if !isAbsolute(process.cwd) {
            fail("\(path).cwd", "must be absolute")
        }

        if let caps = process.capabilities {
            let sets: [(String, [String]?)] = [
                ("bounding", caps.bounding), ("effective", caps.effective),
                ("inheritable", caps.inheritable), ("permitted", caps.permitted),
                ("ambient", caps.ambient),
            ]
            for (name, list) in sets {
                for (i, cap) in (list ?? []).enumerated() where LinuxCapabilities.number(of: cap) == nil {
                    fail("\(path).capabilities.\(name)[\(i)]", "unknown capability \(quoted(cap))")
                }
            }
        }

        var seenRlimits: Set<String> = []
        for (i, rlimit) in (process.rlimits ?? []).enumerated() {
            let rlimitPath = "\(path).rlimits[\(i)]"
            if !POSIXRlimit.knownTypes.contains(rlimit.type) {
                fail("\(rlimitPath).type", "unknown rlimit \(quoted(rlimit.type))")
            } else if !seenRlimits.insert(rlimit.type).inserted {
                fail("\(rlimitPath).type", "duplicate rlimit \(quoted(rlimit.type))")
            }
            if rlimit.soft > rlimit.hard {
                fail(rlimitPath, "soft limit \(rlimit.soft) exceeds hard limit \(rlimit.hard)")
            }
        }

        if let adj = process.oomScoreAdj, !(-1000...1000).contains(adj) {
            fail("\(path).oomScoreAdj", "must be between -1000 and 1000")
        }

        if let scheduler = process.scheduler {
            checkScheduler(scheduler, path: "\(path).scheduler")
        }

        if let io = process.ioPriority, !(0...7).contains(io.priority) {
            fail("\(path).ioPriority.priority", "must be between 0 and 7")
        }

        if let affinity = process.execCPUAffinity {
            checkCPUList(affinity.initial, path: "\(path).execCPUAffinity.initial", what: "CPU list")
            checkCPUList(affinity.final, path: "\(path).execCPUAffinity.final", what: "CPU list")
        }
    }

    /// The rules of sched_setattr(2), as runc checks them.
    mutating func checkScheduler(_ s: Scheduler, path: String) {
        if let nice = s.nice, !(-20...19).contains(nice) {
            fail("\(path).nice", "must be between -20 and 19")
        }
        if let priority = s.priority, priority != 0 {
            if s.policy != .fifo && s.policy != .rr {
                fail("\(path).priority", "only allowed with SCHED_FIFO or SCHED_RR")
            } else if !(1...99).contains(priority) {
                fail("\(path).priority", "must be between 1 and 99")
            }
        }
        if s.policy != .deadline {
            for (name, value) in [("runtime", s.runtime), ("deadline", s.deadline), ("period", s.period)]
            where (value ?? 0) != 0 {
                fail("\(path).\(name)", "only allowed with SCHED_DEADLINE")
            }
        }
    }

    /// Environment entries must look like KEY=VALUE with a non-empty KEY.
    mutating func checkEnv(_ env: [String]?, path: String) {
        for (i, entry) in (env ?? []).enumerated() {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                fail("\(path)[\(i)]", "expected KEY=VALUE")
                continue
            }
        }
    }

    // MARK: root

    mutating func checkRoot() {
        guard let root = spec.root else {
            fail("root", "missing required field")
            return
        }
        if root.path.isEmpty {
            fail("root.path", "must not be empty")
        }
    }

    // MARK: hostname, domainname

    /// Setting the hostname or domain name changes it for everyone sharing
    /// the UTS namespace, so the container needs a UTS namespace: a new one, or one
    /// joined by path, which is then the container's (runc's rule too).
    mutating func checkUTSName(_ value: String?, field: String) {
        guard let value, !value.isEmpty else { return }
        if spec.linux?.namespace(.uts) == nil {
            fail(field, "requires a uts namespace")
        }
    }

    // MARK: mounts

    mutating func checkMounts() {
        for (i, mount) in (spec.mounts ?? []).enumerated() {
            let path = "mounts[\(i)]"
            if !isAbsolute(mount.destination) {
                fail("\(path).destination", "must be absolute")
            } else if let why = procMountProblem(mount) {
                fail("\(path).destination", why)
            }
            checkIDMappings(mount.uidMappings, path: "\(path).uidMappings")
            checkIDMappings(mount.gidMappings, path: "\(path).gidMappings")
        }
    }

    /// Nothing may be mounted inside /proc (runc's checkProcMount): a volume at /proc/1/fd
    /// or /proc/self would redirect what the runtime itself reads there, and a mount over
    /// /proc/sys or /proc/sysrq-trigger would undo the masks. Only procfs on /proc, and the
    /// files lxcfs emulates, are allowed.
    func procMountProblem(_ mount: Mount) -> String? {
        let dest = cleanPath(mount.destination)
        guard dest == "/proc" || dest.hasPrefix("/proc/") else { return nil }
        if dest == "/proc" {
            let isBind = mount.type == "bind" || (mount.options ?? []).contains { $0 == "bind" || $0 == "rbind" }
            return mount.type == "proc" || isBind ? nil : "only procfs can be mounted on /proc"
        }
        return lxcfsProcFiles.contains(dest) ? nil : "\(mount.destination) cannot be mounted because it is inside /proc"
    }

    mutating func checkIDMappings(_ mappings: [LinuxIDMapping]?, path: String) {
        for (i, mapping) in (mappings ?? []).enumerated() {
            if mapping.size == 0 {
                fail("\(path)[\(i)].size", "must be positive")
            } else if UInt64(mapping.containerID) + UInt64(mapping.size) > 1 << 32
                || UInt64(mapping.hostID) + UInt64(mapping.size) > 1 << 32
            {
                fail("\(path)[\(i)]", "range exceeds the 32-bit ID space")
            }
        }
    }

    // MARK: hooks

    mutating func checkHooks() {
        guard let hooks = spec.hooks else { return }
        let lists: [(String, [Hook]?)] = [
            ("prestart", hooks.prestart), ("createRuntime", hooks.createRuntime),
            ("createContainer", hooks.createContainer), ("startContainer", hooks.startContainer),
            ("poststart", hooks.poststart), ("poststop", hooks.poststop),
        ]
        for (name, list) in lists {
            for (i, hook) in (list ?? []).enumerated() {
                let path = "hooks.\(name)[\(i)]"
                if !isAbsolute(hook.path) {
                    fail("\(path).path", "must be absolute")
                }
                checkEnv(hook.env, path: "\(path).env")
                if let timeout = hook.timeout, timeout <= 0 {
                    fail("\(path).timeout", "must be positive")
                }
            }
        }
    }

    // MARK: annotations

    mutating func checkAnnotations() {
        if spec.annotations?.keys.contains("") ?? false {
            fail("annotations", "key must not be empty")
        }
    }
}

// MARK: - Helpers

/// The files under /proc that lxcfs emulates: the only mounts allowed inside /proc.
public let lxcfsProcFiles: Set<String> = [
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo", "/proc/pressure/cpu", "/proc/pressure/io", "/proc/pressure/memory",
    "/proc/sys/kernel/ns_last_pid", "/proc/net/dev",
]

/// A path with "." and ".." resolved lexically and no repeated or trailing "/".
public func cleanPath(_ path: String) -> String {
    var parts: [Substring] = []
    for p in path.split(separator: "/") {
        if p == "." { continue }
        if p == ".." {
            _ = parts.popLast()
            continue
        }
        parts.append(p)
    }
    return "/" + parts.joined(separator: "/")
}

func isAbsolute(_ path: String) -> Bool {
    path.hasPrefix("/")
}

/// Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
func isSemVer(_ version: String) -> Bool {
    var rest = Substring(version)
    var build: Substring? = nil
    if let plus = rest.firstIndex(of: "+") {
        build = rest[rest.index(after: plus)...]
        rest = rest[..<plus]
    }
    var prerelease: Substring? = nil
    if let dash = rest.firstIndex(of: "-") {
        prerelease = rest[rest.index(after: dash)...]
        rest = rest[..<dash]
    }

    func isNumber(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy(\.isASCIIDigit) && (s == "0" || s.first != "0")
    }
    func isIdentifier(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCIIDigit || $0.isASCIILetter || $0 == "-" }
    }

    let core = rest.split(separator: ".", omittingEmptySubsequences: false)
    guard core.count == 3, core.allSatisfy(isNumber) else { return false }
    if let prerelease {
        for part in prerelease.split(separator: ".", omittingEmptySubsequences: false) {
            guard isIdentifier(part) else { return false }
            // A numeric identifier must not have leading zeros.
            if part.allSatisfy(\.isASCIIDigit) && !isNumber(part) { return false }
        }
    }
    if let build {
        guard build.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier) else {
            return false
        }
    }
    return true
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
