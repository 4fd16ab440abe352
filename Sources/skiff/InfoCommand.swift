// skiff info: kernel, cgroups, overlay, seccomp, roots and containers by status.
import SkiffRuntime

enum InfoCommand: Command {
    static let name = "info"
    static let summary = "show what this host offers containers, and how many there are"
    static let arguments = ""
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        printOut(text(global.runtime.hostInfo()))
        return 0
    }

    /// "Label:            value" lines, in docker info's spirit.
    static func text(_ info: HostInfo) -> String {
        lines(info).map { "\(($0.0 + ":").padded(20))\($0.1)\n" }.joined()
    }

    /// (label, value), in order.
    static func lines(_ info: HostInfo) -> [(String, String)] {
        var out: [(String, String)] = []
        out.append(("Skiff version", skiffVersion))
        out.append(("Kernel", info.kernel))
        out.append(("CPUs", "\(info.cpus)"))
        out.append(("Total memory", info.memory.map(StatsTable.size) ?? "?"))
        // Cgroups: v2 when / is cgroup2 (or a hybrid host's v2 part); Skiff uses only v2.
        let cgroups =
            !info.cgroupV2
            ? "none usable (Skiff needs cgroup v2)"
            : info.hybridCgroups ? "2 (hybrid host: v2 at \(info.cgroupMountPoint), v1 for the rest)" : "2"
        out.append(("Cgroup version", cgroups))
        if info.cgroupV2 {
            let controllers = info.cgroupControllers
            out.append(("Cgroup controllers", controllers.isEmpty ? "(none)" : controllers.joined(separator: " ")))
        }
        let storage =
            info.overlay
            ? "overlay (overlayfs: the image as the lower layer, one upper per container)" : "overlay not available"
        out.append(("Storage", storage))
        out.append(
            (
                "Seccomp",
                (info.seccomp ? "supported" : "not supported by this kernel") + ", libseccomp \(info.libseccomp)"
            ))
        out.append(("State root", info.stateRoot))
        out.append(("Data root", info.dataRoot + " (writable layers, logs, volumes)"))
        out.append(("Containers", "\(info.containers)"))
        for s in [ContainerStatus.running, .paused, .stopped, .created] {
            out.append(("  " + s.rawValue.prefix(1).uppercased() + s.rawValue.dropFirst(), "\(info.byStatus[s] ?? 0)"))
        }
        out.append(("Volumes", "\(info.volumes)"))
        return out
    }
}
