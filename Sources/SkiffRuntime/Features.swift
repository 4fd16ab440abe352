// What this build of Skiff implements, for `skiff features`. Each entry is added when
// the code and its tests land, never before.
public enum Features {
    public static let namespaces = ["cgroup", "ipc", "mount", "network", "pid", "uts"]
    public static let hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    public static let cgroupV2 = false
    public static let seccomp = false
}

/// Mount option names Skiff understands (flags and propagation).
public enum MountOptionNames {
    public static var all: [String] { Array(MountOptions.table.keys) + Array(MountOptions.propagationTable.keys) }
}
