import SkiffSpec
import XCTest

/// A minimal config that decodes and validates; tests edit it by path.
let minimalConfig: JSON = [
    "ociVersion": "1.2.0",
    "process": [
        "user": ["uid": 0, "gid": 0],
        "args": ["sh"],
        "cwd": "/",
    ],
    "root": ["path": "rootfs"],
    "linux": [
        "namespaces": [["type": "pid"], ["type": "mount"], ["type": "uts"]]
    ],
]

/// The error text of decoding (only) `json` as a Spec.
func decodeError(_ json: JSON) -> String? {
    errorText { try JSONCodec.decode(Spec.self, from: json) }
}

final class DecodingTests: XCTestCase {
    func testMinimalConfigDecodes() throws {
        let spec = try JSONCodec.decode(Spec.self, from: minimalConfig)
        XCTAssertEqual(spec.ociVersion, "1.2.0")
        XCTAssertEqual(spec.process?.args, ["sh"])
        XCTAssertEqual(spec.process?.user.uid, 0)
        XCTAssertEqual(spec.root, Root(path: "rootfs"))
        XCTAssertEqual(spec.linux?.namespaces?.map(\.type), [.pid, .mount, .uts])
        XCTAssertNil(spec.hostname)
        XCTAssertNil(spec.process?.terminal)
    }

    func testTypeErrorsNameThePath() {
        let cases: [(String, JSON?, String)] = [
            ("process.args", ["sh", 1], "process.args: expected an array of strings"),
            ("process.args", "sh", "process.args: expected an array of strings"),
            ("process.user.uid", "0", "process.user.uid: expected an unsigned 32-bit integer"),
            ("process.user.uid", -1, "process.user.uid: expected an unsigned 32-bit integer"),
            ("process.user.uid", 1.5, "process.user.uid: expected an unsigned 32-bit integer"),
            (
                "process.user.uid", 4_294_967_296,
                "process.user.uid: 4294967296 is out of range for an unsigned 32-bit integer"
            ),
            (
                "process.user.additionalGids", [1, "2"],
                "process.user.additionalGids[1]: expected an unsigned 32-bit integer"
            ),
            ("process.terminal", "yes", "process.terminal: expected a boolean"),
            ("process.oomScoreAdj", "1", "process.oomScoreAdj: expected an integer"),
            ("process.user", nil, "process.user: missing required field"),
            ("process.cwd", nil, "process.cwd: missing required field"),
            ("process.cwd", .some(.null), "process.cwd: expected a string"),
            ("hostname", 5, "hostname: expected a string"),
            ("ociVersion", nil, "ociVersion: missing required field"),
            ("root.path", nil, "root.path: missing required field"),
            ("root", "rootfs", "root: expected an object"),
            ("mounts", ["destination": "/x"], "mounts: expected an array"),
            ("mounts[0]", "/proc", "mounts[0]: expected an object"),
            ("mounts[0]", ["destination": "/proc", "type": 1], "mounts[0].type: expected a string"),
            ("linux.namespaces[2]", "uts", "linux.namespaces[2]: expected an object"),
            ("linux.namespaces[2].type", "pidd", "linux.namespaces[2].type: unknown namespace \"pidd\""),
            ("linux.namespaces[2].type", nil, "linux.namespaces[2].type: missing required field"),
            ("linux.sysctl", ["a"], "linux.sysctl: expected an object"),
            ("linux.sysctl", ["net.core.somaxconn": 1024], "linux.sysctl[\"net.core.somaxconn\"]: expected a string"),
            ("annotations", ["a": ["b"]], "annotations[\"a\"]: expected a string"),
            ("linux.resources.memory.limit", "1G", "linux.resources.memory.limit: expected an integer"),
            ("linux.resources.memory.limit", 1.5, "linux.resources.memory.limit: expected an integer"),
            ("linux.resources.memory.limit", .number("1e3"), "linux.resources.memory.limit: expected an integer"),
            (
                "linux.resources.memory.limit", .number("99999999999999999999"),
                "linux.resources.memory.limit: 99999999999999999999 is out of range for a 64-bit integer"
            ),
            (
                "linux.resources.memory.limit", .number("-9223372036854775809"),
                "linux.resources.memory.limit: -9223372036854775809 is out of range for a 64-bit integer"
            ),
            ("linux.resources.cpu.shares", -1, "linux.resources.cpu.shares: expected an unsigned 64-bit integer"),
            (
                "linux.resources.blockIO.weight", 70000,
                "linux.resources.blockIO.weight: 70000 is out of range for an unsigned 16-bit integer"
            ),
            (
                "linux.resources.rdma", ["mlx": ["hcaHandles": "x"]],
                "linux.resources.rdma[\"mlx\"].hcaHandles: expected an unsigned 32-bit integer"
            ),
            ("linux.resources.pids", [:], "linux.resources.pids.limit: missing required field"),
            (
                "linux.seccomp", ["defaultAction": "SCMP_ACT_FOO"],
                "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""
            ),
            ("linux.personality", ["domain": "LINUX64"], "linux.personality.domain: unknown domain \"LINUX64\""),
            (
                "process.scheduler", ["policy": "SCHED_FOO"],
                "process.scheduler.policy: unknown scheduling policy \"SCHED_FOO\""
            ),
            (
                "process.ioPriority", ["class": "IOPRIO_CLASS_X", "priority": 0],
                "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_X\""
            ),
        ]
        for (path, value, expected) in cases {
            XCTAssertEqual(decodeError(setting(minimalConfig, path, value)), expected, "editing \(path)")
        }
    }

