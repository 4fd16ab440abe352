// `skiff info`: the host facts a student reads in `docker info`, from the kernel. The
// runtime gathers them; the CLI words and lays them out (Sources/skiff/InfoCommand.swift).
import Glibc

public struct HostInfo {
    /// uname: "Linux 6.1.0-13-amd64 x86_64".
    public var kernel: String
    public var cpus: Int
    /// MemTotal, in bytes.
    public var memory: UInt64?
    /// A usable cgroup v2 hierarchy, and where it is mounted.
    public var cgroupV2: Bool
    public var cgroupMountPoint: String
    /// The controllers of the v2 root (when there is one).
    public var cgroupControllers: [String]
    /// overlayfs is in /proc/filesystems.
    public var overlay: Bool
    /// The kernel has seccomp (a Seccomp: line in /proc/self/status).
    public var seccomp: Bool
    public var libseccomp: String
    public var stateRoot: String
    public var dataRoot: String
    /// Containers by status; `containers` counts them all (some may be unreadable).
    public var containers: Int
    public var byStatus: [ContainerStatus: Int]
    public var volumes: Int

    /// A hybrid host: v2 mounted somewhere else than /sys/fs/cgroup, v1 for the rest.
    public var hybridCgroups: Bool { cgroupMountPoint != "/sys/fs/cgroup" && !cgroupMountPoint.isEmpty }

    public init(
        kernel: String, cpus: Int, memory: UInt64?, cgroupV2: Bool, cgroupMountPoint: String,
        cgroupControllers: [String], overlay: Bool, seccomp: Bool, libseccomp: String, stateRoot: String,
        dataRoot: String, containers: Int, byStatus: [ContainerStatus: Int], volumes: Int
    ) {
        self.kernel = kernel
        self.cpus = cpus
        self.memory = memory
        self.cgroupV2 = cgroupV2
        self.cgroupMountPoint = cgroupMountPoint
        self.cgroupControllers = cgroupControllers
        self.overlay = overlay
        self.seccomp = seccomp
        self.libseccomp = libseccomp
        self.stateRoot = stateRoot
        self.dataRoot = dataRoot
        self.containers = containers
        self.byStatus = byStatus
        self.volumes = volumes
    }
}

extension Runtime {
    public func hostInfo() -> HostInfo {
        let u = Uname.current()
        var counts: [ContainerStatus: Int] = [:]
        let ids = store.ids()
        for id in ids { if let (_, s) = try? summary(id: id) { counts[s, default: 0] += 1 } }
        return HostInfo(
            kernel: "\(u.sysname) \(u.release) \(u.machine)",
            cpus: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
            memory: hostMemory(),
            cgroupV2: Cgroup.available,
            cgroupMountPoint: Cgroup.mountPoint,
            cgroupControllers: Cgroup.available ? Cgroup.controllers(of: "/") : [],
            overlay: (readText("/proc/filesystems") ?? "").includes("\toverlay\n"),
            seccomp: (readText("/proc/self/status") ?? "").includes("Seccomp:"),
            libseccomp: libseccompVersion(),
            stateRoot: store.root,
            dataRoot: StateStore.dataRoot,
            containers: ids.count,
            byStatus: counts,
            volumes: Volumes(dataRoot: StateStore.dataRoot).names().count)
    }
}
