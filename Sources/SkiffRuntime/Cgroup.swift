// Cgroup v2: where a container's cgroup lives and what the kernel says about it.
import Glibc

public enum Cgroup {
    /// The cgroup2 mount point.
    public static let mountPoint = "/sys/fs/cgroup"

    /// Is the container's cgroup frozen (paused)? `path` is relative to the cgroup2 root.
    static func isFrozen(_ path: String) -> Bool {
        guard !path.isEmpty, let text = readText(mountPoint + "/" + path + "/cgroup.freeze") else { return false }
        return text.hasPrefix("1")
    }
}
