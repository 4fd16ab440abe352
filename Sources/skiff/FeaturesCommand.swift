// skiff features: the runtime-spec features document (features.md), listing only what
// Skiff really implements.
import SkiffRuntime
import SkiffSpec

enum FeaturesCommand: Command {
    static let name = "features"
    static let summary = "show the features this runtime implements (JSON)"
    static let arguments = ""
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let mountOptions = (Array(MountOptionNames.all)).sorted().map { JSON.string($0) }
        let doc: JSON = [
            "ociVersionMin": "1.0.0",
            "ociVersionMax": .string(specVersion),
            "hooks": .array(Features.hooks.map { .string($0) }),
            "mountOptions": .array(mountOptions),
            "linux": [
                "namespaces": .array(Features.namespaces.map { .string($0) }),
                "cgroup": ["v1": false, "v2": .bool(Features.cgroupV2), "systemd": false, "systemdUser": false],
                "capabilities": .array(Features.capabilities.map { .string($0) }),
                "seccomp": [
                    "enabled": .bool(Features.seccomp),
                    "actions": .array(Features.seccompActions.map { .string($0) }),
                    "operators": .array(Features.seccompOperators.map { .string($0) }),
                    "archs": .array(Features.seccompArchitectures.map { .string($0) }),
                    "knownFlags": .array(Features.seccompKnownFlags.map { .string($0) }),
                    "supportedFlags": .array(Features.seccompSupportedFlags.map { .string($0) }),
                ],
                "apparmor": ["enabled": false],
                "selinux": ["enabled": false],
            ],
            "annotations": [
                "org.opencontainers.runc.checkpoint.enabled": "false",
                "io.github.skiff.version": .string(skiffVersion),
                "io.github.seccomp.libseccomp.version": .string(libseccompVersion()),
            ],
        ]
        printOut(doc.serialized(indent: "    ") + "\n")
        return 0
    }
}
