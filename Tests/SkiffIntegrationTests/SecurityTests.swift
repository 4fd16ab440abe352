// Security (issue 5): capabilities, no_new_privs, seccomp, rlimits, OOM score,
// personality, sysctl, masked and read-only paths, user namespaces, and one
// regression test per attack class that has hit runc. Everything is checked from
// inside real containers, or on the host where an attack would land.
import Foundation
import XCTest

final class SecurityTests: XCTestCase {
    // MARK: capabilities

    func testCapabilitiesMatchTheSpecForRoot() throws {
        let s = try Sandbox()
        let caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        let b = try s.bundle(args: ["cat", "/proc/self/status"]) { c in
            editProcess(&c) { $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps] }
        }
        let r = s.skiff(["run", "-b", b, "caps"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let st = statusFields(r.stdout)
        XCTAssertEqual(st["CapBnd"], capMask(caps))
        XCTAssertEqual(st["CapPrm"], capMask(caps))
        XCTAssertEqual(st["CapEff"], capMask(caps))
        XCTAssertEqual(st["CapInh"], capMask([]))
        XCTAssertEqual(st["CapAmb"], capMask([]))
        s.assertNothingLeftBehind()
    }

    /// A non-root user keeps capabilities through setuid (PR_SET_KEEPCAPS) and into its
    /// program only as ambient capabilities; without them it has none after execve.
    func testCapabilitiesForNonRootUser() throws {
        let s = try Sandbox()
        let bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
        let kept = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
        for ambient in [true, false] {
            let b = try s.bundle("b\(ambient)", args: ["cat", "/proc/self/status"]) { c in
                editProcess(&c) { p in
                    p["user"] = ["uid": 1000, "gid": 1000]
                    var caps: [String: Any] = [
                        "bounding": bounding, "effective": kept + ["CAP_NET_RAW"],
                        "permitted": kept + ["CAP_NET_RAW"], "inheritable": kept,
                    ]
                    if ambient { caps["ambient"] = kept }
                    p["capabilities"] = caps
                }
            }
            let r = s.skiff(["run", "-b", b, "u\(ambient)"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let st = statusFields(r.stdout)
            XCTAssertEqual(st["Uid"]?.split(separator: "\t").first, "1000")
            XCTAssertEqual(st["CapBnd"], capMask(bounding))
            XCTAssertEqual(st["CapInh"], capMask(kept))
            let expected = capMask(ambient ? kept : [])
            XCTAssertEqual(st["CapAmb"], expected, "ambient=\(ambient)")
            XCTAssertEqual(st["CapPrm"], expected, "ambient=\(ambient)")
            XCTAssertEqual(st["CapEff"], expected, "ambient=\(ambient)")
        }
        s.assertNothingLeftBehind()
    }

    func testUnknownCapabilityIsAClearError() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            editProcess(&c) { $0["capabilities"] = ["bounding": ["CAP_KILL", "CAP_FLY"]] }
        }
        let r = s.skiff(["create", "-b", b, "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: config.json: process.capabilities.bounding[1]: unknown capability \"CAP_FLY\"")
        s.assertNothingLeftBehind()
    }

    /// Attack class 4 (CVE-2022-29162): no inheritable (or ambient) capability unless the
    /// spec asks, even when skiff itself was started with some, as a service manager can do.
    func testNoInheritableCapabilitiesUnlessTheSpecAsks() throws {
        let s = try Sandbox()
        let spec = try s.bundle("spec", args: ["true"])
        let config = try XCTUnwrap(json(String(contentsOfFile: spec + "/config.json", encoding: .utf8)))
        let caps = (config["process"] as? [String: Any])?["capabilities"] as? [String: Any]
        XCTAssertNil(caps?["inheritable"], "skiff spec must not list inheritable capabilities")
        XCTAssertNil(caps?["ambient"])

        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else {
            throw XCTSkip("needs setpriv (util-linux) to start skiff with inheritable capabilities")
        }
        // skiff runs with CapInh = NET_RAW, SYS_ADMIN, SYS_PTRACE and CapAmb = NET_RAW.
        let tainted = ["--inh-caps", "+net_raw,+sys_admin,+sys_ptrace", "--ambient-caps", "+net_raw"]
        let probe = runProgram(setpriv, tainted + ["cat", "/proc/self/status"])
        XCTAssertEqual(
            statusFields(probe.stdout)["CapInh"], capMask(["CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]),
            probe.stderr)
        for (name, user, inheritable) in [
            ("root", [String: Any]?.none, [String]?.none), ("user", ["uid": 1000, "gid": 1000], nil),
            ("asked", nil, ["CAP_KILL"]),
        ] {
            let b = try s.bundle(name, args: ["cat", "/proc/self/status"]) { c in
                editProcess(&c) { p in
                    if let user { p["user"] = user }
                    if let inheritable {
                        var caps = p["capabilities"] as! [String: Any]
                        caps["inheritable"] = inheritable
                        p["capabilities"] = caps
                    }
                }
            }
            let r = runProgram(setpriv, tainted + [Env.skiff, "--root", s.stateRoot, "run", "-b", b, name])
            XCTAssertEqual(r.code, 0, r.stderr)
            let st = statusFields(r.stdout)
            XCTAssertEqual(st["CapInh"], capMask(inheritable ?? []), name)
            XCTAssertEqual(st["CapAmb"], capMask([]), name)
        }
        s.assertNothingLeftBehind()
    }

    func testNoNewPrivileges() throws {
        let s = try Sandbox()
        for nnp in [true, false] {
            let b = try s.bundle("b\(nnp)", args: ["cat", "/proc/self/status"]) { c in
                editProcess(&c) { $0["noNewPrivileges"] = nnp }
            }
            let r = s.skiff(["run", "-b", b, "n\(nnp)"])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertEqual(statusFields(r.stdout)["NoNewPrivs"], nnp ? "1" : "0")
        }
        s.assertNothingLeftBehind()
    }

    // MARK: seccomp

    func testSeccompRuleFailsTheCallWithItsErrno() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: [
            "sh", "-c", "mkdir /tmp/a; echo mkdir=$?; rmdir /tmp; touch /tmp/f && echo touch-ok",
        ]) { c in
            addTmpfs(&c, "/tmp")
            editLinux(&c) {
                $0["seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [
                        ["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"], // EPERM by default
                        ["names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28], // ENOSPC
                        ["names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"], // skipped
                    ],
                ]
            }
        }
        let r = s.skiff(["--debug", "run", "-b", b, "sc"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "mkdir=1\ntouch-ok")
        XCTAssertTrue(r.stderr.contains("can't create directory '/tmp/a': Operation not permitted"), r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
        XCTAssertTrue(r.stderr.contains("unknown syscall \\\"no_such_syscall\\\" skipped"), r.stderr)

        // defaultErrnoRet: the default profile, with its default errno changed to EOPNOTSUPP.
        var profile = try defaultProfile()
        profile["defaultErrnoRet"] = 95
        let b2 = try s.bundle("b2", args: ["sh", "-c", "unshare -m true; echo unshare=$?"]) { c in
            editLinux(&c) { $0["seccomp"] = profile }
        }
        let r2 = s.skiff(["run", "-b", b2, "sc2"])
        XCTAssertEqual(r2.out, "unshare=1", r2.stderr)
        XCTAssertTrue(r2.stderr.contains("Not supported"), r2.stderr)
        s.assertNothingLeftBehind()
    }

    func testSeccompFlags() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", "grep Seccomp: /proc/self/status"]) { c in
            editLinux(&c) {
                $0["seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                    "flags": [
                        "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
                    ],
                    "syscalls": [["names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"]],
                ]
            }
        }
        let r = s.skiff(["run", "-b", b, "flags"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "Seccomp:\t2")
        let bad = try s.bundle("bad", args: ["true"]) { c in
            editLinux(&c) {
                $0["seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
                ]
            }
        }
        let r2 = s.skiff(["run", "-b", bad, "bad"])
        XCTAssertEqual(r2.code, 1)
        XCTAssertTrue(
            r2.err.hasPrefix(
                "skiff: linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs "
                    + "libseccomp 2.6"), r2.err)
        s.assertNothingLeftBehind()
    }

    /// A process started with `exec` gets the container's filter, capabilities and
    /// no_new_privs like init, and none of skiff's descriptors.
    func testExecProcessesGetTheSameConfinement() throws {
        let s = try Sandbox()
        let caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
        let b = try s.bundle(args: ["sleep", "30"]) { c in
            addTmpfs(&c, "/tmp")
            editProcess(&c) { $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps] }
            editLinux(&c) {
                $0["seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"]],
                ]
            }
        }
        XCTAssertEqual(s.skiff(["run", "-d", "-b", b, "ex"]).code, 0)
        let r = s.skiff([
            "exec", "ex", "sh", "-c",
            "mkdir /tmp/x; grep -E '^(CapEff|CapInh|NoNewPrivs|Seccomp):' /proc/self/status; ls /proc/self/fd",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("Operation not permitted"), r.stderr)
        XCTAssertEqual(
            r.out, "CapInh:\t\(capMask([]))\nCapEff:\t\(capMask(caps))\nNoNewPrivs:\t1\nSeccomp:\t2\n0\n1\n2\n3")
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// Every comparison operator, on chmod's mode argument: only matching calls fail.
    func testSeccompArgumentConditions() throws {
        let s = try Sandbox()
        let modes = [0o600, 0o640, 0o700, 0o755]
        let script = modes.map { m in
            "chmod \(String(m, radix: 8)) /tmp/f 2>/dev/null && echo "
                + "\(String(m, radix: 8)):ok || echo \(String(m, radix: 8)):denied"
        }
        .joined(separator: "; ")
        let cases: [(String, Int, Int?, (Int) -> Bool)] = [
            ("SCMP_CMP_EQ", 0o640, nil, { $0 == 0o640 }),
            ("SCMP_CMP_NE", 0o640, nil, { $0 != 0o640 }),
            ("SCMP_CMP_LT", 0o640, nil, { $0 < 0o640 }),
            ("SCMP_CMP_LE", 0o640, nil, { $0 <= 0o640 }),
            ("SCMP_CMP_GT", 0o640, nil, { $0 > 0o640 }),
            ("SCMP_CMP_GE", 0o640, nil, { $0 >= 0o640 }),
            ("SCMP_CMP_MASKED_EQ", 0o700, 0o700, { $0 & 0o700 == 0o700 }),
        ]
        for (i, (op, value, valueTwo, denied)) in cases.enumerated() {
            func arg(_ index: Int) -> [String: Any] {
                var a: [String: Any] = ["index": index, "value": value, "op": op]
                if let valueTwo { a["valueTwo"] = valueTwo }
                return a
            }
            let b = try s.bundle("b\(i)", args: ["sh", "-c", "touch /tmp/f; " + script]) { c in
                addTmpfs(&c, "/tmp")
                editLinux(&c) {
                    $0["seccomp"] = [
                        "defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [
                            ["names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [arg(1)]],
                            ["names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "args": [arg(2)]],
                        ],
                    ]
                }
            }
            let r = s.skiff(["run", "-b", b, "op\(i)"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let expected = modes.map { "\(String($0, radix: 8)):\(denied($0) ? "denied" : "ok")" }.joined(
                separator: "\n")
            XCTAssertEqual(r.out, expected, op)
        }
        s.assertNothingLeftBehind()
    }

    /// SCMP_ACT_NOTIFY: the agent at listenerPath receives the listener fd with the
    /// container process state, and its answers decide the calls.
    func testSeccompNotifyListenerReceivesTheFd() throws {
        let s = try Sandbox()
        let socketPath = s.dir.appendingPathComponent("agent.sock").path
        let listener = try UnixListener(path: socketPath)
        defer { listener.close() }
        let b = try s.bundle(args: ["sh", "-c", "mkdir /tmp/x; echo mkdir=$?; touch /tmp/y && echo touch-ok"]) { c in
            addTmpfs(&c, "/tmp")
            editLinux(&c) {
                $0["seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socketPath, "listenerMetadata": "hello agent",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]],
                ]
            }
        }
        let run = OnThread { s.skiff(["run", "-b", b, "notify"]) }
        let (message, fd) = try listener.acceptMessageWithFd(timeout: 20)
        defer { close(fd) }
        let state = try XCTUnwrap(json(message), message)
        XCTAssertEqual(state["fds"] as? [String], ["seccompFd"])
        XCTAssertEqual(state["metadata"] as? String, "hello agent")
        let inner = try XCTUnwrap(state["state"] as? [String: Any])
        XCTAssertEqual(inner["id"] as? String, "notify")
        XCTAssertEqual(inner["status"] as? String, "creating")
        XCTAssertEqual(inner["pid"] as? Int, state["pid"] as? Int)
        XCTAssertEqual(inner["bundle"] as? String, b)
        // Answer every notification with EXDEV, until the container is gone.
        var seen: [Int32] = []
        while !run.isDone {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) <= 0 { continue }
            if p.revents & Int16(POLLHUP) != 0 { break }
            var req = [UInt8](repeating: 0, count: 80) // struct seccomp_notif
            guard ioctl(fd, 0xC050_2100, &req) == 0 else { continue } // SECCOMP_IOCTL_NOTIF_RECV
            seen.append(req.withUnsafeBytes { $0.load(fromByteOffset: 16, as: Int32.self) }) // data.nr
            var resp = [UInt8](repeating: 0, count: 24) // struct seccomp_notif_resp {id, val, error, flags}
            resp.withUnsafeMutableBytes { r in
                r.storeBytes(of: req.withUnsafeBytes { $0.load(as: UInt64.self) }, toByteOffset: 0, as: UInt64.self)
                r.storeBytes(of: -EXDEV, toByteOffset: 16, as: Int32.self)
            }
            _ = ioctl(fd, 0xC018_2101, &resp) // SECCOMP_IOCTL_NOTIF_SEND
        }
        let r = run.wait()
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "mkdir=1\ntouch-ok")
        XCTAssertTrue(r.stderr.contains("Cross-device link"), r.stderr) // EXDEV, musl's wording
        XCTAssertFalse(seen.isEmpty)
        XCTAssertTrue(seen.allSatisfy { $0 == 83 || $0 == 258 }, "\(seen)") // mkdir, mkdirat (x86_64)
        s.assertNothingLeftBehind()
    }

    /// The default profile (profiles/seccomp-default.json, Docker's capability set):
    /// ordinary programs work, while mount and unshare fail even for a container that
    /// holds CAP_SYS_ADMIN. Without no_new_privs skiff keeps CAP_SYS_ADMIN just long
    /// enough to load the filter: the program must not end up with it.
    func testDefaultProfile() throws {
        let s = try Sandbox()
        let script =
            "mkdir /tmp/d && ls / >/dev/null && echo basics-ok; mount -t tmpfs t /tmp/d; echo mount=$?; "
            + "unshare -m true; echo unshare=$?; grep -E '^(Seccomp|CapEff):' /proc/self/status"
        let admin = ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]
        for (name, filter, caps, nnp) in [
            ("control", false, admin, true), ("admin", true, admin, true), ("nnp-off", true, ["CAP_KILL"], false),
        ] {
            let b = try s.bundle(name, args: ["sh", "-c", script]) { c in
                addTmpfs(&c, "/tmp")
                editProcess(&c) {
                    $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps]
                    $0["noNewPrivileges"] = nnp
                }
                if filter { editLinux(&c) { $0["seccomp"] = try! defaultProfile() } }
            }
            let r = s.skiff(["run", "-b", b, name])
            XCTAssertEqual(r.code, 0, r.stderr)
            let lines = r.out.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first, "basics-ok", r.stderr)
            XCTAssertEqual(lines.dropFirst().first, filter ? "mount=1" : "mount=0", name)
            XCTAssertEqual(lines.dropFirst(2).first, filter ? "unshare=1" : "unshare=0", name)
            XCTAssertTrue(lines.contains("Seccomp:\t\(filter ? 2 : 0)"), "\(name): \(lines)")
            XCTAssertTrue(lines.contains("CapEff:\t\(capMask(caps))"), "\(name): \(lines)")
        }
        s.assertNothingLeftBehind()
    }

    // MARK: rlimits, OOM score, personality, sysctl

    func testRlimitsOOMScoreAndPersonality() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: [
            "sh", "-c", "grep -E 'open files|core file' /proc/self/limits; cat /proc/self/oom_score_adj; uname -m",
        ]) { c in
            editProcess(&c) {
                $0["rlimits"] = [
                    ["type": "RLIMIT_NOFILE", "soft": 256, "hard": 512],
                    ["type": "RLIMIT_CORE", "soft": 0, "hard": 4096],
                ]
                $0["oomScoreAdj"] = 500
            }
            editLinux(&c) { $0["personality"] = ["domain": "LINUX32"] }
        }
        let r = s.skiff(["run", "-b", b, "lim"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.out.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        XCTAssertEqual(lines, ["Max core file size 0 4096 bytes", "Max open files 256 512 files", "500", "i686"])
        s.assertNothingLeftBehind()
    }

    func testRaisingAHardLimitSaysWhichAndWhy() throws {
        let s = try Sandbox()
        var current = rlimit()
        getrlimit(__rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)), &current)
        guard current.rlim_max != rlim_t.max else {
            throw XCTSkip(
                "the hard RLIMIT_NOFILE is unlimited here: "
                    + "nothing to raise")
        }
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let eff = statusFields(status)["CapEff"], let bits = UInt64(eff, radix: 16), bits & (1 << 24) != 0
        {
            throw XCTSkip("this test runs with CAP_SYS_RESOURCE, which allows the raise")
        }
        let hard = UInt64(current.rlim_max) + 1
        let b = try s.bundle(args: ["true"]) { c in
            editProcess(&c) { $0["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 1024, "hard": hard]] }
        }
        let r = s.skiff(["run", "-b", b, "raise"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: process.rlimits RLIMIT_NOFILE soft=1024 hard=\(hard): raising the hard "
                + "limit above \(current.rlim_max) needs CAP_SYS_RESOURCE")
        s.assertNothingLeftBehind()
    }

    func testSysctl() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: [
            "sh", "-c",
            "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/net/ipv4/conf/lo/forwarding",
        ]) { c in
            editLinux(&c) {
                $0["sysctl"] = [
                    "net.ipv4.ip_forward": "1", "kernel.shmmni": "1234", "net/ipv4/conf/lo/forwarding": "1",
                ]
            }
        }
        let r = s.skiff(["run", "-b", b, "sysctl"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "1\n1234\n1")
        // The host's values are untouched (the container has its own network and IPC namespaces).
        XCTAssertNotEqual(
            try String(contentsOfFile: "/proc/sys/kernel/shmmni", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines), "1234")

        let bad = try s.bundle("bad", args: ["true"]) { c in editLinux(&c) { $0["sysctl"] = ["kernel.panic": "1"] } }
        let r2 = s.skiff(["run", "-b", bad, "bad"])
        XCTAssertEqual(r2.code, 1)
        XCTAssertEqual(r2.err, "skiff: config.json: linux.sysctl[\"kernel.panic\"]: not in a separate kernel namespace")
        s.assertNothingLeftBehind()
    }

    // MARK: masked and read-only paths

    func testMaskedAndReadonlyPaths() throws {
        let s = try Sandbox()
        let script = """
            wc -c < /proc/timer_list; stat -c '%F %t:%T' /proc/timer_list
            ls -A /etc/apk | wc -l; touch /etc/apk/x 2>/dev/null || echo apk-ro
            wc -c < /etc/hostname
            echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo sys-ro
            echo h > /proc/sysrq-trigger 2>/dev/null || echo sysrq-ro
            grep -c . /proc/cpuinfo >/dev/null && echo proc-ok
            """
        // A writable root: a write that fails can only be the mask's doing.
        let rootfs = try s.writableRootfs("masked")
        let b = try s.bundle(args: ["sh", "-c", script]) { c in
            c["root"] = ["path": rootfs, "readonly": false]
            editLinux(&c) {
                $0["maskedPaths"] =
                    (($0["maskedPaths"] as? [String]) ?? []) + ["/etc/apk", "/etc/hostname", "/does/not/exist"]
            }
        }
        let r = s.skiff(["run", "-b", b, "mask"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "0\ncharacter special file 1:3\n0\napk-ro\n0\nsys-ro\nsysrq-ro\nproc-ok")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/etc/apk/x"))
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: rootfs + "/etc/apk/world"), "the mask changed the rootfs itself")
        s.assertNothingLeftBehind()
    }

    // MARK: user namespaces

    func testUserNamespaceRootIsUnprivilegedOutside() throws {
        let s = try Sandbox()
        let share = s.dir.appendingPathComponent("share")
        try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
        try "from host".write(to: share.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        chmod(share.path, 0o777)
        func userns(_ c: inout [String: Any]) {
            editLinux(&c) {
                var ns = $0["namespaces"] as! [[String: Any]]
                ns.append(["type": "user"])
                $0["namespaces"] = ns
                $0["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
                $0["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            }
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/mnt", "type": "bind", "source": share.path, "options": ["rbind", "rw"]])
            mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]])
            c["mounts"] = mounts
        }
        let script =
            "id -u; cat /proc/self/uid_map | tr -s ' '; cat /mnt/f; echo; touch /tmp/t && echo tmpfs-ok; "
            + "ls /proc/1/ns >/dev/null && echo proc-ok; touch /mnt/made-inside; wc -c < /proc/timer_list"
        let b = try s.bundle(args: ["sh", "-c", script]) { userns(&$0) }
        let r = s.skiff(["run", "-b", b, "userns"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "0\n 0 100000 65536\nfrom host\ntmpfs-ok\nproc-ok\n0")
        // A file the container's root created belongs to an unprivileged uid on the host.
        let attrs = try FileManager.default.attributesOfItem(atPath: share.appendingPathComponent("made-inside").path)
        XCTAssertEqual((attrs[.ownerAccountID] as? NSNumber)?.intValue, 100_000)

        // And the container's processes run as that uid, seen from the host.
        let d = try s.bundle("d", args: ["sleep", "30"]) { userns(&$0) }
        XCTAssertEqual(s.skiff(["run", "-d", "-b", d, "userns-d"]).code, 0)
        let pid = try XCTUnwrap(json(s.skiff(["state", "userns-d"]).stdout)?["pid"] as? Int)
        let st = statusFields(try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))
        XCTAssertEqual(st["Uid"]?.split(separator: "\t").map(String.init), ["100000", "100000", "100000", "100000"])
        XCTAssertEqual(st["CapEff"], capMask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]))
        XCTAssertEqual(s.skiff(["delete", "-f", "userns-d"]).code, 0)
        s.assertNothingLeftBehind()
    }

    // MARK: attack class 1: overwriting skiff's binary through /proc/PID/exe (CVE-2019-5736)

    /// A container (B) with CAP_SYS_PTRACE shares its pid namespace with a container (C)
    /// being created, so it sees C's init while that is still skiff's code. It opens
    /// /proc/<init>/exe, waits until create, start and delete are over, then reopens the
    /// fd for writing through /proc/self/fd. The control run (protection off) proves the
    /// attack really overwrites the binary; the real run must leave it intact.
    func testBinaryCannotBeOverwrittenThroughProcExe() throws {
        let s = try Sandbox()
        let original = try Data(contentsOf: URL(fileURLWithPath: Env.skiff))
        for protected in [false, true] {
            let label = protected ? "protected" : "control"
            let copy = s.dir.appendingPathComponent("skiff-\(label)")
            try original.write(to: copy)
            chmod(copy.path, 0o755)
            let shared = s.dir.appendingPathComponent("shared-\(label)")
            try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
            let attacker = """
                while [ ! -e /mnt/grab ]; do sleep 0.05; done
                for p in /proc/[0-9]*; do
                  a0=$(tr '\\0' '\\n' < $p/cmdline 2>/dev/null | head -n 1)
                  case "$a0" in *skiff-*) exec 3<$p/exe && echo "grabbed $(readlink $p/exe)" >> /mnt/log; break;; esac
                done
                [ -e /proc/self/fd/3 ] || echo "no init found" >> /mnt/log
                while [ ! -e /mnt/write ]; do sleep 0.05; done
                if echo pwned > /proc/self/fd/3; then echo "write ok" >> /mnt/log
                else echo "write refused" >> /mnt/log; fi
                """
            let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_PTRACE"]
            let bb = try s.bundle("b-\(label)", args: ["sh", "-c", attacker]) { c in
                editProcess(&c) { $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps] }
                var mounts = c["mounts"] as! [[String: Any]]
                mounts.append([
                    "destination": "/mnt", "type": "bind", "source": shared.path, "options": ["rbind", "rw"],
                ])
                c["mounts"] = mounts
            }
            XCTAssertEqual(s.skiff(["run", "-d", "-b", bb, "b-\(label)"]).code, 0)
            let bPid = try XCTUnwrap(json(s.skiff(["state", "b-\(label)"]).stdout)?["pid"] as? Int)
            let cb = try s.bundle("c-\(label)", args: ["true"]) { c in
                editLinux(&c) {
                    $0["namespaces"] = [
                        ["type": "pid", "path": "/proc/\(bPid)/ns/pid"], ["type": "mount"], ["type": "network"],
                        ["type": "ipc"], ["type": "uts"],
                    ]
                }
            }
            var env = ProcessInfo.processInfo.environment
            if !protected { env["SKIFF_UNSAFE_NO_EXE_COPY"] = "1" }
            let created = runProgram(copy.path, ["--root", s.stateRoot, "create", "-b", cb, "c-\(label)"], env: env)
            XCTAssertEqual(created.code, 0, created.stderr)
            FileManager.default.createFile(atPath: shared.appendingPathComponent("grab").path, contents: nil)
            let grabbed = waitForLog(shared) { $0.contains("grabbed") || $0.contains("no init found") }
            XCTAssertTrue(grabbed.contains("grabbed"), "\(label): the attacker did not find init: \(grabbed)")
            let started = s.skiff(["start", "c-\(label)"])
            XCTAssertEqual(started.code, 0, started.stderr)
            waitUntilStopped(s, "c-\(label)")
            XCTAssertEqual(s.skiff(["delete", "c-\(label)"]).code, 0)
            FileManager.default.createFile(atPath: shared.appendingPathComponent("write").path, contents: nil)
            let log = waitForLog(shared) { $0.contains("write ") }
            let after = try Data(contentsOf: copy)
            if protected {
                XCTAssertTrue(
                    log.contains("grabbed") && !log.contains("grabbed \(copy.path)"),
                    "init ran from the host binary: \(log)")
                XCTAssertTrue(log.contains("write refused"), log)
                XCTAssertEqual(after, original, "skiff's binary was overwritten from inside a container")
            } else {
                XCTAssertTrue(
                    log.contains("write ok") && after != original,
                    "control: the attack did not work without the protection, so this test proves "
                        + "nothing: \(log)")
            }
            XCTAssertEqual(s.skiff(["delete", "-f", "b-\(label)"]).code, 0)
        }
        s.assertNothingLeftBehind()
    }

    // MARK: attack class 2: leaked descriptors (CVE-2024-21626)

    func testNoHostDescriptorReachesTheContainer() throws {
        let s = try Sandbox()
        let log = s.dir.appendingPathComponent("skiff.log").path
        let b = try s.bundle(args: ["ls", "/proc/self/fd"])
        // skiff's caller hands it extra descriptors; skiff itself opens a log, a socket, the state dir.
        let wrapper = "exec 7</etc/hostname 8>>\(log) 9<\(s.dir.path); exec \"$0\" \"$@\""
        for mode in ["run", "create"] {
            let id = "fd-\(mode)"
            let r = runProgram(
                "/bin/sh", ["-c", wrapper, Env.skiff, "--root", s.stateRoot, "--log", log, mode, "-b", b, id])
            XCTAssertEqual(r.code, 0, r.stderr)
            if mode == "run" {
                XCTAssertEqual(
                    r.out.split(separator: "\n"), ["0", "1", "2", "3"], "descriptors leaked into the container")
            } else {
                // The created init holds only what it needs; ls /proc/PID/fd of init from the host.
                let pid = try XCTUnwrap(json(s.skiff(["state", id]).stdout)?["pid"] as? Int)
                let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap(Int.init)
                XCTAssertFalse(fds.contains(7) || fds.contains(9), "inherited descriptors kept by init: \(fds)")
                XCTAssertEqual(s.skiff(["delete", "-f", id]).code, 0)
            }
        }
        s.assertNothingLeftBehind()
    }

    /// process.cwd (or the program) as /proc/self/fd/N names one of skiff's own fds in
    /// init: the state directory, the log. None may put the program outside the rootfs.
    func testCwdThroughProcSelfFdCannotLeaveTheRootfs() throws {
        let s = try Sandbox()
        let log = s.dir.appendingPathComponent("skiff.log").path
        var refusedOutside = false
        for n in 3...12 {
            let b = try s.bundle("c\(n)", args: ["sh", "-c", "touch escaped-\(n); ls -a > listing-\(n)"]) { c in
                editProcess(&c) { $0["cwd"] = "/proc/self/fd/\(n)" }
            }
            let r = s.skiff(["--log", log, "create", "-b", b, "cwd\(n)"])
            if r.code == 0 {
                XCTAssertEqual(s.skiff(["start", "cwd\(n)"]).code, 0)
                waitUntilStopped(s, "cwd\(n)")
                XCTAssertEqual(s.skiff(["delete", "-f", "cwd\(n)"]).code, 0)
                XCTFail("process.cwd /proc/self/fd/\(n) was accepted")
            } else if r.err.contains("lies outside the container's root filesystem") {
                refusedOutside = true
            }
            // Every refusal is skiff's own, for a reason that keeps the program off that
            // directory: outside the root, not a directory (a file or socket), or no such fd.
            let cwdReasons = [
                "lies outside the container's root filesystem; refusing it (CVE-2024-21626)",
                "Not a directory", "No such file or directory",
            ].map { "skiff: process.cwd /proc/self/fd/\(n): \($0)" }
            XCTAssertEqual(r.code, 1)
            XCTAssertTrue(cwdReasons.contains(r.err), "process.cwd /proc/self/fd/\(n): \(r.err)")
            let a = try s.bundle("a\(n)", args: ["/proc/self/fd/\(n)"])
            let r2 = s.skiff(["--log", log, "run", "-b", a, "arg\(n)"])
            // Refused by skiff for the exact reason, before anything ran: a host binary
            // that ran and failed (skiff's own usage, say) must not count as a defence.
            XCTAssertEqual(r2.code, 1, "program /proc/self/fd/\(n) ran")
            XCTAssertEqual(r2.stdout, "")
            let reasons = ["no such file or directory", "permission denied or not a regular file"]
                .map { "skiff: exec \"/proc/self/fd/\(n)\": \($0)" }
            XCTAssertTrue(reasons.contains(r2.err), "program /proc/self/fd/\(n): \(r2.err)")
        }
        XCTAssertTrue(refusedOutside, "no fd of skiff's was a directory: the test did not exercise the attack")
        // Nothing was created on the host by a process whose cwd was there.
        let made =
            FileManager.default.enumerator(atPath: s.dir.path)?.compactMap { $0 as? String }
            .filter { $0.contains("escaped-") || $0.contains("listing-") } ?? []
        XCTAssertEqual(made, [])
        s.assertNothingLeftBehind()
    }

    // MARK: attack class 3: symlinks in the rootfs (CVE-2021-30465, CVE-2025-31133, CVE-2025-52881)

    func testProcSymlinkToRootIsRefused() throws {
        let s = try Sandbox()
        let rootfs = try s.writableRootfs("evil-proc")
        try FileManager.default.removeItem(atPath: rootfs + "/proc")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/proc", withDestinationPath: "/")
        let b = try s.bundle(args: ["true"]) { $0["root"] = ["path": rootfs, "readonly": true] }
        let r = s.skiff(["run", "-b", b, "p"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: mounts[0] /proc: /proc in rootfs \(rootfs) is or goes through a symlink; "
                + "refusing to use it")
        s.assertNothingLeftBehind()
    }

    /// /mnt -> / and /media -> a host directory: mount targets (tmpfs, a directory bind,
    /// a file bind) must be created and mounted inside the rootfs, never on the host.
    func testMountTargetsThroughSymlinksStayInTheRootfs() throws {
        let s = try Sandbox()
        let rootfs = try s.writableRootfs("evil-mnt")
        let outside = s.dir.appendingPathComponent("outside").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let share = s.dir.appendingPathComponent("share").path
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        try "shared".write(toFile: share + "/f", atomically: true, encoding: .utf8)
        for (link, target) in [("/mnt", "/"), ("/media", outside)] {
            try FileManager.default.removeItem(atPath: rootfs + link)
            try FileManager.default.createSymbolicLink(atPath: rootfs + link, withDestinationPath: target)
        }
        let canary = "skiff-canary-\(UUID().uuidString.prefix(8))"
        defer {
            for p in ["/\(canary)", "/\(canary)-bind", "/\(canary)-file"] {
                try? FileManager.default.removeItem(atPath: p)
            }
        }
        let b = try s.bundle(args: [
            "sh", "-c", "stat -f -c %T /mnt/\(canary); cat /mnt/\(canary)-bind/f; echo; cat /media/\(canary)-file",
        ]) { c in
            c["root"] = ["path": rootfs, "readonly": true]
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/mnt/\(canary)", "type": "tmpfs", "source": "tmpfs"])
            mounts.append([
                "destination": "/mnt/\(canary)-bind", "type": "bind", "source": share, "options": ["rbind", "ro"],
            ])
            mounts.append([
                "destination": "/media/\(canary)-file", "type": "bind", "source": share + "/f",
                "options": ["bind", "ro"],
            ])
            c["mounts"] = mounts
        }
        let r = s.skiff(["run", "-b", b, "m"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "tmpfs\nshared\nshared")
        for p in ["/\(canary)", "/\(canary)-bind"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: p), "skiff created \(p) on the host")
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: rootfs + p),
                "\(p) should have been made inside "
                    + "the rootfs")
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: outside), [],
            "skiff wrote into a host "
                + "directory")
        s.assertNothingLeftBehind()
    }

    /// /dev/null -> /etc/shadow: masking must bind the real null device (the host's,
    /// checked), never what the rootfs calls /dev/null.
    func testMaskingUsesTheRealNullDevice() throws {
        let s = try Sandbox()
        let dev = s.dir.appendingPathComponent("dev").path
        try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dev + "/null", withDestinationPath: "/etc/shadow")
        let b = try s.bundle(args: ["sh", "-c", "wc -c < /proc/timer_list; stat -L -c '%F %t:%T' /proc/timer_list"]) {
            c in
            // /dev comes from the bundle as is (a bind mount), so skiff creates no device there.
            c["mounts"] = (c["mounts"] as! [[String: Any]]).map { m in
                m["destination"] as? String == "/dev"
                    ? ["destination": "/dev", "type": "bind", "source": dev, "options": ["rbind"]] : m
            }
        }
        let r = s.skiff(["run", "-b", b, "null"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "0\ncharacter special file 1:3")
        s.assertNothingLeftBehind()
    }

    /// A rootfs without a proc mount whose /proc/sys/... is a symlink to a host file:
    /// sysctl must check that /proc/sys is procfs and write nothing.
    func testSysctlRefusesAFakeProc() throws {
        let s = try Sandbox()
        let rootfs = try s.writableRootfs("evil-sysctl")
        let canary = s.dir.appendingPathComponent("canary").path
        try "untouched".write(toFile: canary, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
            atPath: rootfs + "/proc/sys/net/ipv4", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: rootfs + "/proc/sys/net/ipv4/ip_forward", withDestinationPath: canary)
        let b = try s.bundle(args: ["true"]) { c in
            c["root"] = ["path": rootfs, "readonly": true]
            c["mounts"] = (c["mounts"] as! [[String: Any]]).filter { $0["type"] as? String != "proc" }
            editLinux(&c) { $0["sysctl"] = ["net.ipv4.ip_forward": "1"] }
        }
        let r = s.skiff(["run", "-b", b, "sysctl"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: linux.sysctl: /proc/sys in the container is not procfs (found "
                + "0x\(filesystemType(rootfs + "/proc"))); refusing to use it")
        XCTAssertEqual(try String(contentsOfFile: canary, encoding: .utf8), "untouched")
        s.assertNothingLeftBehind()
    }

    // MARK: features and --explain

    func testFeaturesListSecurity() throws {
        let s = try Sandbox()
        let r = s.skiff(["features"])
        let linux = try XCTUnwrap(json(r.stdout)?["linux"] as? [String: Any])
        let seccomp = try XCTUnwrap(linux["seccomp"] as? [String: Any])
        XCTAssertEqual(seccomp["enabled"] as? Bool, true)
        XCTAssertTrue((seccomp["actions"] as? [String])?.contains("SCMP_ACT_NOTIFY") == true)
        XCTAssertEqual((seccomp["operators"] as? [String])?.count, 7)
        XCTAssertTrue((seccomp["archs"] as? [String])?.contains("SCMP_ARCH_X86_64") == true)
        XCTAssertTrue((seccomp["supportedFlags"] as? [String])?.contains("SECCOMP_FILTER_FLAG_LOG") == true)
        XCTAssertTrue((linux["capabilities"] as? [String])?.contains("CAP_SYS_ADMIN") == true)
        XCTAssertTrue((linux["namespaces"] as? [String])?.contains("user") == true)
    }

    func testExplainNarratesTheSecuritySteps() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            editProcess(&c) { $0["noNewPrivileges"] = false }
            editLinux(&c) { $0["seccomp"] = try! defaultProfile() }
        }
        let r = s.skiff(["--explain", "run", "-b", b, "explain"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let steps = r.stderr.split(separator: "\n").map { String($0.prefix(18)).trimmingCharacters(in: .whitespaces) }
        let wanted = [
            "protect binary", "not dumpable", "mask path", "read-only path", "switch root", "bounding set",
            "set user", "set capabilities", "syscall filter", "drop capabilities", "start program",
        ]
        var last = -1
        for w in wanted {
            guard let i = steps.firstIndex(of: w) else {
                XCTFail("no --explain line for \(w):\n\(r.stderr)")
                continue
            }
            XCTAssertGreaterThan(i, last, "\(w) out of order:\n\(r.stderr)")
            last = i
        }
        XCTAssertTrue(r.stderr.contains("seccomp(SECCOMP_SET_MODE_FILTER, "), r.stderr)
    }
}

// MARK: - helpers

/// Capability numbers used here (linux/capability.h).
private let capNumbers: [String: Int] = [
    "CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
    "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29,
]

/// The capability set as /proc/PID/status prints it.
private func capMask(_ names: [String]) -> String {
    let bits = names.reduce(UInt64(0)) { $0 | (1 << UInt64(capNumbers[$1]!)) }
    let hex = String(bits, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// "Name:\tvalue" lines of /proc/PID/status.
private func statusFields(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        out[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return out
}

private func editProcess(_ c: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
    var p = c["process"] as! [String: Any]
    edit(&p)
    c["process"] = p
}

private func editLinux(_ c: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
    var l = c["linux"] as? [String: Any] ?? [:]
    edit(&l)
    c["linux"] = l
}

private func addTmpfs(_ c: inout [String: Any], _ path: String) {
    var mounts = c["mounts"] as! [[String: Any]]
    mounts.append(["destination": path, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]])
    c["mounts"] = mounts
}

/// profiles/seccomp-default.json as a JSON object.
private func defaultProfile() throws -> [String: Any] {
    let data = try Data(contentsOf: repoRoot.appendingPathComponent("profiles/seccomp-default.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

/// statfs f_type of a directory (what a rootfs's own /proc is made of), in hex.
private func filesystemType(_ path: String) -> String {
    runProgram("/usr/bin/stat", ["-f", "-c", "%t", path]).out
}

/// Wait (up to 20 s) until the attacker's log in `dir` satisfies `done`; return the log.
private func waitForLog(_ dir: URL, until done: (String) -> Bool) -> String {
    var text = ""
    for _ in 0..<400 {
        text = (try? String(contentsOf: dir.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        if done(text) { break }
        usleep(50_000)
    }
    return text
}

private func waitUntilStopped(_ s: Sandbox, _ id: String) {
    for _ in 0..<500 {
        if json(s.skiff(["state", id]).stdout)?["status"] as? String == "stopped" { return }
        usleep(20_000)
    }
}

extension Sandbox {
    /// A private, writable copy of the Alpine rootfs (for rootfs that tests break on purpose).
    func writableRootfs(_ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let r = runProgram("/bin/cp", ["-a", Env.rootfs!, path])
        XCTAssertEqual(r.code, 0, r.stderr)
        return path
    }
}

/// Run `body` on another thread; `wait()` for its result.
private final class OnThread<T>: @unchecked Sendable {
    private var result: T?
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    init(_ body: @escaping () -> T) {
        Thread.detachNewThread { [self] in
            let value = body()
            lock.lock()
            result = value
            lock.unlock()
            done.signal()
        }
    }
    var isDone: Bool {
        lock.lock()
        defer { lock.unlock() }
        return result != nil
    }
    func wait() -> T {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return result!
    }
}

/// A unix stream socket listening at `path`, standing in for a seccomp agent.
private final class UnixListener {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0, listen(fd, 4) == 0 else {
            throw XCTSkip(
                "cannot listen on \(path): "
                    + "\(String(cString: strerror(errno)))")
        }
    }

    func close() { _ = Glibc.close(fd) }

    /// Accept one connection and read one message with the fd it carries (SCM_RIGHTS).
    func acceptMessageWithFd(timeout: Int) throws -> (String, Int32) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) == 1 else {
            throw AgentError(
                "no connection to the seccomp agent "
                    + "socket")
        }
        let conn = accept(fd, nil, nil)
        guard conn >= 0 else { throw AgentError("accept: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(conn) }
        var data = [UInt8](repeating: 0, count: 65536)
        var control = [UInt8](repeating: 0, count: 64)
        var received = 0
        var passed: Int32 = -1
        data.withUnsafeMutableBytes { d in
            control.withUnsafeMutableBytes { c in
                var iov = iovec(iov_base: d.baseAddress, iov_len: d.count)
                withUnsafeMutablePointer(to: &iov) { iovp in
                    var mh = msghdr()
                    mh.msg_iov = iovp
                    mh.msg_iovlen = 1
                    mh.msg_control = c.baseAddress
                    mh.msg_controllen = c.count
                    received = recvmsg(conn, &mh, 0)
                    // struct cmsghdr { size_t len; int level; int type; } then the data.
                    if received > 0 && mh.msg_controllen >= 20
                        && c.load(fromByteOffset: 8, as: Int32.self) == SOL_SOCKET
                        && c.load(fromByteOffset: 12, as: Int32.self) == 1 // SCM_RIGHTS
                    {
                        passed = c.load(fromByteOffset: 16, as: Int32.self)
                    }
                }
            }
        }
        guard received > 0, passed >= 0 else { throw AgentError("the agent got no fd (received \(received) bytes)") }
        return (String(decoding: data[0..<received], as: UTF8.self), passed)
    }
}

/// The seccomp agent stand-in got nothing (fails the test).
private struct AgentError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
