// A container's cgroup through its life, and the commands that work on it.
//
//   create   ContainerCgroup.create: check the controllers, make the cgroup, write the
//            limits; clone3(CLONE_INTO_CGROUP) puts init in it before init runs any of
//            its own code; once init reports "ready" (its mounts and device nodes are
//            made) the device filter is attached, before the user's program can run.
//   pause    cgroup.freeze = 1 (status "paused"), resume = 0
//   kill -a  every process of the cgroup (cgroup.kill for SIGKILL)
//   ps       cgroup.procs
//   events   stats (runc's JSON) every interval, "oom" when memory.events oom_kill grows
//   update   new limits, written live and kept in the saved config
//   delete   kill what is left, remove the cgroup
import CShim
import Glibc
import SkiffSpec

/// The cgroup of a container being created.
final class ContainerCgroup {
    /// Relative to the hierarchy's root: "/skiff/ID".
    let path: String
    /// Directories made by create (outermost first), removed again if create fails.
    let made: [String]
    let devices: [LinuxDeviceCgroup]
    /// Open on the cgroup directory: for CLONE_INTO_CGROUP and BPF_PROG_ATTACH.
    private(set) var fd: Int32 = -1
    /// Without a usable cgroup v2 hierarchy: the cgroup v1 devices directory that holds
    /// the device rules (DeviceCgroupV1.swift); `path` is then "".
    private(set) var deviceV1Dir: String?
    /// Open on its `tasks` file (-1: none): init moves itself in (DeviceCgroupV1.joinSelf).
    private(set) var deviceV1Tasks: Int32 = -1
    /// What init needs to join the v1 devices cgroup itself: its directory and `tasks` fd.
    var deviceV1Join: (dir: String, tasks: Int32)? { deviceV1Dir.map { ($0, deviceV1Tasks) } }

    private init(path: String, made: [String], devices: [LinuxDeviceCgroup]) {
        self.path = path
        self.made = made
        self.devices = devices
    }

    /// No cgroup v2 of our own: device rules through cgroup v1, or refuse (finding H2).
    private static func devicesOnly(id: String, spec: Spec, root: String, why: String) throws -> ContainerCgroup {
        let rules = spec.linux?.resources?.devices ?? []
        guard DeviceCgroupV1.available else {
            throw SkiffError(
                "no device cgroup for container \(id): \(why), and there is no cgroup v1 devices controller; "
                    + "refusing to run a container that could open the host's devices"
            )
        }
        let (name, _) = try Cgroup.containerPath(spec.linux?.cgroupsPath, id: id, root: root)
        Log.debug("no cgroup v2 for container \(id) (\(why)): device rules go to the cgroup v1 devices controller")
        let cgroup = ContainerCgroup(path: "", made: [], devices: rules)
        let dir = try DeviceCgroupV1.create(name, rules: rules)
        cgroup.deviceV1Dir = dir
        do { cgroup.deviceV1Tasks = try DeviceCgroupV1.openTasks(dir) } catch {
            DeviceCgroupV1.remove(dir)
            throw error
        }
        return cgroup
    }

    deinit {
        if fd >= 0 { close(fd) }
        if deviceV1Tasks >= 0 { close(deviceV1Tasks) }
    }

    /// The controllers `events --stats` reads; they are enabled when the hierarchy has them.
    static let statControllers = ["cpu", "memory", "pids", "io"]

