// Validation of the `linux` section (see Validate.swift for the rest).

extension SpecValidator {
    mutating func checkLinux(_ linux: Linux) {
        checkUserMappings(linux)
        checkSysctl(linux)
        if let resources = linux.resources {
            checkResources(resources)
        }
        if let cgroupsPath = linux.cgroupsPath,
            cgroupsPath.split(separator: "/").contains("..")
        {
            fail("linux.cgroupsPath", "must not contain \"..\" components")
        }
        checkNamespaces(linux)
        checkDevices(linux)
        checkNetDevices(linux)
        if let seccomp = linux.seccomp {
            checkSeccomp(seccomp)
        }
        if let propagation = linux.rootfsPropagation, !propagation.isEmpty,
            !Self.propagations.contains(propagation)
        {
            fail("linux.rootfsPropagation", "unknown propagation \(quoted(propagation))")
        }
        checkPathList(linux.maskedPaths, path: "linux.maskedPaths", linux: linux)
        checkPathList(linux.readonlyPaths, path: "linux.readonlyPaths", linux: linux)
        if let rdt = linux.intelRdt {
            checkIntelRdt(rdt)
        }
        for (i, flag) in (linux.personality?.flags ?? []).enumerated() {
            // The spec defines no personality flags yet.
            fail("linux.personality.flags[\(i)]", "unknown flag \(quoted(flag))")
        }
        checkTimeOffsets(linux)
    }

    static let propagations: Set<String> = [
        "shared", "slave", "private", "unbindable",
        "rshared", "rslave", "rprivate", "runbindable",
    ]

    // MARK: User namespace

    mutating func checkUserMappings(_ linux: Linux) {
        for (field, mappings) in [("uidMappings", linux.uidMappings), ("gidMappings", linux.gidMappings)] {
            guard let mappings, !mappings.isEmpty else { continue }
            if linux.namespace(.user) == nil {
                fail("linux.\(field)", "requires a user namespace")
            }
            checkIDMappings(mappings, path: "linux.\(field)")
        }
    }

    // MARK: sysctl

