// One regression test per finding of the security review of d7a5345
// (../shared/reviews/security-review.md). Each failed on that commit; the finding's id
// (H1, M1, ...) is in the test's name, and docs/security.md maps findings to tests.
import Foundation
import XCTest

final class ReviewFindingTests: XCTestCase {
    private let probeTTY = "if (: >/dev/tty) 2>/dev/null; then echo HAS-CTTY; else echo no-ctty; fi; echo END"

    /// Run skiff ARGS as the session leader of a new pty, as an administrator at a
    /// terminal would: the pty is skiff's controlling terminal.
    private func underPty(_ s: Sandbox, _ args: [String], wait: String = "END") -> Result {
        runProgram(
            "/usr/bin/python3",
            [
                fixtures.appendingPathComponent("pty-driver.py").path, "24", "80", "wait:\(wait)", "--",
                Env.skiff, "--root", s.stateRoot,
            ] + args)
    }

    /// The tty_nr field of /proc/PID/stat: 0 when the process has no controlling terminal.
    private func controllingTTY(_ pid: Int) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let rest = stat.split(separator: ")").last
        else { return nil }
        let f = rest.split(separator: " ")
        return f.count > 4 ? Int(f[4]) : nil // after ")": state ppid pgrp session tty_nr
    }

    // MARK: H1: no container process keeps the caller's terminal as its controlling tty

    func testH1ForegroundRunWithoutTerminalHasNoControllingTTY() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", probeTTY])
        let r = underPty(s, ["run", "-b", b, "tty-fg"])
        XCTAssertEqual(r.code, 0, r.stdout)
        XCTAssertTrue(
            r.stdout.contains("no-ctty"), "the container can open the caller's terminal (TIOCSTI): \(r.stdout)")
        XCTAssertFalse(r.stdout.contains("HAS-CTTY"), r.stdout)
        s.assertNothingLeftBehind()
    }

    func testH1DetachedContainerAndExecHaveNoControllingTTY() throws {
        let s = try Sandbox()
        let out = s.dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let b = try s.bundle(args: ["sh", "-c", "(\(probeTTY)) > /out/probe; exec sleep 1000"]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/out", "type": "bind", "source": out.path, "options": ["rbind", "rw"]])
            c["mounts"] = mounts
        }
        // run -d from the administrator's terminal: skiff returns, the container stays.
        let r = underPty(s, ["run", "-d", "-b", b, "tty-d"], wait: "")
        XCTAssertEqual(r.code, 0, r.stdout)
        XCTAssertTrue(
            waitFor {
                ((try? String(contentsOf: out.appendingPathComponent("probe"), encoding: .utf8)) ?? "").contains("END")
            })
        let probe = try String(contentsOf: out.appendingPathComponent("probe"), encoding: .utf8)
        XCTAssertTrue(probe.contains("no-ctty"), "a detached container can open the caller's terminal: \(probe)")
        let pid = try XCTUnwrap(json(s.skiff(["state", "tty-d"]).stdout)?["pid"] as? Int)
        XCTAssertEqual(controllingTTY(pid), 0, "init has a controlling terminal")
        // exec without -t, from a terminal.
        let e = underPty(s, ["exec", "tty-d", "sh", "-c", probeTTY])
        XCTAssertEqual(e.code, 0, e.stdout)
        XCTAssertTrue(e.stdout.contains("no-ctty"), "an exec'd process can open the caller's terminal: \(e.stdout)")
        // exec -t still gets its own pty as controlling terminal (the terminal path works).
        let t = underPty(s, ["exec", "-t", "tty-d", "sh", "-c", probeTTY + "; tty"])
        XCTAssertTrue(
            t.stdout.contains("HAS-CTTY") && t.stdout.contains("/dev/pts/"), "exec -t lost its terminal: \(t.stdout)")
        XCTAssertEqual(s.skiff(["delete", "-f", "tty-d"]).code, 0)
        s.assertNothingLeftBehind()
    }

    // MARK: M1: LISTEN_FDS needs LISTEN_PID; preserved fds must be open

    func testM1StaleListenFdsPassNothingOfSkiffs() throws {
        let s = try Sandbox()
        let log = s.dir.appendingPathComponent("skiff.log").path
        // ls lists its own descriptors: stdio, plus 3 for the directory it reads.
        let b = try s.bundle(args: ["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; echo; ls -l /proc/self/fd"])
        // fds 3..7 closed in the caller, LISTEN_FDS=5 naming another process (a stale activation).
        let script = "exec 3>&- 4>&- 5>&- 6>&- 7>&-; LISTEN_FDS=5 LISTEN_PID=1 exec \"$0\" \"$@\""
        let r = runProgram(
            "/bin/sh", ["-c", script, Env.skiff, "--root", s.stateRoot, "--log", log, "run", "-b", b, "leak"],
            env: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains(log), "the log file reached the container: \(r.stdout)")
        XCTAssertFalse(r.stdout.contains(s.stateRoot), "the state directory reached the container: \(r.stdout)")
        let fds = r.stdout.split(separator: "\n").first?.split(separator: " ").compactMap { Int($0) } ?? []
        XCTAssertEqual(fds, [0, 1, 2, 3], "skiff's descriptors reached the container: \(r.stdout)")
        s.assertNothingLeftBehind()
    }

    func testM1PreservedFdThatIsNotOpenIsRefused() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"])
        for args in [["run", "-b", b, "--preserve-fds", "3", "pf"], ["create", "-b", b, "--preserve-fds", "2", "pf"]] {
            let r = runProgram(
                "/bin/sh",
                ["-c", "exec 3</etc/hostname 4>&- 5>&-; exec \"$0\" \"$@\"", Env.skiff, "--root", s.stateRoot] + args)
            XCTAssertEqual(r.code, 1)
            XCTAssertEqual(
                r.err,
                "skiff: --preserve-fds \(args[4]): fd 4 is not open (the fds passed to the container must be open "
                    + "in skiff's caller)"
            )
            XCTAssertEqual(s.stateEntries, [])
        }
        // All open: accepted, and the container sees exactly them.
        let c = try s.bundle("c", args: ["sh", "-c", "readlink /proc/self/fd/3; readlink /proc/self/fd/4"])
        let r = runProgram(
            "/bin/sh",
            [
                "-c", "exec 3</etc/hostname 4</etc/passwd; exec \"$0\" \"$@\"", Env.skiff, "--root", s.stateRoot,
                "run", "-b", c, "--preserve-fds", "2", "pf-ok",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "/etc/hostname\n/etc/passwd")
        s.assertNothingLeftBehind()
    }

    // MARK: M2: exec is not dumpable before it joins a namespace

    func testM2ExecIsNotDumpableBeforeJoiningNamespaces() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sleep", "1000"])
        XCTAssertEqual(s.skiff(["run", "-d", "-b", b, "nd"]).code, 0)
        let r = s.skiff(["--explain", "exec", "nd", "true"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let dumpable = lines.firstIndex { $0.hasPrefix("not dumpable") }
        let join = lines.firstIndex {
            $0.hasPrefix("join namespace") && !$0.contains("/ns/pid") && !$0.contains("/ns/time")
        }
        XCTAssertNotNil(dumpable, "exec never became non-dumpable before execve: \(r.stderr)")
        XCTAssertNotNil(join, r.stderr)
        if let dumpable, let join {
            XCTAssertLessThan(dumpable, join, "exec joined a namespace while still dumpable: \(r.stderr)")
        }
        XCTAssertEqual(s.skiff(["delete", "-f", "nd"]).code, 0)
        s.assertNothingLeftBehind()
    }

    // MARK: M3: the binary's read-only copy is never attached where anyone can see it

    func testM3BinaryProtectionAttachesNoMount() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"])
        let trace = s.dir.appendingPathComponent("trace").path
        // Every mount-making syscall skiff (not the container) makes before its re-exec.
        let r = runProgram(
            "/usr/bin/strace",
            [
                "-f", "-e", "trace=mount,move_mount,open_tree", "-o", trace,
                Env.skiff, "--root", s.stateRoot, "run", "-b", b, "m3",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        let exeMounts = calls.filter { $0.contains("/proc/self/exe") && !$0.contains("open_tree(") }
        XCTAssertEqual(exeMounts, [], "skiff's binary was mounted where other mount namespaces can see it")
        XCTAssertTrue(
            calls.contains { $0.contains("open_tree(AT_FDCWD, \"/proc/self/exe\", OPEN_TREE_CLONE") },
            "no detached read-only copy was made: \(calls.prefix(5))")
        s.assertNothingLeftBehind()
    }

    // MARK: M4: mount flags land on the mount that was made, whatever happens to the path

    /// Another container (played by this test, as in the 2021 Kubernetes proof of concept)
    /// shares the volume mounted at /shared and swaps `data` with a symlink to / in a loop
    /// while skiff mounts a read-only volume at /shared/data. Re-resolving the path for
    /// the read-only remount would make the container's root read-only instead and leave
    /// the volume writable. It must never be writable.
    func testM4ReadOnlyVolumeStaysReadOnlyDuringASymlinkSwap() throws {
        let s = try Sandbox()
        let shared = s.dir.appendingPathComponent("shared")
        let secret = s.dir.appendingPathComponent("readonly-volume")
        for d in [shared.appendingPathComponent("data"), secret] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(
            atPath: shared.appendingPathComponent("lnk").path, withDestinationPath: "/")
        let b = try s.bundle(args: [
            "sh", "-c", "for d in /shared/*/; do touch $d/written 2>/dev/null && echo WRITABLE; done; true",
        ]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append([
                "destination": "/shared", "type": "bind", "source": shared.path, "options": ["rbind", "rw"],
            ])
            mounts.append([
                "destination": "/shared/data", "type": "bind", "source": secret.path, "options": ["rbind", "ro"],
            ])
            c["mounts"] = mounts
        }
        // The swapper: renameat2(RENAME_EXCHANGE) in a loop, for at most 60 s.
        let swapper = """
            import ctypes, os, sys, time
            libc = ctypes.CDLL(None, use_errno=True)
            a, b = (os.path.join(sys.argv[1], n).encode() for n in ("data", "lnk"))
            end = time.time() + 60
            while time.time() < end and not os.path.exists(sys.argv[2]):
                libc.renameat2(-100, a, -100, b, 2)
            """
        let stop = s.dir.appendingPathComponent("stop").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", swapper, shared.path, stop]
        try p.run()
        defer {
            FileManager.default.createFile(atPath: stop, contents: nil)
            p.waitUntilExit()
        }
        var writable = 0
        var refused = 0
        for i in 0..<150 {
            let r = s.skiff(["run", "-b", b, "swap\(i)"])
            if r.code != 0 {
                refused += 1
                continue
            }
            if r.stdout.contains("WRITABLE") { writable += 1 }
            if FileManager.default.fileExists(atPath: secret.appendingPathComponent("written").path) { break }
        }
        FileManager.default.createFile(atPath: stop, contents: nil)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: secret.appendingPathComponent("written").path),
            "the read-only volume was written from the container (\(writable) runs saw a writable directory)")
        s.assertNothingLeftBehind()
    }

    // MARK: M5: the sysfs fallback keeps the spec's flags

    func testM5SysfsBindFallbackIsReadOnly() throws {
        let s = try Sandbox()
        let script =
            "awk '$5==\"/sys\"{print $6}' /proc/self/mountinfo; touch /sys/kernel/x 2>&1; awk "
            + "'$5==\"/sys/fs/cgroup\" || $5 ~ /^\\/sys\\/kernel\\// {print $5, $6}' /proc/self/mountinfo | "
            + "grep -v ' ro,' | head -3"
        let b = try s.bundle(args: ["sh", "-c", script]) { c in
            var l = c["linux"] as? [String: Any] ?? [:]
            // A user namespace and the host's network: sysfs cannot be mounted, it is bound.
            var ns = (l["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "network" }
            ns.append(["type": "user"])
            l["namespaces"] = ns
            l["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            l["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            c["linux"] = l
        }
        let r = s.skiff(["run", "-b", b, "sysfs"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(
            lines.first?.hasPrefix("ro,nosuid,nodev,noexec") == true,
            "the host's /sys is bound without the spec's flags: \(r.out)")
        XCTAssertEqual(lines.dropFirst().first, "touch: /sys/kernel/x: Read-only file system")
        XCTAssertEqual(Array(lines.dropFirst(2)), [], "mounts under /sys stay writable: \(r.out)")
        s.assertNothingLeftBehind()
    }

    // MARK: M6: state 0700, config 0600, the writable layer off /run and out of reach

    func testM6WritableLayerIsPrivateAndOffRun() throws {
        let s = try Sandbox()
        let r = s.skiff([
            "run", "-d", "--rootfs", Env.rootfs!, "--name", "m6", "-e", "SECRET=x",
            "sh", "-c", "echo data > /written; exec sleep 1000",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let record = try XCTUnwrap(json(s.skiff(["state", "m6"]).stdout))
        XCTAssertNotNil(record["pid"])
        let mode = { (path: String) -> Int in
            ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? NSNumber)?.intValue ?? -1
        }
        XCTAssertEqual(String(mode(s.stateRoot), radix: 8), "700", "state root")
        XCTAssertEqual(
            String(mode(s.stateRoot + "/m6/config.json"), radix: 8), "600", "config.json holds the environment")
        // The upper layer: not in the state root (a tmpfs on /run), in a 0700 data directory.
        let state = try String(contentsOfFile: s.stateRoot + "/m6/state.json", encoding: .utf8)
        let upper = try XCTUnwrap((json(state)?["overlay"] as? [String: Any])?["upper"] as? String)
        XCTAssertFalse(upper.hasPrefix(s.stateRoot), "the writable layer is on /run: \(upper)")
        XCTAssertTrue(upper.hasPrefix(s.dataRoot + "/containers/"), upper) // $SKIFF_DATA (default /var/lib/skiff)
        let data = URL(fileURLWithPath: upper).deletingLastPathComponent().path
        XCTAssertTrue(
            waitFor { FileManager.default.fileExists(atPath: upper + "/written") },
            "the container's write is not in \(upper)")
        XCTAssertEqual(String(mode(data), radix: 8), "700")
        // An unprivileged host user cannot look into it.
        let nobody = runProgram(
            "/usr/bin/setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "ls", upper])
        XCTAssertNotEqual(nobody.code, 0)
        XCTAssertTrue(nobody.stderr.contains("Permission denied"), nobody.stderr)
        XCTAssertEqual(s.skiff(["delete", "-f", "m6"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: data), "the data directory outlived the container")
        s.assertNothingLeftBehind()
    }

    // MARK: L5: no overlay option injection through the rootfs path

    func testL5RootfsPathWithOverlaySeparatorsIsRefused() throws {
        let s = try Sandbox()
        for name in ["a:b", "a,upperdir=x"] {
            let dir = s.dir.appendingPathComponent(name).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let r = s.skiff(["run", "--rootfs", dir, "--name", "l5", "true"])
            XCTAssertEqual(r.code, 1)
            let c = name.contains(":") ? ":" : ","
            XCTAssertEqual(
                r.err,
                "skiff: rootfs \(dir): the overlay root cannot use a path containing \"\(c)\" (overlayfs reads it "
                    + "as a separator)"
            )
            XCTAssertEqual(s.stateEntries, [])
        }
        s.assertNothingLeftBehind()
    }

    // MARK: L7: the pid file is never written through a planted symlink

    func testL7PidFileDoesNotFollowASymlink() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"])
        let victim = s.dir.appendingPathComponent("victim").path
        try "original".write(toFile: victim, atomically: true, encoding: .utf8)
        let pidFile = s.dir.appendingPathComponent("pidfile").path
        // In a new pid namespace skiff is pid 1, so the temporary name is known.
        try FileManager.default.createSymbolicLink(atPath: pidFile + ".tmp.1", withDestinationPath: victim)
        let r = runProgram(
            "/usr/bin/unshare",
            [
                "--pid", "--fork", "--mount-proc", "sh", "-c",
                "exec \(Env.skiff) --root \(s.stateRoot) run --pid-file \(pidFile) -b \(b) l7",
            ])
        XCTAssertEqual(
            try String(contentsOfFile: victim, encoding: .utf8), "original",
            "skiff wrote its pid file through a symlink")
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("pidfile.tmp.1: File exists"), r.err)
        s.assertNothingLeftBehind()
    }

    // MARK: L1: nothing is mounted inside /proc, even through a symlink in the rootfs

    func testL1MountInsideProcIsRefused() throws {
        let s = try Sandbox()
        let rootfs = try s.writableRootfs("proc-link")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/foo", withDestinationPath: "/proc")
        let volume = s.dir.appendingPathComponent("volume")
        try FileManager.default.createDirectory(at: volume, withIntermediateDirectories: true)
        let b = try s.bundle(args: ["true"]) { c in
            c["root"] = ["path": rootfs, "readonly": true]
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/foo/self/fd", "type": "bind", "source": volume.path, "options": ["rbind"]])
            c["mounts"] = mounts
        }
        let r = s.skiff(["run", "-b", b, "l1"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasSuffix("/foo/self/fd: cannot be mounted because it is inside /proc"), r.err)
        // The lxcfs files stay allowed.
        let cpuinfo = s.dir.appendingPathComponent("cpuinfo")
        try "processor : 0\n".write(to: cpuinfo, atomically: true, encoding: .utf8)
        let l = try s.bundle("lxcfs", args: ["cat", "/proc/cpuinfo"]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append([
                "destination": "/proc/cpuinfo", "type": "bind", "source": cpuinfo.path, "options": ["bind", "ro"],
            ])
            c["mounts"] = mounts
        }
        let ok = s.skiff(["run", "-b", l, "l1-lxcfs"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertEqual(ok.out, "processor : 0")
        s.assertNothingLeftBehind()
    }

    // MARK: L3: device nodes in a rootfs tarball never reach the lower layer

    func testL3TarballDeviceNodesAreDropped() throws {
        let s = try Sandbox()
        let tree = s.dir.appendingPathComponent("tree").path
        XCTAssertEqual(runProgram("/bin/cp", ["-a", Env.rootfs!, tree]).code, 0)
        XCTAssertEqual(runProgram("/usr/bin/mknod", [tree + "/evil-disk", "b", "7", "0"]).code, 0)
        try UUID().uuidString.write(toFile: tree + "/unique", atomically: true, encoding: .utf8) // a tarball of its own
        let tarball = s.dir.appendingPathComponent("evil.tar.gz").path
        XCTAssertEqual(runProgram("/usr/bin/tar", ["-C", tree, "--numeric-owner", "-czf", tarball, "."]).code, 0)
        let r = s.skiff([
            "--explain", "run", "--rm", "--rootfs", tarball, "sh", "-c",
            "if [ -b /evil-disk ]; then echo HAS-DEVICE; else echo no-device; fi; cat /etc/alpine-release",
        ])
        let cache = r.stderr.split(separator: "\n").first { $0.hasPrefix("unpack rootfs") }
            .flatMap { $0.split(separator: " ").first { $0.hasPrefix("/var/lib/skiff/rootfs/") } }
            .map { String($0.split(separator: ".tmp.").first!) }
        defer { if let cache { try? FileManager.default.removeItem(atPath: cache) } }
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "no-device\n3.20.3", "a device node of the archive reached the container's root")
        XCTAssertTrue(r.stderr.contains("device nodes removed from the unpacked tree: /evil-disk"), r.stderr)
        s.assertNothingLeftBehind()
    }

    // MARK: L4: -u NAME reads the image's /etc/passwd inside the image

    func testL4UserLookupStaysInTheRootfs() throws {
        let s = try Sandbox()
        let rootfs = try s.writableRootfs("passwd-link")
        let hostFile = s.dir.appendingPathComponent("host-passwd")
        try "hostonly:x:4242:4242::/:/bin/sh\n".write(to: hostFile, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: rootfs + "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/etc/passwd", withDestinationPath: hostFile.path)
        let r = s.skiff(["run", "--rm", "--rootfs", rootfs, "-u", "hostonly", "id", "-u"])
        XCTAssertEqual(r.code, 1, "a user was looked up in a host file: \(r.stdout)")
        XCTAssertEqual(r.err, "skiff: --user hostonly: no user \"hostonly\" in \(rootfs)/etc/passwd")
        s.assertNothingLeftBehind()
    }

    // MARK: L8: net.* sysctls never reach the host's network namespace

    func testL8NetSysctlInTheHostNetworkNamespaceIsRefused() throws {
        let s = try Sandbox()
        let before = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8)
        let b = try s.bundle(args: ["true"]) { c in
            var l = c["linux"] as? [String: Any] ?? [:]
            l["namespaces"] = (l["namespaces"] as! [[String: Any]]).map { ns in
                ns["type"] as? String == "network" ? ["type": "network", "path": "/proc/\(getpid())/ns/net"] : ns
            }
            l["sysctl"] = ["net.ipv4.ip_unprivileged_port_start": "77"]
            c["linux"] = l
        }
        let r = s.skiff(["run", "-b", b, "l8"])
        XCTAssertEqual(
            try String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8), before,
            "the container changed the host's network settings")
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: linux.sysctl[\"net.ipv4.ip_unprivileged_port_start\"]: the network namespace "
                + "/proc/\(getpid())/ns/net is the host's; refusing to change the host's settings"
        )
        if r.code == 0 {
            try before.write(
                toFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", atomically: false, encoding: .utf8)
        }
        s.assertNothingLeftBehind()
    }
}

// MARK: H2: device rules are always enforced (cgroup v2 BPF, else cgroup v1 devices, else refuse)

final class DeviceControlTests: XCTestCase {
    /// A block device of this machine that the host can read (the disk where the sandbox
    /// allows it, else a loop device), as "MAJOR MINOR": what the container must not read.
    private func hostDisk() throws -> String {
        let partitions =
            (try? String(contentsOfFile: "/proc/partitions", encoding: .utf8))?.split(separator: "\n").dropFirst()
            .compactMap { $0.split(separator: " ").last.map { "/dev/" + $0 } } ?? []
        for path in partitions + (0..<8).map({ "/dev/loop\($0)" }) {
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { continue }
            close(fd)
            let dev = UInt64(st.st_rdev)
            return "\((dev >> 8) & 0xfff) \((dev & 0xff) | ((dev >> 12) & 0xfff00))"
        }
        throw XCTSkip("no block device that the host itself can open")
    }

    /// A container with CAP_MKNOD and a writable /tmp tries to read the host's disk.
    private func diskReader(_ s: Sandbox, _ name: String, args: [String]) throws -> String {
        try s.bundle(name, args: args) { c in
            var p = c["process"] as! [String: Any]
            var caps = p["capabilities"] as! [String: Any]
            for set in ["bounding", "effective", "permitted"] { caps[set] = (caps[set] as! [String]) + ["CAP_MKNOD"] }
            p["capabilities"] = caps
            c["process"] = p
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]])
            c["mounts"] = mounts
        }
    }

    private var unified: String { "/sys/fs/cgroup/unified" }

    func testH2WithoutCgroupV2TheDeviceRulesStillHold() throws {
        let s = try Sandbox()
        guard runProgram("/usr/bin/stat", ["-fc", "%T", unified]).out == "cgroup2fs",
            FileManager.default.fileExists(atPath: "/sys/fs/cgroup/devices/devices.allow")
        else {
            throw XCTSkip("needs a hybrid host (cgroup2 at \(unified) and the v1 devices controller)")
        }
        let probe =
            "if mknod /tmp/d b \(try hostDisk()) 2>/dev/null && head -c 512 /tmp/d >/dev/null 2>&1; then echo "
            + "READ-HOST-DISK; else echo denied; fi"
        let b = try diskReader(s, "b", args: ["sh", "-c", probe])
        let d = try diskReader(s, "d", args: ["sleep", "1000"])
        let skiff = "\(Env.skiff) --root \(s.stateRoot)"
        // Hide cgroup v2 (as on a cgroup v1 host): run, then run -d + exec.
        let script = """
            mount -t tmpfs cover \(unified) || exit 9
            \(skiff) run -b \(b) disk-run
            \(skiff) run -d -b \(d) disk-d && \(skiff) exec disk-d sh -c '\(probe)'; \(skiff) delete -f disk-d
            """
        let r = runProgram("/usr/bin/unshare", ["--mount", "sh", "-c", script])
        XCTAssertEqual(
            r.out, "denied\ndenied", "a container without cgroup v2 read the host's disk: \(r.stdout) \(r.stderr)")
        // With no device controller at all: refused, nothing left.
        let refuse =
            "mount -t tmpfs cover \(unified) && mount -t tmpfs cover /sys/fs/cgroup/devices && \(skiff) run -b "
            + "\(b) disk-none"
        let n = runProgram("/usr/bin/unshare", ["--mount", "sh", "-c", refuse])
        XCTAssertEqual(n.code, 1)
        XCTAssertEqual(
            n.err,
            "skiff: no device cgroup for container disk-none: no cgroup v2 hierarchy is mounted, and there is no "
                + "cgroup v1 devices controller; refusing to run a container that could open the host's devices"
        )
        XCTAssertFalse(
            FileManager.default.fileExists(
                atPath: "/sys/fs/cgroup/devices/skiff/\(URL(fileURLWithPath: s.stateRoot).lastPathComponent)"))
        let leftovers =
            (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/devices/skiff"))?.filter {
                $0.hasSuffix("-disk-run") || $0.hasSuffix("-disk-d")
            } ?? []
        XCTAssertEqual(leftovers, [], "v1 device cgroups left behind")
        s.assertNothingLeftBehind()
    }

    /// The v1 devices cgroup allows what every container needs, as the BPF program does:
    /// with the spec's usual "deny all" first rule alone, a container could not open
    /// /dev/null, and a quick-run (whose init opens /dev/null for stdin) did not start.
    func testH2WithoutCgroupV2TheDefaultDevicesStillOpen() throws {
        let s = try Sandbox()
        guard runProgram("/usr/bin/stat", ["-fc", "%T", unified]).out == "cgroup2fs",
            FileManager.default.fileExists(atPath: "/sys/fs/cgroup/devices/devices.allow"),
            let rootfs = Env.rootfs
        else {
            throw XCTSkip("needs a hybrid host (cgroup2 at \(unified) and the v1 devices controller)")
        }
        let probe =
            "echo x > /dev/null && head -c 3 /dev/zero | wc -c && head -c 3 /dev/urandom | wc -c "
            + "&& : < /dev/full && ls /dev/pts/ptmx"
        let b = try s.bundle("b", args: ["sh", "-c", probe])
        let skiff = "\(Env.skiff) --root \(s.stateRoot)"
        let script = """
            mount -t tmpfs cover \(unified) || exit 9
            \(skiff) run -b \(b) null-run
            SKIFF_DATA=\(s.dataRoot) \(skiff) run --rm --network none --rootfs \(rootfs) echo quick-run </dev/null
            """
        let r = runProgram("/usr/bin/unshare", ["--mount", "sh", "-c", script])
        XCTAssertEqual(r.out, "3\n3\n/dev/pts/ptmx\nquick-run", "stderr: \(r.stderr)")
        XCTAssertEqual(r.code, 0)
        s.assertNothingLeftBehind()
    }

    /// With cgroup v2 (the VM, or this host's unified hierarchy) the BPF program denies it.
    func testH2DeviceProgramDeniesTheHostDisk() throws {
        let s = try Sandbox()
        let probe =
            "if mknod /tmp/d b \(try hostDisk()) 2>/dev/null && head -c 512 /tmp/d >/dev/null 2>&1; then echo "
            + "READ-HOST-DISK; else echo denied; fi"
        let b = try diskReader(s, "b", args: ["sh", "-c", probe])
        let r = s.skiff(["run", "-b", b, "disk-v2"])
        XCTAssertEqual(r.out, "denied", r.stdout + r.stderr)
        s.assertNothingLeftBehind()
    }
}
