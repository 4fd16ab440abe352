// Device control where no cgroup v2 device program can be attached.
//
// linux.resources.devices is the only thing that keeps a container from opening the
// host's disks: the container may hold CAP_MKNOD (Docker's defaults do), its rootfs may
// ship device nodes, and the default seccomp profile allows mknod. On cgroup v2 the rules
// are a BPF program on the container's cgroup (DeviceFilter.swift). On a host without a
// usable cgroup2 hierarchy (cgroup v1 only, a read-only or covered cgroup2 mount) runc
// writes the same rules to the cgroup v1 "devices" controller, and so does Skiff:
//
//   mkdir /sys/fs/cgroup/devices/skiff/<cgroup name>
//   echo 'a *:* rwm' > devices.deny          (the default spec's first rule: deny all)
//   echo 'c 1:3 rwm' > devices.allow         (each later rule, in order, with the default
//                                             devices: DeviceFilter.effectiveRules)
//   echo 0 > tasks                            (init itself, before any of the container's setup)
//
// Where neither exists, `create` refuses: running without device rules would be a
// container that can read the host's disks (security review, finding H2).
// This is the only cgroup v1 code in Skiff: limits (memory, cpu, pids) need cgroup v2.
import CShim
import Glibc
import SkiffSpec

enum DeviceCgroupV1 {
    /// The mount point of the v1 devices controller ("" when there is none, or it is
    /// covered by another mount).
    static let mountPoint: String =
        CgroupV1Mount.mounted.first { $0.mountRoot == "/" && $0.options.contains("devices") }?.mountPoint ?? ""

    static var available: Bool { !mountPoint.isEmpty }

    /// The lines to write, in order: (file, line). The v1 controller keeps an allow list
    /// per cgroup; a rule for every device ("a") replaces the whole list. The rules are the
    /// BPF program's (DeviceFilter.effectiveRules): the spec's, with the devices every
    /// container needs (/dev/null, zero, tty, pts...) allowed after its last "all" rule, as
    /// runc does on v1 too. Without them the usual first rule, deny all, leaves a container
    /// that cannot even open /dev/null.
    static func lines(_ rules: [LinuxDeviceCgroup]) -> [(file: String, line: String)] {
        DeviceFilter.effectiveRules(rules).map { r in
            let access =
                (r.access & DeviceFilter.accRead != 0 ? "r" : "") + (r.access & DeviceFilter.accWrite != 0 ? "w" : "")
                + (r.access & DeviceFilter.accMknod != 0 ? "m" : "")
            let numbers = "\(r.major.map(String.init) ?? "*"):\(r.minor.map(String.init) ?? "*")"
            let line = r.type == "a" ? "a *:* \(access)" : "\(r.type) \(numbers) \(access)"
            return (r.allow ? "devices.allow" : "devices.deny", line)
        }
    }

    /// Make the container's devices cgroup (`name` is its cgroup path, e.g. "/skiff/ID")
    /// with the rules written. Returns the directory.
    static func create(_ name: String, rules: [LinuxDeviceCgroup]) throws -> String {
        let dir = mountPoint + name
        try mkdirAll(dirname(of: dir))
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw SkiffError("devices cgroup \(dir): \(errnoText())") }
        do {
            // Deny everything first, whatever the rules say, then apply them in order.
            try write(dir, "devices.deny", "a *:* rwm")
            for (file, line) in lines(rules) { try write(dir, file, line) }
        } catch {
            remove(dir)
            throw error
        }
        return dir
    }

    private static func write(_ dir: String, _ file: String, _ line: String) throws {
        try Explain.step("device rule", "write \(dir)/\(file) = \(line)") {
            do { try writeKernelFile(dir + "/" + file, line) } catch {
                throw SkiffError(
                    "linux.resources.devices: \(file) \"\(line)\": \((error as? SkiffError)?.message ?? "\(error)")")
            }
        }
    }

    /// Open the cgroup's `tasks` file, for a process to move itself in with `joinSelf`.
    static func openTasks(_ dir: String) throws -> Int32 {
        try sys("open \(dir)/tasks") { open(dir + "/tasks", O_WRONLY | O_CLOEXEC) }
    }

    /// Move the calling process into the cgroup whose `tasks` file `fd` is: init, first thing
    /// after the clone; skiff exec, before it clones the new process (which inherits it).
    /// Both are single-threaded, so moving the calling thread ("0" in `tasks`) moves the whole
    /// process. Why not the pid in cgroup.procs: moving a thread group takes the kernel's
    /// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period (5-15 ms
    /// here, every time); the current thread alone needs no such lock (kernel/cgroup,
    /// cgroup_procs_write_start), and the move takes microseconds. The file was opened by
    /// skiff as root: the kernel checks the opener's credentials, not the writer's.
    static func joinSelf(_ fd: Int32, dir: String) throws {
        try Explain.step("join cgroup", "write \(dir)/tasks = 0 (this process)") {
            try sys("join the devices cgroup \(dir)") { Glibc.write(fd, "0", 1) == 1 ? 0 : -1 }
        }
    }

    /// Kill what is left in it and remove it.
    static func remove(_ dir: String) {
        guard isDirectory(dir) else { return }
        for _ in 0..<500 {
            let pids = (readText(dir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
            for pid in pids { Glibc.kill(pid, SIGKILL) }
            if rmdir(dir) == 0 || errno == ENOENT { break }
            sleepMillis(10)
        }
        _ = rmdir(dirname(of: dir)) // "/skiff": EBUSY while other containers use it
    }
}
