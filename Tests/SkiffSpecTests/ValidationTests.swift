import SkiffSpec
import XCTest

/// The error text of `Spec.parse` (decode + validate) on `json`.
func parseError(_ json: JSON) -> String? {
    errorText { try Spec.parse(bytes(json.serialized())) }
}

/// A bad config: edits applied to `minimalConfig`, and the exact error expected.
struct BadConfig {
    var edits: [(String, JSON?)]
    var expected: String
    var line: UInt

    init(_ edits: [(String, JSON?)], _ expected: String, line: UInt = #line) {
        self.edits = edits
        self.expected = expected
        self.line = line
    }

    init(_ path: String, _ value: JSON?, _ expected: String, line: UInt = #line) {
        self.init([(path, value)], expected, line: line)
    }
}

let noUTS: JSON = [["type": "pid"], ["type": "mount"]]
let fourMounts: JSON = [
    ["destination": "/proc", "type": "proc", "source": "proc"],
    ["destination": "/dev", "type": "tmpfs", "source": "tmpfs"],
    ["destination": "/sys", "type": "sysfs", "source": "sysfs"],
    ["destination": "data", "type": "bind", "source": "/srv/data", "options": ["rbind"]],
]
let nofile: JSON = ["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]

let badConfigs: [BadConfig] = [
    // ociVersion
    BadConfig("ociVersion", nil, "ociVersion: missing required field"),
    BadConfig("ociVersion", "", "ociVersion: must not be empty"),
    BadConfig("ociVersion", "1.0", "ociVersion: \"1.0\" is not a SemVer 2.0.0 version"),
    BadConfig("ociVersion", "v1.0.0", "ociVersion: \"v1.0.0\" is not a SemVer 2.0.0 version"),
    BadConfig("ociVersion", "1.0.0-01", "ociVersion: \"1.0.0-01\" is not a SemVer 2.0.0 version"),
    // process
    BadConfig("process", nil, "process: missing required field"),
    BadConfig("process.args", [], "process.args: must contain at least one element"),
    BadConfig("process.args", nil, "process.args: must contain at least one element"),
    BadConfig("process.args", [""], "process.args[0]: must not be empty"),
    BadConfig("process.args", ["sh", 1], "process.args: expected an array of strings"),
    BadConfig("process.cwd", "tmp", "process.cwd: must be absolute"),
    BadConfig("process.cwd", "", "process.cwd: must be absolute"),
    BadConfig("process.env", ["FOO"], "process.env[0]: expected KEY=VALUE"),
    BadConfig("process.env", ["A=1", "=x"], "process.env[1]: expected KEY=VALUE"),
    BadConfig("process.terminal", "yes", "process.terminal: expected a boolean"),
    BadConfig("process.user.uid", -1, "process.user.uid: expected an unsigned 32-bit integer"),
    BadConfig("process.user.umask", 0o1000, "process.user.umask: must be at most 0777"),
    BadConfig(
        "process.capabilities.bounding", ["CAP_KILL", "CAP_FOO"],
        "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""),
    BadConfig(
        "process.capabilities.ambient", ["cap_kill"],
        "process.capabilities.ambient[0]: unknown capability \"cap_kill\""),
    BadConfig(
        "process.rlimits", [["type": "RLIMIT_FOO", "hard": 1, "soft": 1]],
        "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""),
    BadConfig(
        "process.rlimits", [["type": "RLIMIT_NOFILE", "hard": 5, "soft": 10]],
        "process.rlimits[0]: soft limit 10 exceeds hard limit 5"),
    BadConfig(
        "process.rlimits", [nofile, ["type": "RLIMIT_CORE", "hard": 0, "soft": 0], nofile],
        "process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\""),
    BadConfig(
        "process.rlimits", [["type": "RLIMIT_NOFILE", "hard": 1024]],
        "process.rlimits[0].soft: missing required field"),
    BadConfig("process.oomScoreAdj", 1001, "process.oomScoreAdj: must be between -1000 and 1000"),
    BadConfig("process.oomScoreAdj", -1001, "process.oomScoreAdj: must be between -1000 and 1000"),
    BadConfig(
        "process.scheduler", ["policy": "SCHED_OTHER", "nice": 20],
        "process.scheduler.nice: must be between -20 and 19"),
    BadConfig(
        "process.scheduler", ["policy": "SCHED_OTHER", "priority": 5],
        "process.scheduler.priority: only allowed with SCHED_FIFO or SCHED_RR"),
    BadConfig(
        "process.scheduler", ["policy": "SCHED_RR", "priority": 100],
        "process.scheduler.priority: must be between 1 and 99"),
    BadConfig(
        "process.scheduler", ["policy": "SCHED_FIFO", "runtime": 1000],
        "process.scheduler.runtime: only allowed with SCHED_DEADLINE"),
    BadConfig(
        "process.ioPriority", ["class": "IOPRIO_CLASS_BE", "priority": 8],
        "process.ioPriority.priority: must be between 0 and 7"),
    BadConfig(
        "process.execCPUAffinity", ["initial": "0-", "final": "1"],
        "process.execCPUAffinity.initial: invalid CPU list \"0-\""),
    // root
    BadConfig("root", nil, "root: missing required field"),
    BadConfig("root.path", "", "root.path: must not be empty"),
    BadConfig("root.path", nil, "root.path: missing required field"),
    // hostname, domainname
    BadConfig([("hostname", "box"), ("linux.namespaces", noUTS)], "hostname: requires a uts namespace"),
    BadConfig([("hostname", "box"), ("linux", nil)], "hostname: requires a uts namespace"),
    BadConfig([("domainname", "example.org"), ("linux.namespaces", noUTS)], "domainname: requires a uts namespace"),
    // mounts
    BadConfig("mounts", ["destination": "/x"], "mounts: expected an array"),
    BadConfig("mounts", [["destination": "/proc", "type": 1]], "mounts[0].type: expected a string"),
    BadConfig("mounts", fourMounts, "mounts[3].destination: must be absolute"),
    BadConfig("mounts", [["type": "tmpfs"]], "mounts[0].destination: missing required field"),
    // nothing inside /proc (runc's checkProcMount), whatever way the path is written
    BadConfig(
        "mounts", [["destination": "/proc/1/fd", "type": "bind", "source": "/tmp"]],
        "mounts[0].destination: /proc/1/fd cannot be mounted because it is inside /proc"),
    BadConfig(
        "mounts", [["destination": "/tmp/../proc/./sys", "type": "tmpfs"]],
        "mounts[0].destination: /tmp/../proc/./sys cannot be mounted because it is inside /proc"),
    BadConfig(
        "mounts", [["destination": "/proc", "type": "tmpfs"]],
        "mounts[0].destination: only procfs can be mounted on /proc"),
    // hooks
    BadConfig("hooks.prestart", [["path": "bin/hook"]], "hooks.prestart[0].path: must be absolute"),
    BadConfig(
        "hooks.poststart", [["path": "/bin/hook", "timeout": 0]], "hooks.poststart[0].timeout: must be positive"),
    BadConfig("hooks.poststop", [["path": "/bin/hook", "timeout": -5]], "hooks.poststop[0].timeout: must be positive"),
    BadConfig(
        "hooks.createRuntime", [["path": "/bin/hook", "env": ["NOEQUALS"]]],
        "hooks.createRuntime[0].env[0]: expected KEY=VALUE"),
    // annotations
    BadConfig("annotations", ["": "x"], "annotations: key must not be empty"),
    // linux: user namespace and mappings
    BadConfig(
        "linux.uidMappings", [["containerID": 0, "hostID": 1000, "size": 1]],
        "linux.uidMappings: requires a user namespace"),
    BadConfig(
        "linux.gidMappings", [["containerID": 0, "hostID": 1000, "size": 1]],
        "linux.gidMappings: requires a user namespace"),
    BadConfig(
        [
            ("linux.namespaces[3]", ["type": "user"]),
            ("linux.uidMappings", [["containerID": 0, "hostID": 1000, "size": 0]]),
        ],
        "linux.uidMappings[0].size: must be positive"),
    // linux: sysctl
    BadConfig("linux.sysctl", ["": "1"], "linux.sysctl: key must not be empty"),
    BadConfig(
        "linux.sysctl", ["net.ipv4.ip_forward": "1"],
        "linux.sysctl[\"net.ipv4.ip_forward\"]: requires a network namespace"),
    BadConfig("linux.sysctl", ["kernel.shmmax": "1"], "linux.sysctl[\"kernel.shmmax\"]: requires an ipc namespace"),
    BadConfig(
        "linux.sysctl", ["vm.swappiness": "10"], "linux.sysctl[\"vm.swappiness\"]: not in a separate kernel namespace"),
    BadConfig(
        "linux.sysctl", ["kernel/hostname": "x"],
        "linux.sysctl[\"kernel/hostname\"]: not allowed, use the hostname field"),
    // linux: resources
    BadConfig(
        "linux.resources.devices", [["allow": false, "type": "x"]],
        "linux.resources.devices[0].type: unknown device type \"x\""),
    BadConfig(
        "linux.resources.devices", [["allow": true, "access": "rwx"]],
        "linux.resources.devices[0].access: invalid access \"rwx\" (use r, w and m)"),
    BadConfig(
        "linux.resources.devices", [["access": "rwm"]], "linux.resources.devices[0].allow: missing required field"),
    BadConfig("linux.resources.memory.limit", -2, "linux.resources.memory.limit: must be -1 (unlimited) or at least 0"),
    BadConfig(
        "linux.resources.memory.reservation", -3,
        "linux.resources.memory.reservation: must be -1 (unlimited) or at least 0"),
    BadConfig("linux.resources.memory.swap", -2, "linux.resources.memory.swap: must be -1 (unlimited) or at least 0"),
    BadConfig(
        "linux.resources.memory", ["limit": 2048, "swap": 1024],
        "linux.resources.memory.swap: must not be less than the memory limit (it counts memory plus swap)"),
    BadConfig("linux.resources.memory.swappiness", 101, "linux.resources.memory.swappiness: must be between 0 and 100"),
    BadConfig(
        "linux.resources.memory.limit", .number("99999999999999999999"),
        "linux.resources.memory.limit: 99999999999999999999 is out of range for a 64-bit integer"),
    BadConfig("linux.resources.cpu.shares", 1, "linux.resources.cpu.shares: must be between 2 and 262144"),
    BadConfig("linux.resources.cpu.shares", 262_145, "linux.resources.cpu.shares: must be between 2 and 262144"),
    BadConfig("linux.resources.cpu.quota", -2, "linux.resources.cpu.quota: must be -1 (unlimited) or at least 0"),
    BadConfig(
        "linux.resources.cpu", ["quota": 1000, "burst": 2000], "linux.resources.cpu.burst: must not exceed the quota"),
    BadConfig("linux.resources.cpu.period", 999, "linux.resources.cpu.period: must be between 1000 and 1000000"),
    BadConfig("linux.resources.cpu.cpus", "0-3,a", "linux.resources.cpu.cpus: invalid CPU list \"0-3,a\""),
    BadConfig("linux.resources.cpu.cpus", "3-1", "linux.resources.cpu.cpus: invalid CPU list \"3-1\""),
    BadConfig("linux.resources.cpu.mems", "0,,1", "linux.resources.cpu.mems: invalid memory node list \"0,,1\""),
    BadConfig("linux.resources.cpu.idle", 2, "linux.resources.cpu.idle: must be 0 or 1"),
    BadConfig("linux.resources.pids.limit", -2, "linux.resources.pids.limit: must be -1 (unlimited) or at least 0"),
    BadConfig(
        "linux.resources.blockIO.weightDevice", [["major": 8, "minor": 0]],
        "linux.resources.blockIO.weightDevice[0]: must set weight or leafWeight"),
    BadConfig(
        "linux.resources.hugepageLimits", [["pageSize": "2M", "limit": 1]],
        "linux.resources.hugepageLimits[0].pageSize: invalid page size \"2M\" (e.g. \"2MB\")"),
    BadConfig(
        "linux.resources.rdma", ["mlx5_1": [:]], "linux.resources.rdma[\"mlx5_1\"]: must set hcaHandles or hcaObjects"),
    BadConfig(
        "linux.resources.unified", ["../memory.max": "1"],
        "linux.resources.unified[\"../memory.max\"]: invalid cgroup file name"),
    // linux: cgroupsPath
    BadConfig("linux.cgroupsPath", "/a/../../b", "linux.cgroupsPath: must not contain \"..\" components"),
    BadConfig("linux.cgroupsPath", "..", "linux.cgroupsPath: must not contain \"..\" components"),
    // linux: namespaces
    BadConfig("linux.namespaces[2].type", "pidd", "linux.namespaces[2].type: unknown namespace \"pidd\""),
    BadConfig("linux.namespaces[1].type", "pid", "linux.namespaces[1].type: duplicate namespace \"pid\""),
    BadConfig("linux.namespaces[0].path", "proc/1/ns/pid", "linux.namespaces[0].path: must be absolute"),
    BadConfig("linux.namespaces[2]", "uts", "linux.namespaces[2]: expected an object"),
    // linux: devices
    BadConfig(
        "linux.devices", [["path": "/dev/x", "type": "x", "major": 1, "minor": 1]],
        "linux.devices[0].type: unknown device type \"x\""),
    BadConfig(
        "linux.devices", [["path": "dev/null", "type": "c", "major": 1, "minor": 3]],
        "linux.devices[0].path: must be absolute"),
    BadConfig(
        "linux.devices", [["path": "/dev/x", "type": "c", "major": -1, "minor": 3]],
        "linux.devices[0].major: must not be negative"),
    BadConfig("linux.netDevices", ["eth1": [:]], "linux.netDevices: requires a network namespace"),
    // linux: seccomp
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_FOO"],
        "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""),
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_FOO"]],
        "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_FOO\""),
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FOO"]],
        "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FOO\""),
    BadConfig(
        "linux.seccomp",
        [
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                [
                    "names": ["personality"], "action": "SCMP_ACT_ERRNO",
                    "args": [["index": 0, "value": 8, "op": "SCMP_CMP_FOO"]],
                ]
            ],
        ], "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""),
    BadConfig(
        "linux.seccomp",
        [
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                [
                    "names": ["personality"], "action": "SCMP_ACT_ERRNO",
                    "args": [["index": 6, "value": 8, "op": "SCMP_CMP_EQ"]],
                ]
            ],
        ], "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"),
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_ERRNO", "syscalls": [["names": [], "action": "SCMP_ACT_ALLOW"]]],
        "linux.seccomp.syscalls[0].names: must contain at least one element"),
    BadConfig(
        "linux.seccomp",
        [
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [["names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1]],
        ],
        "linux.seccomp.syscalls[0].errnoRet: not allowed with action SCMP_ACT_ALLOW"),
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1],
        "linux.seccomp.defaultErrnoRet: not allowed with action SCMP_ACT_KILL"),
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_NOTIFY"],
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"),
    BadConfig(
        "linux.seccomp",
        ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["mknod"], "action": "SCMP_ACT_NOTIFY"]]],
        "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"),
    BadConfig(
        "linux.seccomp", ["defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"],
        "linux.seccomp.listenerMetadata: requires listenerPath"),
    // linux: propagation, masked and read-only paths
    BadConfig("linux.rootfsPropagation", "weird", "linux.rootfsPropagation: unknown propagation \"weird\""),
    BadConfig("linux.maskedPaths", ["/proc/kcore", "proc/keys"], "linux.maskedPaths[1]: must be absolute"),
    BadConfig("linux.maskedPaths", ["proc/kcore"], "linux.maskedPaths[0]: must be absolute"),
    BadConfig("linux.readonlyPaths", ["proc/sys"], "linux.readonlyPaths[0]: must be absolute"),
    BadConfig(
        [("linux.readonlyPaths", ["/proc/sys"]), ("linux.namespaces", [["type": "pid"]])],
        "linux.readonlyPaths: requires a mount namespace"),
    // linux: intelRdt, personality, timeOffsets
    BadConfig("linux.intelRdt", ["closID": "../x"], "linux.intelRdt.closID: invalid class of service ID \"../x\""),
    BadConfig("linux.intelRdt", ["memBwSchema": "L3:0=1"], "linux.intelRdt.memBwSchema: must start with \"MB:\""),
    BadConfig("linux.personality", ["domain": "LINUX64"], "linux.personality.domain: unknown domain \"LINUX64\""),
    BadConfig(
        "linux.personality", ["domain": "LINUX", "flags": ["X"]], "linux.personality.flags[0]: unknown flag \"X\""),
    BadConfig("linux.timeOffsets", ["monotonic": ["secs": 10]], "linux.timeOffsets: requires a time namespace"),
    BadConfig(
        [
            ("linux.namespaces[3]", ["type": "time", "path": "/proc/1/ns/time"]),
            ("linux.timeOffsets", ["boottime": ["secs": 1]]),
        ],
        "linux.timeOffsets: cannot be set when joining an existing time namespace (/proc/1/ns/time)"),
    BadConfig(
        [("linux.namespaces[3]", ["type": "time"]), ("linux.timeOffsets", ["realtime": ["secs": 1]])],
        "linux.timeOffsets[\"realtime\"]: unknown clock \"realtime\" (use monotonic or boottime)"),
    BadConfig(
        [("linux.namespaces[3]", ["type": "time"]), ("linux.timeOffsets", ["monotonic": ["nanosecs": 1_000_000_000]])],
        "linux.timeOffsets[\"monotonic\"].nanosecs: must be less than 1000000000"),
    // the document itself
    BadConfig("", ["not", "an", "object"], "expected a JSON object"),
]