    /// Make the container's cgroup with its limits written. When this host has no cgroup2
    /// hierarchy (or no usable one) and the spec asks for no controller, only the device
    /// rules, in cgroup v1. Throws, leaving nothing behind, when a requested controller is
    /// missing or no device rules can be enforced at all.
    static func create(id: String, spec: Spec, root: String) throws -> ContainerCgroup {
        let resources = spec.linux?.resources
        let needed = try CgroupResources.requirements(resources)
        guard Cgroup.available else {
            if let n = needed.first {
                throw SkiffError(
                    "\(n.field): the \(n.controller) controller is not available: no cgroup v2 hierarchy is "
                        + "mounted (skiff supports cgroup v2 only)"
                )
            }
            return try devicesOnly(id: id, spec: spec, root: root, why: "no cgroup v2 hierarchy is mounted")
        }
        let (path, base) = try Cgroup.containerPath(spec.linux?.cgroupsPath, id: id, root: root)
        let available = Cgroup.controllers(of: base)
        if let n = needed.first(where: { !available.contains($0.controller) }) {
            throw unavailable(n.controller, field: n.field, base: base, available: available)
        }
        var enable = needed.map(\.controller)
        for c in statControllers where available.contains(c) && !enable.contains(c) { enable.append(c) }
        let made: [String]
        do {
            made = try Cgroup.make(path, base: base, enable: enable)
        } catch let error as SkiffError where needed.isEmpty && [EROFS, EACCES, EPERM].contains(error.code) {
            // A read-only or foreign hierarchy (skiff inside some other container): a
            // container without limits can still run, without a cgroup of its own.
            return try devicesOnly(id: id, spec: spec, root: root, why: error.message)
        }
        let cgroup = ContainerCgroup(path: path, made: made, devices: resources?.devices ?? [])
        do {
            cgroup.fd = try sys("open cgroup \(Cgroup.directory(path))") { Cgroup.openDirectory(path) }
            try CgroupResources.apply(resources, to: path)
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }

    static func unavailable(_ controller: String, field: String, base: String, available: [String]) -> SkiffError {
        SkiffError(
            "\(field): the \(controller) controller is not available in the cgroup v2 hierarchy at "
                + "\(Cgroup.directory(base)) (available: "
                + "\(available.isEmpty ? "none" : available.joined(separator: " ")))"
        )
    }

    /// The device rules, as a BPF program on the cgroup. Called when init is ready: its
    /// device nodes exist, the user's program has not started.
    func attachDeviceFilter() throws {
        if deviceV1Dir != nil { return } // written before init joined
        try DeviceFilter.attach(devices, cgroupFd: fd, path: path)
    }

    /// Undo create: kill whatever got in, remove the directories made.
    func destroy() {
        if let dir = deviceV1Dir {
            DeviceCgroupV1.remove(dir)
            return
        }
        try? Cgroup.killAndWait(path)
        if made.isEmpty { return }
        for dir in made.reversed() { _ = rmdir(Cgroup.directory(dir)) }
    }

    // MARK: after create

    /// delete's part: kill what is left in the container's cgroup, then remove it.
    static func remove(_ record: ContainerRecord) throws {
        if let dir = record.deviceCgroupV1 { DeviceCgroupV1.remove(dir) }
        guard Cgroup.available, !record.cgroupPath.isEmpty else { return }
        try Cgroup.killAndWait(record.cgroupPath)
        try Cgroup.remove(record.cgroupPath)
    }

    /// After a foreground container exited: if the OOM killer struck in its cgroup, say so
    /// on stderr (the exit status alone, 137, does not tell why).
    static func reportOOM(_ record: ContainerRecord, exitCode: Int32) {
        guard Cgroup.available, !record.cgroupPath.isEmpty else { return }
        let kills = CgroupStats.oomKills(record.cgroupPath)
        guard kills > 0 else { return }
        let limit =
            CgroupStats.number(Cgroup.directory(record.cgroupPath) + "/memory.max").map(CgroupStats.humanBytes)
            ?? "unknown"
        let message =
            exitCode == 128 + SIGKILL
            ? "container process was killed by the kernel's OOM killer (memory limit \(limit))"
            : "\(kills) process\(kills == 1 ? " was" : "es were") killed by the kernel's OOM killer in the "
                + "container (memory limit \(limit))"
        if Log.toFile { Log.warn(message) }
        try? writeAll(2, Array("skiff: \(message)\n".utf8))
    }

    /// What to say when init died during setup: an OOM kill is the likely story with a
    /// tiny memory limit.
    static func setupDeathReason(path: String) -> String? {
        guard !path.isEmpty, CgroupStats.oomKills(path) > 0 else { return nil }
        let limit =
            CgroupStats.number(Cgroup.directory(path) + "/memory.max").map(CgroupStats.humanBytes) ?? "unknown"
        return "container init was killed by the kernel's OOM killer during setup (memory limit \(limit))"
    }
}

// MARK: - The commands

extension Runtime {
    /// The record of a container whose cgroup a command needs.
    private func cgroupRecord(_ id: String, _ what: String) throws -> (ContainerRecord, ContainerStatus) {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard Cgroup.available, !record.cgroupPath.isEmpty else {
            throw SkiffError("container \"\(id)\" has no cgroup (\(what) needs cgroup v2)")
        }
        return (record, status)
    }

    /// Freeze every process of the container (cgroup.freeze).
    public func pause(id: String) throws {
        let (record, status) = try cgroupRecord(id, "pause")
        guard status == .running || status == .created else {
            throw SkiffError(
                status == .paused ? "container \"\(id)\" is already paused" : "container \"\(id)\" is not running")
        }
        try Cgroup.setFrozen(record.cgroupPath, true)
    }

    /// Thaw a paused container.
    public func resume(id: String) throws {
        let (record, _) = try cgroupRecord(id, "resume")
        guard Cgroup.isFrozen(record.cgroupPath) else { throw SkiffError("container \"\(id)\" is not paused") }
        try Cgroup.setFrozen(record.cgroupPath, false)
    }

    /// The pids (in skiff's pid namespace) of every process in the container's cgroup.
    public func processIDs(id: String) throws -> [Int32] {
        let (record, status) = try cgroupRecord(id, "ps")
        guard status != .stopped else { throw SkiffError("container \"\(id)\" is not running") }
        return Cgroup.processes(record.cgroupPath, recursive: true)
    }

    /// runc's stats event for the container.
    public func statsEvent(id: String) throws -> String {
        let (record, status) = try cgroupRecord(id, "events")
        guard status != .stopped else { throw SkiffError("container \"\(id)\" is not running") }
        return CgroupStats.event("stats", id: id, data: CgroupStats.stats(record.cgroupPath))
    }

