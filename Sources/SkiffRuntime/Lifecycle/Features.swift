// What this build of Skiff implements, for `skiff features`. Each entry is added when
// the code and its tests land, never before.
import SkiffSpec

public enum Features {
    public static let namespaces = ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"]
    public static let hooks = [
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    ]
    public static let cgroupV2 = true
    public static let seccomp = true
    /// Every capability name process.capabilities may use.
    public static var capabilities: [String] { LinuxCapabilities.knownNames }
    public static var seccompActions: [String] { LinuxSeccompAction.allCases.map(\.rawValue) }
    public static var seccompOperators: [String] { LinuxSeccompOperator.allCases.map(\.rawValue) }
    public static var seccompArchitectures: [String] { SeccompFilter.supportedArchitectures }
    public static var seccompKnownFlags: [String] { SeccompFilter.knownFlags }
    public static var seccompSupportedFlags: [String] { SeccompFilter.supportedFlags }
}

/// Mount option names Skiff understands (flags and propagation).
public enum MountOptionNames {
    public static var all: [String] { Array(MountOptions.table.keys) + Array(MountOptions.propagationTable.keys) }
}
