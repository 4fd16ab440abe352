// Issue 6: `skiff run --rootfs` with Docker-like flags, the overlay root, diff,
// --rm, --explain and inspect.
import Foundation
import XCTest

final class QuickRunTests: XCTestCase {
    /// skiff --root STATE run --rootfs ALPINE ARGS...
    private func quick(_ s: Sandbox, _ args: [String], stdin: String? = nil) -> Result {
        s.skiff(["run", "--rootfs", Env.rootfs!] + args, stdin: stdin)
    }

    func testDefaultsLikeDocker() throws {
        let s = try Sandbox()
        let r = quick(
            s,
            [
                "--rm", "--name", "dflt", "--", "sh", "-c",
                "hostname; echo $HOSTNAME; grep CapEff /proc/self/status; cat /proc/timer_list | wc -c; ls "
                    + "/sys/class/net; echo $PATH",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(
            r.out.split(separator: "\n").map(String.init),
            [
                "dflt", "dflt",
                "CapEff:\t00000000a80425fb", // Docker's 14 default capabilities
                "0", "lo", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ])
        s.assertNothingLeftBehind()
    }

    func testDefaultCommandIsShAndStdinNeedsDashI() throws {
        let s = try Sandbox()
        XCTAssertEqual(quick(s, ["--rm", "-i"], stdin: "echo from-stdin $((1+2))\n").out, "from-stdin 3")
        // Without -i the container's stdin is /dev/null, as with docker run.
        XCTAssertEqual(quick(s, ["--rm", "sh", "-c", "cat; echo end"], stdin: "ignored\n").out, "end")
        s.assertNothingLeftBehind()
    }

    func testEnvWorkdirUserHostname() throws {
        let s = try Sandbox()
        let envFile = s.dir.appendingPathComponent("env")
        try "# comment\nFROM_FILE=yes\n\n".write(to: envFile, atomically: true, encoding: .utf8)
        let r = quick(
            s,
            [
                "--rm", "-e", "A=1", "--env", "B=two words", "--env-file", envFile.path, "-w", "/tmp", "-u", "guest",
                "-h", "myhost", "sh", "-c", "echo $A/$B/$FROM_FILE; pwd; id -un; hostname",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "1/two words/yes\n/tmp\nguest\nmyhost")
        XCTAssertEqual(quick(s, ["--rm", "-u", "1000:1001", "id"]).out, "uid=1000 gid=1001")
        XCTAssertEqual(
            quick(s, ["--rm", "-u", "nobody-here", "id"]).err,
            "skiff: --user nobody-here: no user \"nobody-here\" in \(Env.rootfs!)/etc/passwd")
        s.assertNothingLeftBehind()
    }

    func testVolumesTmpfsReadOnly() throws {
        let s = try Sandbox()
        let host = s.dir.appendingPathComponent("vol")
        try FileManager.default.createDirectory(at: host, withIntermediateDirectories: true)
        try "host data".write(to: host.appendingPathComponent("in"), atomically: true, encoding: .utf8)
        let r = quick(
            s,
            [
                "--rm", "-v", "\(host.path):/data", "-v", "\(host.path):/ro:ro", "--tmpfs", "/scratch", "--read-only",
                "sh", "-c",
                "cat /data/in; echo; echo out > /data/out; touch /ro/x 2>/dev/null || echo ro-refused; touch "
                    + "/scratch/ok && echo tmpfs-ok; touch /rootfile 2>/dev/null || echo root-ro; grep -c ' "
                    + "/scratch tmpfs' /proc/mounts",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "host data\nro-refused\ntmpfs-ok\nroot-ro\n1")
        XCTAssertEqual(try String(contentsOf: host.appendingPathComponent("out"), encoding: .utf8), "out\n")
        XCTAssertEqual(
            quick(s, ["--rm", "-v", "relative/dir:/x", "true"]).err,
            "skiff: --volume relative/dir:/x: invalid volume name \"relative/dir\": use letters, digits, '_', '.' "
                + "and '-', starting with a letter or digit"
        )
        s.assertNothingLeftBehind()
    }

    func testNetworkNoneAndHost() throws {
        let s = try Sandbox()
        XCTAssertEqual(quick(s, ["--rm", "--network", "none", "ls", "/sys/class/net"]).out, "lo")
        let host = quick(s, ["--rm", "--network", "host", "readlink", "/proc/self/ns/net"])
        XCTAssertEqual(host.code, 0, host.stderr)
        XCTAssertEqual(host.out, try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net"))
        XCTAssertEqual(
            quick(s, ["--rm", "--network", "no/such", "true"]).err,
            "skiff: --network no/such: use 1 to 12 letters, digits, '_', '.' or '-' (its bridge is sk-NAME, and "
                + "Linux allows 15 characters)"
        )
        s.assertNothingLeftBehind()
    }

    func testCapabilitiesNoNewPrivsUlimitEntrypoint() throws {
        let s = try Sandbox()
        let caps = quick(
            s, ["--rm", "--cap-drop", "ALL", "--cap-add", "net_admin", "grep", "CapEff", "/proc/self/status"])
        XCTAssertEqual(caps.out, "CapEff:\t0000000000001000") // CAP_NET_ADMIN is bit 12
        XCTAssertEqual(
            quick(s, ["--rm", "--security-opt", "no-new-privileges", "grep", "NoNewPrivs", "/proc/self/status"]).out,
            "NoNewPrivs:\t1")
        XCTAssertEqual(quick(s, ["--rm", "grep", "NoNewPrivs", "/proc/self/status"]).out, "NoNewPrivs:\t0")
        XCTAssertEqual(
            quick(s, ["--rm", "--ulimit", "nofile=100:200", "sh", "-c", "ulimit -n; ulimit -Hn"]).out, "100\n200")
        XCTAssertEqual(quick(s, ["--rm", "--entrypoint", "echo", "hello", "world"]).out, "hello world")
        s.assertNothingLeftBehind()
    }

    /// The default seccomp profile blocks unshare (no CAP_SYS_ADMIN); seccomp=unconfined
    /// lifts it; seccomp=FILE loads that profile instead.
    func testSeccompDefaultUnconfinedAndFile() throws {
        let s = try Sandbox()
        let blocked = quick(
            s, ["--rm", "sh", "-c", "unshare -U true && echo allowed || echo blocked; grep Seccomp: /proc/self/status"])
        XCTAssertEqual(blocked.out, "blocked\nSeccomp:\t2", blocked.stderr)
        XCTAssertTrue(blocked.stderr.contains("Operation not permitted"), blocked.stderr)
        let open = quick(
            s,
            [
                "--rm", "--security-opt", "seccomp=unconfined", "sh", "-c",
                "unshare -U true && echo allowed; grep Seccomp: /proc/self/status",
            ])
        XCTAssertEqual(open.out, "allowed\nSeccomp:\t0")
        let profile = s.dir.appendingPathComponent("no-mkdir.json")
        try
            (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "#
            + #""SCMP_ACT_ERRNO", "errnoRet": 13}]}"#)
            .write(to: profile, atomically: true, encoding: .utf8)
        let file = quick(
            s,
            [
                "--rm", "--security-opt", "seccomp=\(profile.path)", "sh", "-c",
                "mkdir /tmp/d 2>&1; unshare -U true && echo unshare-allowed",
            ])
        XCTAssertEqual(file.out, "mkdir: can't create directory '/tmp/d': Permission denied\nunshare-allowed")
        s.assertNothingLeftBehind()
    }

    /// --memory, --memory-swap, --cpus, --pids-limit as the container's own cgroup shows
    /// them (needs cgroup v2: the VM suite runs it).
    func testResourceFlagsInsideCgroup() throws {
        let s = try Sandbox()
        guard
            ((try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.subtree_control", encoding: .utf8)) ?? "").contains(
                "memory")
        else {
            if ProcessInfo.processInfo.environment["SKIFF_REQUIRE_CGROUP2"] == "1" {
                XCTFail("needs cgroup v2 with the memory controller")
            }
            throw XCTSkip("needs a cgroup v2 hierarchy with memory, cpu and pids controllers (the VM suite runs it)")
        }
        let r = quick(
            s,
            [
                "--rm", "--memory", "32m", "--memory-swap", "64m", "--cpus", "0.5", "--pids-limit", "20", "sh", "-c",
                "cd /sys/fs/cgroup && cat memory.max memory.swap.max cpu.max pids.max",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "33554432\n33554432\n50000 100000\n20")
        s.assertNothingLeftBehind()
    }

    func testSizesAndBadFlags() throws {
        let s = try Sandbox()
        XCTAssertEqual(
            quick(s, ["--rm", "--memory", "12x", "true"]).err,
            "skiff: --memory: invalid size \"12x\" (use e.g. 512k, 64m, 1.5g)")
        XCTAssertEqual(
            s.skiff(["run", "--tty", "x"]).err, "skiff: --tty needs --rootfs (with a bundle, put it in config.json)")
        let spec = s.dir.appendingPathComponent("specdir")
        try FileManager.default.createDirectory(at: spec, withIntermediateDirectories: true)
        let r = s.skiff([
            "spec", "--bundle", spec.path, "--rootfs", Env.rootfs!, "--memory", "64m", "--pids-limit", "20",
            "--cpus", "0.5", "-e", "X=1", "--name", "web", "echo", "hi",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let c = try XCTUnwrap(json(try String(contentsOf: spec.appendingPathComponent("config.json"), encoding: .utf8)))
        let res = try XCTUnwrap((c["linux"] as? [String: Any])?["resources"] as? [String: Any])
        XCTAssertEqual((res["memory"] as? [String: Any])?["limit"] as? Int, 64 << 20)
        XCTAssertEqual((res["pids"] as? [String: Any])?["limit"] as? Int, 20)
        XCTAssertEqual((res["cpu"] as? [String: Any])?["quota"] as? Int, 50_000)
        XCTAssertEqual((c["process"] as? [String: Any])?["args"] as? [String], ["echo", "hi"])
        XCTAssertEqual(c["hostname"] as? String, "web")
        XCTAssertEqual((c["annotations"] as? [String: String])?["run.skiff.overlay"], "true")
        s.assertNothingLeftBehind()
    }

    /// The rootfs is the lower layer: a container that writes, deletes and chmods leaves
    /// it byte-for-byte as it was; its changes are in its upper layer, which `diff` reads.
    func testRootfsStaysPristineAndDiff() throws {
        let s = try Sandbox()
        let before = try treeChecksum(Env.rootfs!)
        let r = quick(
            s,
            [
                "--name", "writer", "sh", "-c",
                "echo new > /etc/newfile; rm /etc/motd; chmod 700 /etc/issue; mkdir -p /root/dir; echo x > /root/dir/f",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try treeChecksum(Env.rootfs!), before, "the lower layer changed")
        let st = try XCTUnwrap(json(s.skiff(["state", "writer"]).stdout))
        XCTAssertEqual(st["status"] as? String, "stopped", "without --rm the container stays, like docker")
        let diff = s.skiff(["diff", "writer"])
        XCTAssertEqual(diff.code, 0, diff.stderr)
        // Depth first, names sorted in each directory (a parent before what it holds).
        XCTAssertEqual(
            diff.out.split(separator: "\n").map(String.init),
            ["C /etc", "C /etc/issue", "D /etc/motd", "A /etc/newfile", "C /root", "A /root/dir", "A /root/dir/f"])
        XCTAssertEqual(s.skiff(["delete", "writer"]).code, 0)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: s.stateRoot + "/writer"), "the upper layer is removed by delete")
        s.assertNothingLeftBehind()
    }

    func testRmLeavesNothingAndDetachedRm() throws {
        let s = try Sandbox()
        XCTAssertEqual(quick(s, ["--rm", "--name", "gone", "sh", "-c", "echo data > /file"]).code, 0)
        XCTAssertEqual(s.stateEntries, [])
        let d = quick(s, ["-d", "--rm", "--name", "bg", "sleep", "1"])
        XCTAssertEqual(d.code, 0, d.stderr)
        XCTAssertEqual(d.out, "bg")
        XCTAssertEqual(json(s.skiff(["state", "bg"]).stdout)?["status"] as? String, "running")
        XCTAssertTrue(waitFor { s.stateEntries.isEmpty }, "detached --rm container was not removed after it exited")
        s.assertNothingLeftBehind()
    }

    /// `skiff run -it --rm --rootfs ALPINE`: the docker run -it experience, under a real pty.
    func testInteractiveTerminal() throws {
        let s = try Sandbox()
        let r = runProgram(
            "/usr/bin/python3",
            [
                fixtures.appendingPathComponent("pty-driver.py").path, "30", "90",
                "wait:# |type:echo answer-$((6*7)); tty; exit 3\\n", "--",
                Env.skiff, "--root", s.stateRoot, "run", "-it", "--rm", "--rootfs", Env.rootfs!,
            ])
        XCTAssertEqual(r.code, 3, r.stdout)
        XCTAssertTrue(r.stdout.contains("answer-42"), r.stdout)
        XCTAssertTrue(r.stdout.contains("/dev/pts/0"), r.stdout)
        s.assertNothingLeftBehind()
    }

    func testTarballRootfsIsCachedBySHA256() throws {
        let s = try Sandbox()
        let tarball = s.dir.appendingPathComponent("alpine.tar.gz").path
        XCTAssertEqual(runProgram("/bin/tar", ["-czf", tarball, "-C", Env.rootfs!, "."]).code, 0)
        let cache = s.dir.appendingPathComponent("cache").path
        let env = ["SKIFF_CACHE": cache, "PATH": "/usr/bin:/bin", "SKIFF_DATA": s.dataRoot]
        let r1 = runProgram(
            Env.skiff, ["--root", s.stateRoot, "run", "--rm", "--rootfs", tarball, "cat", "/etc/alpine-release"],
            env: env)
        XCTAssertEqual(r1.code, 0, r1.stderr)
        XCTAssertEqual(r1.out, "3.20.3")
        let sum = runProgram("/usr/bin/sha256sum", [tarball]).out.split(separator: " ").first.map(String.init) ?? "?"
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache), [sum])
        // A second run reuses the cache (no unpacking).
        let r2 = runProgram(
            Env.skiff, ["--root", s.stateRoot, "--explain", "run", "--rm", "--rootfs", tarball, "true"], env: env)
        XCTAssertEqual(r2.code, 0, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("cached rootfs"), r2.stderr)
        XCTAssertFalse(r2.stderr.contains("unpack rootfs"))
        s.assertNothingLeftBehind()
    }
}

final class ExplainTests: XCTestCase {
    /// Lines of --explain (stderr), in order, for each command.
    func testExplainLinesInOrder() throws {
        let s = try Sandbox()
        let run = s.skiff(["--explain", "run", "-d", "--rootfs", Env.rootfs!, "--name", "ex", "sleep", "30"])
        XCTAssertEqual(run.code, 0, run.stderr)
        assertInOrder(
            run.stderr,
            [
                "new process       clone3(CLONE_VM|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS)",
                "new namespaces    unshare(CLONE_NEWCGROUP)",
                "hostname          sethostname(\"ex\")",
                "root filesystem   mount(\"overlay\"",
                "mount proc        mount(\"proc\"",
                "create device     mknod(\"/dev/null\"",
                "mask path         ",
                "switch root       pivot_root(\".\", \".\")",
                "start program     execve(\"/bin/sleep\"",
            ])
        XCTAssertTrue(run.stderr.contains(" ms)\n"), "steps are timed")
        let exec = s.skiff(["--explain", "exec", "ex", "true"])
        assertInOrder(exec.stderr, ["join namespace    setns(", "start program     execve(\"/bin/true\""])
        let kill = s.skiff(["--explain", "kill", "ex", "KILL"])
        assertInOrder(kill.stderr, ["send signal       pidfd_send_signal("])
        XCTAssertTrue(waitFor { json(s.skiff(["state", "ex"]).stdout)?["status"] as? String == "stopped" })
        let del = s.skiff(["--explain", "delete", "ex"])
        assertInOrder(del.stderr, ["remove state      rm -r "])
        s.assertNothingLeftBehind()
    }

    func assertInOrder(_ text: String, _ needles: [String], file: StaticString = #filePath, line: UInt = #line) {
        var from = text.startIndex
        for n in needles {
            guard let r = text.range(of: n, range: from..<text.endIndex) else {
                XCTFail("missing (in order) \"\(n)\" in:\n\(text)", file: file, line: line)
                return
            }
            from = r.upperBound
        }
    }
}

final class InspectTests: XCTestCase {
    func testInspectMatchesProc() throws {
        let s = try Sandbox()
        XCTAssertEqual(
            s.skiff(["run", "-d", "--rootfs", Env.rootfs!, "--name", "insp", "--network", "host", "sleep", "30"]).code,
            0)
        let doc = try XCTUnwrap(json(s.skiff(["inspect", "--format", "json", "insp"]).stdout))
        let pid = try XCTUnwrap(doc["pid"] as? Int)
        XCTAssertEqual(doc["status"] as? String, "running")
        let nss = try XCTUnwrap(doc["namespaces"] as? [[String: Any]])
        for ns in nss {
            let type = ns["type"] as! String
            let truth = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(type)")
            XCTAssertEqual(truth, "\(type):[\(ns["inode"] as! Int)]")
            let host = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(type)")
            XCTAssertEqual(ns["shared"] as? Bool, truth == host, type)
        }
        XCTAssertEqual(
            nss.first { $0["type"] as? String == "net" }?["shared"] as? Bool, true, "--network host shares the host's")
        XCTAssertEqual(nss.first { $0["type"] as? String == "pid" }?["shared"] as? Bool, false)
        let caps = try XCTUnwrap(doc["capabilities"] as? [String: [String]])
        XCTAssertEqual(caps["CapEff"]?.count, 14)
        XCTAssertTrue(caps["CapEff"]?.contains("CAP_KILL") == true)
        let mounts = try XCTUnwrap(doc["mounts"] as? [String])
        XCTAssertTrue(mounts.first?.hasPrefix("/ overlay overlay") == true, "\(mounts.first ?? "")")
        let overlay = try XCTUnwrap(doc["overlay"] as? [String: String])
        XCTAssertEqual(overlay["lower"], Env.rootfs)
        XCTAssertTrue(FileManager.default.fileExists(atPath: overlay["upper"]!))
        let text = s.skiff(["inspect", "insp"]).stdout
        XCTAssertTrue(text.contains("net     "), text)
        XCTAssertTrue(text.contains("shared with the host"))
        XCTAssertEqual(s.skiff(["delete", "-f", "insp"]).code, 0)
        s.assertNothingLeftBehind()
    }
}

/// A checksum of a directory tree: every path with its type, mode, owner and content.
func treeChecksum(_ dir: String) throws -> String {
    let r = runProgram(
        "/bin/sh",
        [
            "-c",
            "cd '\(dir)' && find . -printf '%p %y %m %U %G %s %l\\n' | sort | sha256sum && find . -type f -exec "
                + "sha256sum {} + | sort | sha256sum",
        ])
    XCTAssertEqual(r.code, 0, r.stderr)
    return r.out
}