    /// `events`: a stats event every `intervalMillis`, an "oom" event whenever the OOM
    /// killer strikes; returns when the container has no process left.
    public func events(id: String, intervalMillis: Int, emit: (String) -> Void) throws {
        let (record, status) = try cgroupRecord(id, "events")
        guard status != .stopped else { throw SkiffError("container \"\(id)\" is not running") }
        let path = record.cgroupPath
        let dir = Cgroup.directory(path)
        // memory.events and cgroup.events signal changes to poll(2) as POLLPRI.
        var watched: [Int32] = []
        for file in ["memory.events", "cgroup.events"] {
            let fd = open(dir + "/" + file, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { watched.append(fd) }
        }
        defer { for fd in watched { close(fd) } }
        var lastOOM = CgroupStats.oomKills(path)
        var nextStats = monotonicNanos() + UInt64(intervalMillis) * 1_000_000
        while true {
            let now = monotonicNanos()
            if now >= nextStats {
                emit(CgroupStats.event("stats", id: id, data: CgroupStats.stats(path)))
                nextStats = now + UInt64(intervalMillis) * 1_000_000
            }
            var fds = watched.map { pollfd(fd: $0, events: Int16(POLLPRI), revents: 0) }
            let left: UInt64 = nextStats > monotonicNanos() ? nextStats - monotonicNanos() : 0
            let wait = Int32(min(left / 1_000_000 + 1, 1000))
            _ = poll(&fds, nfds_t(fds.count), wait)
            for p in fds where p.revents != 0 {
                // Reading the file again re-arms the notification.
                var buf = [UInt8](repeating: 0, count: 512)
                _ = pread(p.fd, &buf, buf.count, 0)
            }
            let stopped = !Cgroup.isPopulated(path) || store.status(of: record) == .stopped
            // Read the count after the liveness check: a kill that ended the container
            // between the two reads is still reported.
            let oom = CgroupStats.oomKills(path)
            if oom > lastOOM {
                for _ in lastOOM..<oom { emit(CgroupStats.event("oom", id: id)) }
                lastOOM = oom
            }
            if stopped { return }
        }
    }

    /// `update`: write the given resources into the running container's cgroup and keep
    /// them in its saved config. Only the groups named (memory, cpu, ...) are written.
    public func update(id: String, resources: LinuxResources) throws {
        var (record, status) = try cgroupRecord(id, "update")
        guard status != .stopped else { throw SkiffError("container \"\(id)\" is not running") }
        let merged = CgroupResources.merge(record.config.linux?.resources, resources)
        let subset = CgroupResources.updateSubset(merged: merged, update: resources)
        let needed = try CgroupResources.requirements(subset)
        try ensureControllers(needed, for: record.cgroupPath)
        if merged.memory?.checkBeforeUpdate == true, let limit = subset.memory?.limit, limit > 0 {
            let usage = CgroupStats.number(Cgroup.directory(record.cgroupPath) + "/memory.current") ?? 0
            if usage >= UInt64(limit) {
                throw SkiffError("linux.resources.memory.limit: rejecting memory limit \(limit) below usage \(usage)")
            }
        }
        try CgroupResources.apply(subset, to: record.cgroupPath)
        if record.config.linux == nil { record.config.linux = Linux() }
        record.config.linux?.resources = merged
        try store.save(record)
    }

    /// Make sure the container's cgroup has the controllers: enable them in every
    /// ancestor's cgroup.subtree_control, from the root down.
    private func ensureControllers(_ needed: [(controller: String, field: String)], for path: String) throws {
        let have = Set(Cgroup.controllers(of: path))
        let missing = needed.filter { !have.contains($0.controller) }
        if missing.isEmpty { return }
        let atRoot = Cgroup.controllers(of: "/")
        if let n = missing.first(where: { !atRoot.contains($0.controller) }) {
            throw ContainerCgroup.unavailable(n.controller, field: n.field, base: "/", available: atRoot)
        }
        var current = "/"
        try Cgroup.enableControllers(missing.map(\.controller), in: current)
        for name in path.split(separator: "/").dropLast() {
            current = (current == "/" ? "" : current) + "/" + name
            try Cgroup.enableControllers(missing.map(\.controller), in: current)
        }
    }
}

extension Runtime {
    /// runc's `ps` table: run the host's ps with `psArgs`, keep its header and the lines
    /// whose PID column is one of `pids`.
    public static func psTable(pids: [Int32], psArgs: [String]) throws -> String {
        let ps = try ProcessSetup.findExecutable("ps", env: Subprocess.currentEnvironment())
        // ps exits 1 when no process matched; its header is still wanted.
        let (_, stdout, stderr) = try Captured.run(ps, args: ["ps"] + psArgs, env: Subprocess.currentEnvironment())
        let output = String(decoding: stdout + stderr, as: UTF8.self)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
            throw SkiffError("ps: no PID column in its output: \(output.split(separator: "\n").first ?? "")")
        }
        let wanted = Set(pids)
        var out = String(header) + "\n"
        for line in lines.dropFirst() where !line.isEmpty {
            let fields = line.split(separator: " ")
            if pidColumn < fields.count, let p = Int32(fields[pidColumn]), wanted.contains(p) { out += line + "\n" }
        }
        return out
    }
}