    /// Only namespaced sysctls may be set, and only when the container has
    /// the namespace they belong to; anything else would change the host.
    mutating func checkSysctl(_ linux: Linux) {
        guard let sysctl = linux.sysctl else { return }
        for key in sysctl.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let path = "linux.sysctl[\(quoted(key))]"
            if key.isEmpty {
                fail("linux.sysctl", "key must not be empty")
                continue
            }
            let name = dottedSysctlName(key)
            if Self.ipcSysctls.contains(name) || name.hasPrefix("fs.mqueue.") {
                if linux.namespace(.ipc) == nil { fail(path, "requires an ipc namespace") }
            } else if name.hasPrefix("net.") {
                if linux.namespace(.network) == nil { fail(path, "requires a network namespace") }
            } else if name == "kernel.domainname" {
                if linux.namespace(.uts) == nil { fail(path, "requires a uts namespace") }
            } else if name == "kernel.hostname" {
                fail(path, "not allowed, use the hostname field")
            } else {
                fail(path, "not in a separate kernel namespace")
            }
        }
    }

    static let ipcSysctls: Set<String> = [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    ]

    /// sysctl(8) accepts "net/ipv4/ip_forward" for "net.ipv4.ip_forward":
    /// when the first separator is a '/', the roles of '/' and '.' swap.
    func dottedSysctlName(_ key: String) -> String {
        guard let first = key.first(where: { $0 == "." || $0 == "/" }), first == "/" else { return key }
        return String(key.map { $0 == "/" ? "." : $0 == "." ? "/" : $0 })
    }

    // MARK: resources

    mutating func checkResources(_ r: LinuxResources) {
        let path = "linux.resources"
        for (i, rule) in (r.devices ?? []).enumerated() {
            if let type = rule.type, !type.isEmpty, !["a", "c", "b"].contains(type) {
                fail("\(path).devices[\(i)].type", "unknown device type \(quoted(type))")
            }
            if let access = rule.access, !access.allSatisfy({ "rwm".contains($0) }) {
                fail("\(path).devices[\(i)].access", "invalid access \(quoted(access)) (use r, w and m)")
            }
        }

        if let memory = r.memory {
            let limits: [(String, Int64?)] = [
                ("limit", memory.limit), ("reservation", memory.reservation), ("swap", memory.swap),
                ("kernel", memory.kernel), ("kernelTCP", memory.kernelTCP),
            ]
            for (name, value) in limits {
                if let value, value < -1 {
                    fail("\(path).memory.\(name)", "must be -1 (unlimited) or at least 0")
                }
            }
            if let limit = memory.limit, let swap = memory.swap, limit > 0, swap > 0, swap < limit {
                fail("\(path).memory.swap", "must not be less than the memory limit (it counts memory plus swap)")
            }
            // runc reads UInt64.max (Go's -1 converted to uint64) as "unset".
            if let swappiness = memory.swappiness, swappiness > 100, swappiness != UInt64.max {
                fail("\(path).memory.swappiness", "must be between 0 and 100")
            }
        }

        if let cpu = r.cpu {
            // 0 means "unset" for shares and period, as in runc.
            if let shares = cpu.shares, shares != 0, !(2...262_144).contains(shares) {
                fail("\(path).cpu.shares", "must be between 2 and 262144")
            }
            if let quota = cpu.quota, quota < -1 {
                fail("\(path).cpu.quota", "must be -1 (unlimited) or at least 0")
            }
            if let burst = cpu.burst, let quota = cpu.quota, quota > 0, burst > UInt64(quota) {
                fail("\(path).cpu.burst", "must not exceed the quota")
            }
            if let period = cpu.period, period != 0, !(1000...1_000_000).contains(period) {
                fail("\(path).cpu.period", "must be between 1000 and 1000000")
            }
            if let runtime = cpu.realtimeRuntime, runtime < -1 {
                fail("\(path).cpu.realtimeRuntime", "must be -1 (unlimited) or at least 0")
            }
            checkCPUList(cpu.cpus, path: "\(path).cpu.cpus", what: "CPU list")
            checkCPUList(cpu.mems, path: "\(path).cpu.mems", what: "memory node list")
            if let idle = cpu.idle, idle != 0 && idle != 1 {
                fail("\(path).cpu.idle", "must be 0 or 1")
            }
        }

        if let pids = r.pids, pids.limit < -1 {
            fail("\(path).pids.limit", "must be -1 (unlimited) or at least 0")
        }

        for (i, device) in (r.blockIO?.weightDevice ?? []).enumerated()
        where device.weight == nil && device.leafWeight == nil {
            fail("\(path).blockIO.weightDevice[\(i)]", "must set weight or leafWeight")
        }

        for (i, limit) in (r.hugepageLimits ?? []).enumerated() where !isPageSize(limit.pageSize) {
            fail("\(path).hugepageLimits[\(i)].pageSize", "invalid page size \(quoted(limit.pageSize)) (e.g. \"2MB\")")
        }

        for (device, limits) in sortedEntries(r.rdma) where limits.hcaHandles == nil && limits.hcaObjects == nil {
            fail("\(path).rdma[\(quoted(device))]", "must set hcaHandles or hcaObjects")
        }

        for (file, _) in sortedEntries(r.unified) {
            if file.isEmpty || file == "." || file == ".." || file.contains("/") {
                fail("\(path).unified[\(quoted(file))]", "invalid cgroup file name")
            }
        }
    }

    /// "<size><unit-prefix>B", e.g. "64KB", "2MB", "1GB".
    func isPageSize(_ s: String) -> Bool {
        var chars = Array(s)
        guard chars.last == "B" else { return false }
        chars.removeLast()
        if let unit = chars.last, "KMGTPE".contains(unit) { chars.removeLast() }
        return !chars.isEmpty && chars.allSatisfy(\.isASCIIDigit)
    }

    /// Checks a list like "0-3,7" (CPUs or memory nodes); nil or empty means unset.
    mutating func checkCPUList(_ list: String?, path: String, what: String) {
        guard let list, !list.isEmpty else { return }
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            let numbers = bounds.compactMap { b in b.allSatisfy(\.isASCIIDigit) ? UInt32(b) : nil }
            guard (1...2).contains(bounds.count), numbers.count == bounds.count,
                numbers.first! <= numbers.last!
            else {
                fail(path, "invalid \(what) \(quoted(list))")
                return
            }
        }
    }

    // MARK: namespaces

    mutating func checkNamespaces(_ linux: Linux) {
        var seen: Set<LinuxNamespaceType> = []
        for (i, ns) in (linux.namespaces ?? []).enumerated() {
            let path = "linux.namespaces[\(i)]"
            if !seen.insert(ns.type).inserted {
                fail("\(path).type", "duplicate namespace \(quoted(ns.type.rawValue))")
            }
            if let nsPath = ns.path, !nsPath.isEmpty, !isAbsolute(nsPath) {
                fail("\(path).path", "must be absolute")
            }
        }
    }

    // MARK: devices

    mutating func checkDevices(_ linux: Linux) {
        for (i, device) in (linux.devices ?? []).enumerated() {
            let path = "linux.devices[\(i)]"
            if !isAbsolute(device.path) {
                fail("\(path).path", "must be absolute")
            }
            if !["c", "b", "u", "p"].contains(device.type) {
                fail("\(path).type", "unknown device type \(quoted(device.type))")
            }
            if device.major < 0 {
                fail("\(path).major", "must not be negative")
            }
            if device.minor < 0 {
                fail("\(path).minor", "must not be negative")
            }
        }
    }

    mutating func checkNetDevices(_ linux: Linux) {
        guard let netDevices = linux.netDevices, !netDevices.isEmpty else { return }
        if linux.namespace(.network) == nil {
            fail("linux.netDevices", "requires a network namespace")
        }
        for (name, device) in sortedEntries(netDevices) {
            if name.isEmpty || name == "." || name == ".." || name.contains("/") {
                fail("linux.netDevices[\(quoted(name))]", "invalid interface name")
            }
            if let newName = device.name, newName == "." || newName == ".." || newName.contains("/") {
                fail("linux.netDevices[\(quoted(name))].name", "invalid interface name")
            }
        }
    }

    // MARK: seccomp

    mutating func checkSeccomp(_ seccomp: LinuxSeccomp) {
        let path = "linux.seccomp"
        if seccomp.defaultAction == .notify {
            fail("\(path).defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")
        }
        if seccomp.defaultErrnoRet != nil && !seccomp.defaultAction.takesErrno {
            fail("\(path).defaultErrnoRet", "not allowed with action \(seccomp.defaultAction.rawValue)")
        }
        let usesNotify = (seccomp.syscalls ?? []).contains { $0.action == .notify }
        if usesNotify && (seccomp.listenerPath ?? "").isEmpty {
            fail("\(path).listenerPath", "required when SCMP_ACT_NOTIFY is used")
        }
        if !(seccomp.listenerMetadata ?? "").isEmpty && (seccomp.listenerPath ?? "").isEmpty {
            fail("\(path).listenerMetadata", "requires listenerPath")
        }
        for (i, rule) in (seccomp.syscalls ?? []).enumerated() {
            let rulePath = "\(path).syscalls[\(i)]"
            if rule.names.isEmpty {
                fail("\(rulePath).names", "must contain at least one element")
            }
            for (j, name) in rule.names.enumerated() where name.isEmpty {
                fail("\(rulePath).names[\(j)]", "must not be empty")
            }
            if rule.errnoRet != nil && !rule.action.takesErrno {
                fail("\(rulePath).errnoRet", "not allowed with action \(rule.action.rawValue)")
            }
            for (j, arg) in (rule.args ?? []).enumerated() where arg.index > 5 {
                fail("\(rulePath).args[\(j)].index", "must be between 0 and 5")
            }
        }
    }

    // MARK: maskedPaths, readonlyPaths

    /// Masking or remounting paths outside a mount namespace of the
    /// container's own would change the host, so one is required.
    mutating func checkPathList(_ list: [String]?, path: String, linux: Linux) {
        guard let list, !list.isEmpty else { return }
        if linux.namespace(.mount) == nil {
            fail(path, "requires a mount namespace")
        }
        for (i, entry) in list.enumerated() where !isAbsolute(entry) {
            fail("\(path)[\(i)]", "must be absolute")
        }
    }

    // MARK: intelRdt

    mutating func checkIntelRdt(_ rdt: LinuxIntelRdt) {
        if let closID = rdt.closID, closID == "." || closID == ".." || closID.contains("/") {
            fail("linux.intelRdt.closID", "invalid class of service ID \(quoted(closID))")
        }
        if let schema = rdt.memBwSchema, !schema.isEmpty {
            if !schema.hasPrefix("MB:") {
                fail("linux.intelRdt.memBwSchema", "must start with \"MB:\"")
            } else if schema.contains("\n") {
                fail("linux.intelRdt.memBwSchema", "must not contain newlines")
            }
        }
    }

    // MARK: timeOffsets

    mutating func checkTimeOffsets(_ linux: Linux) {
        guard let offsets = linux.timeOffsets, !offsets.isEmpty else { return }
        if let time = linux.namespace(.time) {
            if !linux.createsNamespace(.time) {
                fail("linux.timeOffsets", "cannot be set when joining an existing time namespace (\(time.path ?? ""))")
            }
        } else {
            fail("linux.timeOffsets", "requires a time namespace")
        }
        for (clock, offset) in sortedEntries(offsets) {
            let path = "linux.timeOffsets[\(quoted(clock))]"
            if clock != "monotonic" && clock != "boottime" {
                fail(path, "unknown clock \(quoted(clock)) (use monotonic or boottime)")
            }
            if let nanosecs = offset.nanosecs, nanosecs >= 1_000_000_000 {
                fail("\(path).nanosecs", "must be less than 1000000000")
            }
        }
    }

    /// Dictionary entries sorted by key, so errors come out in a stable order
    /// (the order in which they are written back).
    func sortedEntries<V>(_ dictionary: [String: V]?) -> [(key: String, value: V)] {
        (dictionary ?? [:]).sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}
