// What the container sees: its own hostname, pid 1, mounts, devices, network, user.
import Foundation
import XCTest

final class IsolationTests: XCTestCase {
    func testHostnameAndDomainname() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"]) {
            $0["hostname"] = "box1"
            $0["domainname"] = "example.org"
        }
        let r = s.skiff(["run", "-b", b, "h"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "box1\nexample.org")
        s.assertNothingLeftBehind()
    }

    func testPid1IsTheContainerProcess() throws {
        let s = try Sandbox()
        let r = s.skiff([
            "run", "-b", try s.bundle(args: ["sh", "-c", "echo $$; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'"]),
            "p",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.first, "1")
        XCTAssertEqual(lines.dropFirst().first, "sh")
        // Only the shell and the ls/grep it runs exist in the pid namespace.
        XCTAssertLessThanOrEqual(Int(lines.last ?? "") ?? 99, 3)
        s.assertNothingLeftBehind()
    }

    func testHostMountsInvisible() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["cat", "/proc/self/mountinfo"])
        let r = s.skiff(["run", "-b", b, "m"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let points = r.out.split(separator: "\n").map { String($0.split(separator: " ")[4]) }
        XCTAssertEqual(points.first, "/")
        // Only the spec's mounts, and its masked and read-only paths (each a mount over a
        // path under /proc or /sys): nothing else of the host's.
        let config = try XCTUnwrap(json(try String(contentsOfFile: b + "/config.json", encoding: .utf8)))
        let linux = try XCTUnwrap(config["linux"] as? [String: Any])
        let expected = Set(
            ["/"] + ((config["mounts"] as? [[String: Any]]) ?? []).compactMap { $0["destination"] as? String }
                + (linux["maskedPaths"] as? [String] ?? []) + (linux["readonlyPaths"] as? [String] ?? []))
        // On a cgroup v1 or hybrid host the cgroup mount is a tmpfs with a mount per hierarchy.
        let cgroupDirs = ((config["mounts"] as? [[String: Any]]) ?? []).filter { $0["type"] as? String == "cgroup" }
            .compactMap { $0["destination"] as? String }
        for p in points {
            XCTAssertTrue(
                expected.contains(p) || cgroupDirs.contains { p.hasPrefix($0 + "/") }, "unexpected mount \(p)")
        }
        XCTAssertFalse(r.out.contains(s.dir.path), "the host's temp dir is visible")
        XCTAssertFalse(points.contains("/work"))
        s.assertNothingLeftBehind()
    }

    func testReadonlyRootAndWritableTmpfs() throws {
        let s = try Sandbox()
        let r = s.skiff([
            "run", "-b",
            try s.bundle(args: ["sh", "-c", "touch /x 2>/dev/null && echo wrote; touch /dev/shm/y && echo shm"]), "ro",
        ])
        XCTAssertEqual(r.out, "shm")
        XCTAssertFalse(FileManager.default.fileExists(atPath: Env.rootfs! + "/x"))
        s.assertNothingLeftBehind()
    }

    func testDevices() throws {
        let s = try Sandbox()
        let script =
            "for d in null zero full random urandom tty fuse; do stat -c '%n %t:%T %a' /dev/$d; done; readlink "
            + "/dev/fd; readlink /dev/stdin; readlink /dev/ptmx; head -c 4 /dev/zero | wc -c; echo x > "
            + "/dev/null && echo ok"
        let b = try s.bundle(args: ["sh", "-c", script]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600]]
            c["linux"] = linux
        }
        let r = s.skiff(["run", "-b", b, "d"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(
            r.out,
            """
            /dev/null 1:3 666
            /dev/zero 1:5 666
            /dev/full 1:7 666
            /dev/random 1:8 666
            /dev/urandom 1:9 666
            /dev/tty 5:0 666
            /dev/fuse a:e5 600
            /proc/self/fd
            /proc/self/fd/0
            pts/ptmx
            4
            ok
            """)
        s.assertNothingLeftBehind()
    }

    func testLoopbackUpInNewNetworkNamespace() throws {
        let s = try Sandbox()
        let r = s.skiff([
            "run", "-b", try s.bundle(args: ["sh", "-c", "cat /sys/class/net/lo/flags; ls /sys/class/net"]), "n",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.out.split(separator: "\n")
        let flags = Int(lines.first?.dropFirst(2) ?? "", radix: 16) ?? 0
        XCTAssertEqual(flags & 1, 1, "lo is not up: \(r.out)")
        XCTAssertEqual(lines.dropFirst().map(String.init), ["lo"])
        s.assertNothingLeftBehind()
    }

    func testUserEnvCwdUmask() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", "id; pwd; umask; echo $GREETING; echo $HOME"]) { c in
            var p = c["process"] as! [String: Any]
            p["user"] = ["uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 0o027]
            p["cwd"] = "/tmp"
            p["env"] = ["PATH=/usr/bin:/bin", "GREETING=hello"]
            c["process"] = p
        }
        let r = s.skiff(["run", "-b", b, "u"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "uid=1000 gid=1001 groups=10(wheel),20(dialout)\n/tmp\n0027\nhello\n/")
        s.assertNothingLeftBehind()
    }

    func testHomeFromPasswd() throws {
        let s = try Sandbox()
        let r = s.skiff(["run", "-b", try s.bundle(args: ["sh", "-c", "echo $HOME"]), "home"])
        XCTAssertEqual(r.out, "/root")
        s.assertNothingLeftBehind()
    }

    func testJoinNetworkNamespaceByPath() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["run", "-d", "-b", try s.bundle("a", args: ["sleep", "60"]), "a"]).code, 0)
        let pid = try XCTUnwrap(json(s.skiff(["state", "a"]).stdout)?["pid"] as? Int)
        let want = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        let b = try s.bundle("b", args: ["readlink", "/proc/self/ns/net"]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["namespaces"] = [
                ["type": "pid"], ["type": "mount"], ["type": "uts"],
                ["type": "network", "path": "/proc/\(pid)/ns/net"],
            ]
            c["linux"] = linux
        }
        let r = s.skiff(["run", "-b", b, "b"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, want)
        XCTAssertEqual(s.skiff(["delete", "-f", "a"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testBindMountReadOnly() throws {
        let s = try Sandbox()
        let host = s.dir.appendingPathComponent("share")
        try FileManager.default.createDirectory(at: host, withIntermediateDirectories: true)
        try "from host".write(to: host.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        let b = try s.bundle(args: [
            "sh", "-c", "cat /mnt/share/f; echo; touch /mnt/share/g 2>/dev/null || echo refused",
        ]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append([
                "destination": "/mnt/share", "type": "bind", "source": host.path, "options": ["rbind", "ro", "nosuid"],
            ])
            c["mounts"] = mounts
        }
        let r = s.skiff(["run", "-b", b, "bind"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "from host\nrefused")
        XCTAssertFalse(FileManager.default.fileExists(atPath: host.appendingPathComponent("g").path))
        s.assertNothingLeftBehind()
    }

    /// --no-pivot (MS_MOVE + chroot): the host's tree stays under the container's root in
    /// its mount namespace. It must not be visible, and the way back to it (a chroot escape)
    /// needs CAP_SYS_CHROOT, which the default capabilities do not give.
    func testNoPivot() throws {
        let s = try Sandbox()
        let marker = s.dir.path // exists on the host only
        let script =
            "cat /etc/alpine-release; test -e \(marker) && echo HOST-VISIBLE; grep -c ' \(marker)' "
            + "/proc/self/mountinfo; "
            + "mkdir /tmp/x && chroot /tmp/x /bin/true 2>&1 | head -1"
        let b = try s.bundle(args: ["sh", "-c", script]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]])
            c["mounts"] = mounts
        }
        let r = s.skiff(["run", "--no-pivot", "-b", b, "np"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "3.20.3\n0\nchroot: can't change root directory to '/tmp/x': Operation not permitted")
        s.assertNothingLeftBehind()
    }

    func testStdinReachesContainer() throws {
        let s = try Sandbox()
        let r = s.skiff(["run", "-b", try s.bundle(args: ["sh", "-c", "wc -l"]), "in"], stdin: "a\nb\nc\n")
        XCTAssertEqual(r.out, "3")
        s.assertNothingLeftBehind()
    }
}
