// create + start as engines drive them (containerd's shim, conmon): a non-root
// process.user, failures after init reported ready, a create killed half-way, and the
// spec points where Skiff used to differ from runc (hooks, uts, no mount namespace).
import Foundation
import XCTest

final class CreateStartTests: XCTestCase {
    /// `skiff create c && skiff start c` through a shell, as an engine would, then wait
    /// until the container is done: the shell's stdout is the container's.
    private func createStartWait(_ s: Sandbox, bundle: String, id: String, extra: [String] = []) -> Result {
        let skiff = "\(Env.skiff) --root \(s.stateRoot)" + extra.map { " " + $0 }.joined()
        let script = """
            \(skiff) create -b \(bundle) \(id) && \(skiff) start \(id) || exit 1
            i=0; while ! \(skiff) state \(id) | grep -q '"stopped"'; do
                i=$((i+1)); [ $i -lt 500 ] || exit 2; sleep 0.02
            done
            """
        return runProgram("/bin/sh", ["-c", script])
    }

    /// docker run -u 1000 / an image with USER: init drops to the user before it opens
    /// exec.fifo; the fifo must let it (mode 0622 whatever skiff's umask, as runc makes it).
    func testNonRootUserThroughCreateAndStart() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["id"]) { c in
            var p = c["process"] as! [String: Any]
            p["user"] = ["uid": 1000, "gid": 1000, "additionalGids": [10]]
            c["process"] = p
        }
        let r = createStartWait(s, bundle: b, id: "user")
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "uid=1000 gid=1000 groups=10(wheel)")
        XCTAssertEqual(s.skiff(["delete", "user"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// A failure after init said "ready" (here a startContainer hook, run by init after
    /// `start` released it) reaches `start` with its step and message, and the log.
    func testFailureAfterReadyReachesStartAndLog() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            c["hooks"] = ["startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "exit 3"]]]]
        }
        let log = s.dir.appendingPathComponent("skiff.log").path
        XCTAssertEqual(s.skiff(["--log", log, "create", "-b", b, "late"]).code, 0)
        let r = s.skiff(["--log", log, "start", "late"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: container late failed before its program started (startContainer hooks): "
                + "hooks.startContainer[0] /bin/sh: exit status 3")
        let logText = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(
            logText.contains(
                "container process failed (startContainer hooks): hooks.startContainer[0] "
                    + "/bin/sh: exit status 3"), logText)
        // A second start says the same, not "has stopped" without a reason.
        XCTAssertTrue(
            s.skiff(["start", "late"]).err.contains(
                "(startContainer hooks): hooks.startContainer[0] /bin/sh: exit status 3"))
        XCTAssertEqual(s.skiff(["delete", "late"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// An exec that fails at execve (a file with the x bit but no known format) is
    /// reported by `start`, not hidden behind a container that "has stopped".
    func testExecFailureReachesStart() throws {
        let s = try Sandbox()
        let prog = s.dir.appendingPathComponent("noformat")
        try Data("not a program\n".utf8).write(to: prog)
        chmod(prog.path, 0o755)
        let b = try s.bundle(args: ["/noformat"]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/noformat", "type": "bind", "source": prog.path, "options": ["bind", "ro"]])
            c["mounts"] = mounts
        }
        XCTAssertEqual(s.skiff(["create", "-b", b, "noexec"]).code, 0)
        let r = s.skiff(["start", "noexec"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: container noexec failed before its program started (exec): exec /noformat: "
                + "Exec format error")
        XCTAssertEqual(s.skiff(["delete", "noexec"]).code, 0)
        s.assertNothingLeftBehind()
    }
}

final class CrashTests: XCTestCase {
    /// `create` killed with SIGKILL at random moments: `delete --force` must always clean
    /// up, and no init may outlive its creator (on this host there is no cgroup through
    /// which delete could find it: it must die by itself).
    func testCreateKilledAtRandomThenDeleteForce() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sleep", "60"])
        let iterations = Int(ProcessInfo.processInfo.environment["SKIFF_CRASH_ITERATIONS"] ?? "") ?? 40
        var partial = 0
        var completed = 0
        var generator = SystemRandomNumberGenerator()
        // Kill points spread over a whole create: 1-30 ms here (a create takes about
        // that long), longer on a slower machine, so every stage gets hit.
        var durations: [UInt32] = []
        for _ in 0..<3 {
            let t0 = Date()
            XCTAssertEqual(s.skiff(["create", "-b", b, "timing"]).code, 0)
            durations.append(UInt32(Date().timeIntervalSince(t0) * 1_000_000))
            XCTAssertEqual(s.skiff(["delete", "--force", "timing"]).code, 0)
        }
        let maxDelay = max(30_000, durations.sorted()[1]) // the median create
        for i in 0..<iterations {
            let id = "crash\(i)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Env.skiff)
            p.arguments = ["--root", s.stateRoot, "create", "-b", b, id]
            p.standardInput = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 1_000...maxDelay, using: &generator))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let state = json(s.skiff(["state", id]).stdout)?["status"] as? String
            if p.terminationReason == .exit && p.terminationStatus == 0 {
                completed += 1
            } else if s.stateEntries.contains(id) {
                partial += 1
            }
            let d = s.skiff(["delete", "--force", id])
            XCTAssertEqual(d.code, 0, "iteration \(i) (state \(state ?? "none")): \(d.stderr)")
            XCTAssertFalse(s.stateEntries.contains(id), "iteration \(i): state directory left")
            // The id is free again.
            XCTAssertEqual(s.skiff(["state", id]).err, "skiff: container \"\(id)\" does not exist")
        }
        print(
            "crash test: \(iterations) kills within \(maxDelay / 1000) ms, \(partial) left a half-created "
                + "container, \(completed) came after create finished")
        XCTAssertGreaterThan(partial, 0, "no kill landed in the middle of create: the test exercised nothing")
        s.assertNothingLeftBehind()
    }
}

final class SpecConformanceTests: XCTestCase {
    /// hostname is set when the uts namespace is joined by path: it is the container's.
    func testHostnameInJoinedUTSNamespace() throws {
        let s = try Sandbox()
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--uts", "sleep", "60"]
        try holder.run()
        defer {
            holder.terminate()
            holder.waitUntilExit()
        }
        // unshare execs sleep once the namespace is made.
        XCTAssertTrue(
            waitFor {
                (try? String(contentsOfFile: "/proc/\(holder.processIdentifier)/cmdline", encoding: .utf8))?.hasPrefix(
                    "sleep") == true
            })
        let nsPath = "/proc/\(holder.processIdentifier)/ns/uts"
        let b = try s.bundle(args: ["hostname"]) { c in
            c["hostname"] = "joined"
            var linux = c["linux"] as! [String: Any]
            var namespaces = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "uts" }
            namespaces.append(["type": "uts", "path": nsPath])
            linux["namespaces"] = namespaces
            c["linux"] = linux
        }
        let r = s.skiff(["run", "-b", b, "uts"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "joined")
        // The namespace's other member sees it too: it is the joined one that changed.
        XCTAssertEqual(runProgram("/usr/bin/nsenter", ["--uts=\(nsPath)", "hostname"]).out, "joined")
        holder.terminate()
        holder.waitUntilExit() // the test's own process, not a leak
        s.assertNothingLeftBehind()
    }

    /// A config without a mount namespace is accepted (runc and crun accept it): no
    /// mount is made, since any would be the host's; the process is chrooted.
    func testNoMountNamespaceIsAccepted() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", "cat /etc/alpine-release; ls /proc | wc -l"]) { c in
            c["root"] = ["path": Env.rootfs!, "readonly": false]
            var linux = c["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "mount" }
            linux["maskedPaths"] = nil
            linux["readonlyPaths"] = nil
            c["linux"] = linux
            c["mounts"] = nil
        }
        let r = s.skiff(["run", "-b", b, "nomnt"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "3.20.3\n0") // the rootfs's empty /proc: nothing was mounted
        s.assertNothingLeftBehind()
    }

    /// ... but what needs one is refused with the field named, leaving nothing.
    func testNoMountNamespaceRefusesReadonlyRoot() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "mount" }
            linux["maskedPaths"] = nil
            linux["readonlyPaths"] = nil
            c["linux"] = linux
        }
        let r = s.skiff(["run", "-b", b, "nomnt"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: root.readonly: needs a mount namespace (linux.namespaces has none)")
        s.assertNothingLeftBehind()
    }
}