    func testTopLevelMustBeAnObject() {
        XCTAssertEqual(decodeError(["a"]), "expected a JSON object")
        XCTAssertEqual(errorText { try JSONCodec.decode(Spec.self, from: bytes("42")) }, "expected a JSON object")
        XCTAssertEqual(
            errorText { try JSONCodec.decode(Spec.self, from: bytes("{\n")) },
            "invalid JSON at line 2, column 1: unexpected end of input")
    }

    func testUnknownKeysAreIgnored() throws {
        var json = setting(minimalConfig, "someFutureField", ["x": [1, 2]])
        json = setting(json, "process.user.username", "root")
        json = setting(json, "linux.namespaces[0].extra", true)
        json = setting(json, "windows", ["layerFolders": ["C:\\x"]])
        let spec = try JSONCodec.decode(Spec.self, from: json)
        XCTAssertEqual(spec, try JSONCodec.decode(Spec.self, from: minimalConfig))
    }

    func testNullMeansAbsentForOptionals() throws {
        let json = setting(setting(minimalConfig, "hostname", .some(.null)), "process.env", .some(.null))
        let spec = try JSONCodec.decode(Spec.self, from: json)
        XCTAssertNil(spec.hostname)
        XCTAssertNil(spec.process?.env)
    }

    func testIntegerLimits() throws {
        var json = setting(minimalConfig, "linux.resources.memory.limit", .number("9223372036854775807"))
        json = setting(json, "linux.resources.memory.swap", .number("-9223372036854775808"))
        json = setting(
            json, "linux.resources.hugepageLimits[0]", ["pageSize": "2MB", "limit": .number("18446744073709551615")])
        json = setting(json, "process.user.uid", .number("4294967295"))
        let spec = try JSONCodec.decode(Spec.self, from: json)
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, Int64.max)
        XCTAssertEqual(spec.linux?.resources?.memory?.swap, Int64.min)
        XCTAssertEqual(spec.linux?.resources?.hugepageLimits?.first?.limit, UInt64.max)
        XCTAssertEqual(spec.process?.user.uid, UInt32.max)
        // And back out, digit for digit.
        let out = JSONCodec.encodeJSON(spec)
        XCTAssertEqual(out["linux"]?["resources"]?["hugepageLimits"]?[0]?["limit"], .number("18446744073709551615"))
        XCTAssertEqual(out["linux"]?["resources"]?["memory"]?["swap"], .number("-9223372036854775808"))
    }

    func testDeviceWithoutMajorMinor() throws {
        let json = setting(minimalConfig, "linux.devices[0]", ["path": "/dev/fifo", "type": "p"])
        let spec = try JSONCodec.decode(Spec.self, from: json)
        XCTAssertEqual(spec.linux?.devices, [LinuxDevice(path: "/dev/fifo", type: "p", major: 0, minor: 0)])
    }

    func testOtherTypes() throws {
        XCTAssertEqual(try JSONCodec.decode([Int].self, from: bytes("[1,-2]")), [1, -2])
        XCTAssertEqual(try JSONCodec.decode([String: UInt8].self, from: bytes(#"{"b":1,"a":2}"#)), ["a": 2, "b": 1])
        XCTAssertEqual(try JSONCodec.decode([[String]].self, from: bytes(#"[["a"],[]]"#)), [["a"], []])
        XCTAssertEqual(try JSONCodec.decode(Double.self, from: bytes("2.5")), 2.5)
        XCTAssertEqual(try JSONCodec.decode(JSON.self, from: bytes("[1]")), [1])
        XCTAssertEqual(try JSONCodec.decode(Int?.self, from: bytes("null")), nil)
        XCTAssertEqual(
            errorText { try JSONCodec.decode([Int].self, from: bytes("[1,\"x\"]")) }, "[1]: expected an integer")
        XCTAssertEqual(errorText { try JSONCodec.decode([Int].self, from: bytes("{}")) }, "expected an array")
        XCTAssertEqual(
            errorText { try JSONCodec.decode(Int8.self, from: bytes("200")) },
            "200 is out of range for an 8-bit integer")
    }
}

final class EncodingTests: XCTestCase {
    func testNilFieldsAreOmittedAndOrderIsDeclarationOrder() {
        let spec = Spec(
            ociVersion: "1.2.0",
            process: Process(terminal: false, args: ["/bin/true"], cwd: "/"),
            root: Root(path: "/rootfs"),
            hostname: "box"
        )
        XCTAssertEqual(
            spec.json(indent: nil),
            #"{"ociVersion":"1.2.0","process":{"terminal":false,"user":{"uid":0,"#
                + #""gid":0},"args":["/bin/true"],"cwd":"/"},"root":{"path":"/rootfs"},"#
                + #""hostname":"box"}"#
        )
    }

    func testEmptyArraysAreKept() {
        // nil is left out, but an empty list is a value and is written.
        let hooks = Hooks(prestart: [], poststop: nil)
        XCTAssertEqual(JSONCodec.encode(hooks), #"{"prestart":[]}"#)
    }

    func testDictionariesAreSortedByKey() {
        let linux = Linux(sysctl: [
            "net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "net.core.somaxconn": "9", "B": "", "a": "",
        ])
        XCTAssertEqual(
            JSONCodec.encode(linux),
            #"{"sysctl":{"B":"","a":"","kernel.shmmax":"1","net.core.somaxconn":"9","net.ipv4.ip_forward":"1"}}"#)
    }

    func testEnumsAndKeywordNamedFields() throws {
        let process = Process(
            args: ["x"],
            scheduler: Scheduler(policy: .fifo, priority: 10, flags: [.resetOnFork]),
            ioPriority: LinuxIOPriority(class: .be, priority: 4),
            execCPUAffinity: CPUAffinity(initial: "0", final: "1-3")
        )
        let text = JSONCodec.encode(process)
        XCTAssertEqual(
            text,
            #"{"user":{"uid":0,"gid":0},"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_FIFO","#
                + #""priority":10,"flags":["SCHED_FLAG_RESET_ON_FORK"]},"ioPriority":{"class":"IOPRIO_CLASS_BE","#
                + #""priority":4},"execCPUAffinity":{"initial":"0","final":"1-3"}}"#
        )
        XCTAssertEqual(try JSONCodec.decode(Process.self, from: bytes(text)), process)
    }

    func testStateForHooks() throws {
        let state = State(
            ociVersion: "1.2.0", id: "c1", status: .created, pid: 4422, bundle: "/bundles/c1",
            annotations: ["b": "2", "a": "1"])
        XCTAssertEqual(
            JSONCodec.encode(state),
            #"{"ociVersion":"1.2.0","id":"c1","status":"created","pid":4422,"#
                + #""bundle":"/bundles/c1","annotations":{"a":"1","b":"2"}}"#
        )
        XCTAssertEqual(try JSONCodec.decode(State.self, from: bytes(JSONCodec.encode(state))), state)
        XCTAssertEqual(
            JSONCodec.encode(State(ociVersion: "1.2.0", id: "c1", status: .stopped, bundle: "/b")),
            #"{"ociVersion":"1.2.0","id":"c1","status":"stopped","bundle":"/b"}"#)
        XCTAssertEqual(
            errorText {
                try JSONCodec.decode(
                    State.self, from: bytes(#"{"ociVersion":"1","id":"c","status":"paused","bundle":"/b"}"#))
            },
            "status: unknown status \"paused\"")
    }

    func testContainerProcessState() throws {
        let cps = ContainerProcessState(
            ociVersion: "1.0.2", fds: ["seccompFd"], pid: 4422, metadata: "MKNOD=/dev/null",
            state: State(
                ociVersion: "1.0.2", id: "oci-container1", status: .creating, pid: 4422, bundle: "/containers/redis"))
        let text = JSONCodec.encode(cps, indent: "  ")
        XCTAssertEqual(try JSONCodec.decode(ContainerProcessState.self, from: bytes(text)), cps)
        XCTAssertTrue(text.hasPrefix("{\n  \"ociVersion\": \"1.0.2\",\n  \"fds\": [\n    \"seccompFd\"\n  ],"))
    }

    func testEncodeJSONGivesTheTree() {
        let json = JSONCodec.encodeJSON(LinuxIDMapping(containerID: 0, hostID: 1000, size: 65536))
        XCTAssertEqual(json, ["containerID": 0, "hostID": 1000, "size": 65536])
    }

    func testSpecErrorDescription() {
        XCTAssertEqual(SpecError(path: "a.b", message: "bad").description, "a.b: bad")
        XCTAssertEqual(SpecError(path: "", message: "bad").description, "bad")
    }
}
