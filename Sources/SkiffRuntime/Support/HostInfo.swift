// `skiff info`: the host summary a student reads in `docker info`, from the kernel.
import Glibc

extension Runtime {
    /// (label, value) lines, in order.
    public func hostInfo() -> [(String, String)] {
        var u = utsname()
        uname(&u)
        func field<T>(_ v: T) -> String {
            withUnsafeBytes(of: v) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        var out: [(String, String)] = []
        out.append(("Skiff version", skiffVersion))
        out.append(("Kernel", "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))"))
        out.append(("CPUs", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"))
        out.append(("Total memory", hostMemory().map(StatsTable.size) ?? "?"))
        // Cgroups: v2 when / is cgroup2 (or a hybrid host's v2 part); Skiff uses only v2.
        let hybrid = Cgroup.mountPoint != "/sys/fs/cgroup" && !Cgroup.mountPoint.isEmpty
        out.append(
            (
                "Cgroup version",
                Cgroup.available
                    ? (hybrid ? "2 (hybrid host: v2 at \(Cgroup.mountPoint), v1 for the rest)" : "2")
                    : "none usable (Skiff needs cgroup v2)"
            ))
        if Cgroup.available {
            let controllers = Cgroup.controllers(of: "/")
            out.append(("Cgroup controllers", controllers.isEmpty ? "(none)" : controllers.joined(separator: " ")))
        }
        let filesystems = readText("/proc/filesystems") ?? ""
        out.append(
            (
                "Storage",
                filesystems.includes("\toverlay\n")
                    ? "overlay (overlayfs: the image as the lower layer, one upper per container)"
                    : "overlay not available"
            ))
        let seccomp = (readText("/proc/self/status") ?? "").includes("Seccomp:")
        out.append(
            (
                "Seccomp",
                (seccomp ? "supported" : "not supported by this kernel") + ", libseccomp \(libseccompVersion())"
            ))
        out.append(("State root", store.root))
        out.append(("Data root", StateStore.dataRoot + " (writable layers, logs, volumes)"))
        var counts: [ContainerStatus: Int] = [:]
        let ids = store.ids()
        for id in ids { if let (_, s) = try? state(id: id) { counts[s, default: 0] += 1 } }
        out.append(("Containers", "\(ids.count)"))
        for s in [ContainerStatus.running, .paused, .stopped, .created] {
            out.append(("  " + s.rawValue.prefix(1).uppercased() + s.rawValue.dropFirst(), "\(counts[s] ?? 0)"))
        }
        out.append(("Volumes", "\(Volumes(dataRoot: StateStore.dataRoot).names().count)"))
        return out
    }
}