final class ValidationTests: XCTestCase {
    func testMinimalConfigIsValid() throws {
        XCTAssertNoThrow(try Spec.parse(bytes(minimalConfig.serialized())))
    }

    func testBadConfigs() {
        // Several inputs share a message; count the distinct ones.
        XCTAssertGreaterThanOrEqual(Set(badConfigs.map(\.expected)).count, 25)
        for bad in badConfigs {
            var json = minimalConfig
            for (path, value) in bad.edits {
                json = path.isEmpty ? (value ?? .null) : setting(json, path, value)
            }
            XCTAssertEqual(parseError(json), bad.expected, line: bad.line)
        }
    }

    func testInvalidJSONIsReportedWithPosition() {
        XCTAssertEqual(
            errorText { try Spec.parse(bytes("{\n  \"ociVersion\": \"1.2.0\"\n  \"root\": {}\n}")) },
            "invalid JSON at line 3, column 3: expected ',' or '}'")
    }

    func testAcceptedEdgeCases() throws {
        let good: [[(String, JSON?)]] = [
            [("process.terminal", true), ("process.consoleSize", ["height": 0, "width": 0])],
            [("hostname", "box"), ("domainname", "example.org")],
            [("hostname", "")], // empty means unset
            [("linux.rootfsPropagation", "rslave")],
            [("linux.rootfsPropagation", "")],
            [("linux.namespaces[0].path", "")], // empty path means "create"
            [
                ("linux.namespaces[3]", ["type": "network", "path": "/var/run/netns/a"]),
                ("linux.sysctl", ["net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.100/rp_filter": "0"]),
            ],
            [
                ("linux.namespaces[3]", ["type": "ipc"]),
                ("linux.sysctl", ["kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "10"]),
            ],
            [
                ("linux.namespaces[3]", ["type": "user"]),
                ("linux.uidMappings", [["containerID": 0, "hostID": 100_000, "size": 65536]]),
                ("linux.gidMappings", [["containerID": 0, "hostID": 100_000, "size": 65536]]),
            ],
            [
                ("linux.namespaces[3]", ["type": "time"]),
                ("linux.timeOffsets", ["monotonic": ["secs": -5, "nanosecs": 999_999_999]]),
            ],
            [
                (
                    "linux.resources.memory",
                    ["limit": -1, "reservation": 0, "swap": -1, "swappiness": .number("18446744073709551615")]
                )
            ],
            [("linux.resources.cpu", ["shares": 0, "quota": -1, "period": 0, "cpus": "0-3,7", "mems": "0"])],
            [("linux.resources.cpu", ["shares": 2, "quota": 50000, "burst": 10000, "period": 100_000, "idle": 1])],
            [("linux.resources.pids", ["limit": -1])],
            [
                (
                    "linux.resources.hugepageLimits",
                    [["pageSize": "64KB", "limit": 1], ["pageSize": "1GB", "limit": 0]]
                )
            ],
            [("linux.devices", [["path": "/dev/fifo", "type": "p"]])],
            [("linux.cgroupsPath", "system.slice:skiff:abc")],
            [("linux.cgroupsPath", "/a/..b/c..")],
            [
                (
                    "process.rlimits",
                    [nofile, ["type": "RLIMIT_CORE", "hard": .number("18446744073709551615"), "soft": 0]]
                )
            ],
            [
                (
                    "process.scheduler",
                    ["policy": "SCHED_DEADLINE", "runtime": 10_000_000, "deadline": 20_000_000, "period": 20_000_000]
                )
            ],
            [("process.env", ["A=", "B==x", "PATH=/bin"])],
            [("hooks.createRuntime", [["path": "/usr/bin/hook", "args": ["hook", "x"], "timeout": 5]])],
            [
                (
                    "linux.seccomp",
                    [
                        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "listenerPath": "/run/agent.sock",
                        "syscalls": [["names": ["mount"], "action": "SCMP_ACT_NOTIFY"]],
                    ]
                )
            ],
            [("ociVersion", "1.0.2-dev")], [("ociVersion", "1.1.0+dev.1")], [("ociVersion", "1.0.0-rc.1")],
        ]
        for edits in good {
            var json = minimalConfig
            for (path, value) in edits { json = setting(json, path, value) }
            XCTAssertNil(parseError(json), "edits: \(edits.map(\.0))")
        }
    }

    func testFirstErrorInDocumentOrderAndAllErrors() throws {
        var json = setting(minimalConfig, "linux.maskedPaths", ["relative"])
        json = setting(json, "process.cwd", "relative")
        json = setting(json, "mounts", [["destination": "relative"]])
        XCTAssertEqual(parseError(json), "process.cwd: must be absolute")
        let spec = try JSONCodec.decode(Spec.self, from: json)
        XCTAssertEqual(
            spec.validationErrors().map(\.description),
            [
                "process.cwd: must be absolute",
                "mounts[0].destination: must be absolute",
                "linux.maskedPaths[0]: must be absolute",
            ])
    }

    func testProcessOnItsOwn() throws {
        // As for `exec --process process.json`.
        let process = try JSONCodec.decode(
            Process.self, from: bytes(#"{"user":{"uid":0,"gid":0},"args":["ls"],"cwd":"/"}"#))
        XCTAssertNoThrow(try process.validate())
        var bad = process
        bad.rlimits = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 5, soft: 10)]
        XCTAssertEqual(errorText { try bad.validate() }, "process.rlimits[0]: soft limit 10 exceeds hard limit 5")
        bad.args = []
        XCTAssertEqual(errorText { try bad.validate(path: "exec") }, "exec.args: must contain at least one element")
    }

    func testSpecsBuiltInCodeAreValidatedToo() {
        var spec = Spec.runcDefault()
        XCTAssertNoThrow(try spec.validate())
        spec.linux?.namespaces?.append(LinuxNamespace(type: .pid))
        XCTAssertEqual(errorText { try spec.validate() }, "linux.namespaces[6].type: duplicate namespace \"pid\"")
    }
}
