// The OCI lifecycle on the Alpine fixture: run, create/start/state/kill/delete, list.
import Foundation
import XCTest

final class LifecycleTests: XCTestCase {
    func testRunPrintsAlpineRelease() throws {
        let s = try Sandbox()
        let r = s.skiff(["run", "--bundle", try s.bundle(args: ["cat", "/etc/alpine-release"]), "rel"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "3.20.3")
        s.assertNothingLeftBehind()
    }

    func testExitCodes() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["run", "-b", try s.bundle("t", args: ["true"]), "t"]).code, 0)
        XCTAssertEqual(s.skiff(["run", "-b", try s.bundle("e", args: ["sh", "-c", "exit 7"]), "e"]).code, 7)
        s.assertNothingLeftBehind()
    }

    /// A container killed with SIGKILL makes `run` exit 128+9.
    func testKilledContainerExits137() throws {
        let s = try Sandbox()
        let bundle = try s.bundle(args: ["sleep", "60"])
        var result: Result?
        let done = expectation(description: "run returns")
        Thread.detachNewThread {
            result = s.skiff(["run", "--bundle", bundle, "k"])
            done.fulfill()
        }
        XCTAssertTrue(waitFor { json(s.skiff(["state", "k"]).stdout)?["status"] as? String == "running" })
        XCTAssertEqual(s.skiff(["kill", "k", "KILL"]).code, 0)
        wait(for: [done], timeout: 10)
        XCTAssertEqual(result?.code, 137)
        s.assertNothingLeftBehind()
    }

    func testCreateStartStateKillDelete() throws {
        let s = try Sandbox()
        let bundle = try s.bundle(args: ["sleep", "60"])
        let pidFile = s.dir.appendingPathComponent("pid").path
        let c = s.skiff(["create", "--bundle", bundle, "--pid-file", pidFile, "life"])
        XCTAssertEqual(c.code, 0, c.stderr)

        var st = try XCTUnwrap(json(s.skiff(["state", "life"]).stdout))
        XCTAssertEqual(st["status"] as? String, "created")
        XCTAssertEqual(st["id"] as? String, "life")
        XCTAssertEqual(st["bundle"] as? String, bundle)
        XCTAssertEqual(st["rootfs"] as? String, Env.rootfs)
        XCTAssertEqual(st["ociVersion"] as? String, "1.0.2-dev")
        XCTAssertNotNil(st["created"] as? String)
        let pid = try XCTUnwrap(st["pid"] as? Int)
        XCTAssertGreaterThan(pid, 0)
        XCTAssertEqual(try String(contentsOfFile: pidFile, encoding: .utf8), "\(pid)")
        // Created: init exists but has not exec'd the program yet.
        XCTAssertFalse(
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix("sleep"))

        XCTAssertEqual(s.skiff(["start", "life"]).code, 0)
        st = try XCTUnwrap(json(s.skiff(["state", "life"]).stdout))
        XCTAssertEqual(st["status"] as? String, "running")
        XCTAssertEqual(st["pid"] as? Int, pid)
        XCTAssertTrue(
            waitFor {
                ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix("sleep")
            })
        XCTAssertEqual(s.skiff(["start", "life"]).err, "skiff: cannot start an already running container")

        let refused = s.skiff(["delete", "life"])
        XCTAssertEqual(refused.code, 1)
        XCTAssertEqual(refused.err, "skiff: cannot delete container \"life\" that is not stopped: running")

        XCTAssertEqual(s.skiff(["kill", "life", "SIGKILL"]).code, 0)
        XCTAssertTrue(waitFor { json(s.skiff(["state", "life"]).stdout)?["status"] as? String == "stopped" })
        XCTAssertEqual(s.skiff(["kill", "life", "KILL"]).err, "skiff: container \"life\" is not running")
        XCTAssertEqual(s.skiff(["delete", "life"]).code, 0)
        let gone = s.skiff(["state", "life"])
        XCTAssertEqual(gone.code, 1)
        XCTAssertEqual(gone.err, "skiff: container \"life\" does not exist")
        s.assertNothingLeftBehind()
    }

    func testDeleteForceKillsRunningContainer() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["run", "-d", "-b", try s.bundle(args: ["sleep", "60"]), "f"]).code, 0)
        XCTAssertEqual(json(s.skiff(["state", "f"]).stdout)?["status"] as? String, "running")
        let r = s.skiff(["delete", "--force", "f"])
        XCTAssertEqual(r.code, 0, r.stderr)
        s.assertNothingLeftBehind()
    }

    func testDeleteOfCreatedContainerNeedsNoForce() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["create", "-b", try s.bundle(args: ["true"]), "c"]).code, 0)
        XCTAssertEqual(s.skiff(["delete", "c"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testKillAcceptsNamesAndNumbers() throws {
        let s = try Sandbox()
        // A shell that traps TERM/USR1 and exits with a code saying which arrived.
        let script = "trap 'exit 42' USR1; trap 'exit 43' TERM; while true; do sleep 0.1; done"
        for (sig, code) in [("USR1", 42), ("SIGUSR1", 42), ("10", 42), ("TERM", 43), ("15", 43)] {
            let b = try s.bundle("k\(sig)", args: ["sh", "-c", script])
            var result: Result?
            let done = expectation(description: "run \(sig)")
            Thread.detachNewThread {
                result = s.skiff(["run", "-b", b, "sig"])
                done.fulfill()
            }
            XCTAssertTrue(waitFor { json(s.skiff(["state", "sig"]).stdout)?["status"] as? String == "running" })
            usleep(300_000) // let the shell install its traps
            XCTAssertEqual(s.skiff(["kill", "sig", sig]).code, 0)
            wait(for: [done], timeout: 10)
            XCTAssertEqual(result?.code, Int32(code), "signal \(sig)")
        }
        // A bad signal name or number on a live container (not an unknown one, which would
        // fail before the signal is parsed): refused, and the container keeps running.
        XCTAssertEqual(s.skiff(["run", "-d", "-b", try s.bundle("live", args: ["sleep", "60"]), "live"]).code, 0)
        for bad in ["FOO", "99"] {
            let r = s.skiff(["kill", "live", bad])
            XCTAssertEqual(r.code, 1)
            XCTAssertEqual(r.err, "skiff: unknown signal \"\(bad)\"")
        }
        XCTAssertEqual(json(s.skiff(["state", "live"]).stdout)?["status"] as? String, "running")
        XCTAssertEqual(s.skiff(["delete", "-f", "live"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// A cgroup2 mount covered by another filesystem (a tmpfs over it, as some tools do)
    /// is not mistaken for the hierarchy: the container still runs, without a cgroup.
    func testCoveredCgroupMountIsIgnored() throws {
        let s = try Sandbox()
        let unified = "/sys/fs/cgroup/unified"
        guard runProgram("/usr/bin/stat", ["-fc", "%T", unified]).out == "cgroup2fs" else {
            throw XCTSkip("no cgroup2 mount at \(unified) to cover (this test is for hybrid hosts)")
        }
        // The container reports its own cgroup: with no hierarchy found, skiff makes none, so
        // the container stays in skiff's (the test's) v2 cgroup, not in /skiff/TAG-covered.
        let b = try s.bundle(args: ["cat", "/proc/self/cgroup"]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "cgroup" }
            c["linux"] = linux
        }
        let r = runProgram(
            "/usr/bin/unshare",
            [
                "--mount", "sh", "-c",
                "mount -t tmpfs cover \(unified) && \(Env.skiff) --root \(s.stateRoot) run -b \(b) covered",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let own = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8).split(separator: "\n").first {
            $0.hasPrefix("0::")
        }
        let inside = r.stdout.split(separator: "\n").first { $0.hasPrefix("0::") }
        XCTAssertNotNil(own)
        XCTAssertEqual(inside, own, "the container was put in a cgroup: \(r.stdout)")
        s.assertNothingLeftBehind()
    }

    func testDoubleCreateRefused() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"])
        XCTAssertEqual(s.skiff(["create", "-b", b, "dup"]).code, 0)
        let r = s.skiff(["create", "-b", b, "dup"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: container \"dup\" already exists")
        XCTAssertEqual(json(s.skiff(["state", "dup"]).stdout)?["status"] as? String, "created")
        XCTAssertEqual(s.skiff(["delete", "dup"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testUnknownID() throws {
        let s = try Sandbox()
        for cmd in [["state", "nope"], ["start", "nope"], ["kill", "nope"], ["delete", "nope"]] {
            let r = s.skiff(cmd)
            XCTAssertEqual(r.code, 1, cmd.joined(separator: " "))
            XCTAssertEqual(r.err, "skiff: container \"nope\" does not exist")
        }
        XCTAssertEqual(
            s.skiff(["delete", "--force", "nope"]).code, 0, "runc: delete --force of a missing container succeeds")
        // Ids that would name a path outside the state root are refused as ids, for every
        // command, and nothing is written anywhere.
        let b = try s.bundle(args: ["true"])
        for id in ["../x", "a/b", "", ".."] {
            for cmd in [["state", id], ["create", "-b", b, id], ["run", "-b", b, id]] {
                let r = s.skiff(cmd)
                XCTAssertEqual(r.code, 1, cmd.joined(separator: " "))
                XCTAssertEqual(
                    r.err, "skiff: invalid container id \"\(id)\": use letters, digits, '_', '+', '-' and '.'",
                    cmd.joined(separator: " "))
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("x").path))
        s.assertNothingLeftBehind()
    }

    func testList() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["list", "--format", "json"]).out, "null")
        let b = try s.bundle(args: ["sleep", "60"])
        XCTAssertEqual(s.skiff(["create", "-b", b, "one"]).code, 0)
        XCTAssertEqual(s.skiff(["run", "-d", "-b", b, "two"]).code, 0)
        let table = s.skiff(["list"]).stdout.split(separator: "\n")
        XCTAssertEqual(table.count, 3)
        XCTAssertTrue(table[0].hasPrefix("ID          PID         STATUS      BUNDLE"), String(table[0]))
        XCTAssertTrue(table[1].hasPrefix("one "))
        XCTAssertTrue(table[1].contains(" created "))
        XCTAssertTrue(table[2].contains(" running "))
        XCTAssertEqual(s.skiff(["list", "-q"]).out, "one\ntwo")
        let arr = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(s.skiff(["list", "--format", "json"]).stdout.utf8))
                as? [[String: Any]])
        XCTAssertEqual(arr.map { $0["id"] as? String }, ["one", "two"])
        XCTAssertEqual(arr.map { $0["status"] as? String }, ["created", "running"])
        XCTAssertEqual(s.skiff(["delete", "-f", "one"]).code, 0)
        XCTAssertEqual(s.skiff(["delete", "-f", "two"]).code, 0)
        s.assertNothingLeftBehind()
    }
}

/// Poll a condition for up to 10 s.
func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<500 {
        if condition() { return true }
        usleep(20_000)
    }
    return false
}
