// Issue 4: exec, terminals, signals, hooks and file descriptors, on real containers.
import Foundation
import XCTest

let fixtures = repoRoot.appendingPathComponent("Tests/fixtures")

final class ExecTests: XCTestCase {
    /// A running container to exec into.
    private func running(_ s: Sandbox, _ id: String = "ex") throws {
        let r = s.skiff(["run", "-d", "-b", try s.bundle(args: ["sleep", "60"]), id])
        XCTAssertEqual(r.code, 0, r.stderr)
    }

    func testExecOutputAndExitCode() throws {
        let s = try Sandbox()
        try running(s)
        let r = s.skiff(["exec", "ex", "sh", "-c", "hostname; cat /proc/1/comm; echo $$; exit 3"])
        XCTAssertEqual(r.code, 3)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.first, "skiff")
        XCTAssertEqual(
            lines.dropFirst().first, "sleep", "pid 1 is the container's process: exec joined its pid namespace")
        XCTAssertNotEqual(lines.last, "1")
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testExecAsAnotherUserWithEnvAndCwd() throws {
        let s = try Sandbox()
        try running(s)
        let r = s.skiff([
            "exec", "-u", "405:100", "--additional-gids", "10", "-e", "WHO=guest", "--cwd", "/tmp", "ex",
            "sh", "-c", "id; echo $WHO; pwd",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "uid=405(guest) gid=100(users) groups=10(wheel)\nguest\n/tmp")
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testExecWithProcessJSON() throws {
        let s = try Sandbox()
        try running(s)
        let file = s.dir.appendingPathComponent("process.json")
        try
            (#"{"terminal": false, "user": {"uid": 1000, "gid": 1000}, "args": ["sh", "-c", "id -u; echo $A"], "#
            + #""env": ["A=from-json", "PATH=/bin:/usr/bin"], "cwd": "/"}"#)
            .write(to: file, atomically: true, encoding: .utf8)
        let r = s.skiff(["exec", "--process", file.path, "ex"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "1000\nfrom-json")
        try #"{"user": {"uid": 0, "gid": 0}, "args": "sh", "cwd": "/"}"#.write(
            to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            s.skiff(["exec", "--process", file.path, "ex"]).err,
            "skiff: \(file.path): process.args: expected an array of strings")
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testExecStdinEOFThroughPipes() throws {
        let s = try Sandbox()
        try running(s)
        let r = s.skiff(["exec", "ex", "sh", "-c", "cat | wc -c"], stdin: "12345")
        XCTAssertEqual(r.out, "5")
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testExecDetachedWithPidFile() throws {
        let s = try Sandbox()
        try running(s)
        let pidFile = s.dir.appendingPathComponent("exec.pid").path
        let r = s.skiff(["exec", "-d", "--pid-file", pidFile, "ex", "sleep", "30"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let pid = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
        XCTAssertEqual(comm, "sleep\n")
        let deleted = s.skiff(["delete", "-f", "ex"])
        XCTAssertEqual(deleted.code, 0, deleted.stderr)
        s.assertNothingLeftBehind()
    }

    func testExecIntoStoppedOrUnknownContainerFails() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["create", "-b", try s.bundle(args: ["true"]), "c"]).code, 0)
        XCTAssertEqual(s.skiff(["exec", "c", "true"]).err, "skiff: cannot exec in a created container")
        XCTAssertEqual(s.skiff(["exec", "nope", "true"]).err, "skiff: container \"nope\" does not exist")
        XCTAssertEqual(s.skiff(["delete", "c"]).code, 0)
        // A stopped container (its program was killed; its state is kept until delete).
        XCTAssertEqual(s.skiff(["run", "-d", "-b", try s.bundle("t", args: ["sleep", "60"]), "stopped"]).code, 0)
        XCTAssertEqual(s.skiff(["kill", "stopped", "KILL"]).code, 0)
        XCTAssertTrue(waitFor { json(s.skiff(["state", "stopped"]).stdout)?["status"] as? String == "stopped" })
        XCTAssertEqual(s.skiff(["exec", "stopped", "true"]).err, "skiff: cannot exec in a stopped container")
        XCTAssertEqual(s.skiff(["delete", "stopped"]).code, 0)
        // exec -t -d on a running container needs somewhere to send the pty.
        try running(s)
        let tty = s.skiff(["exec", "-d", "-t", "ex", "sh"])
        XCTAssertEqual(tty.code, 1)
        XCTAssertEqual(tty.err, "skiff: cannot allocate tty if skiff will detach without setting console socket")
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testExecTTYThroughConsoleSocket() throws {
        let s = try Sandbox()
        try running(s)
        let sock = s.dir.appendingPathComponent("console.sock").path
        let ready = s.dir.appendingPathComponent("ready").path
        var client: Result?
        let done = expectation(description: "console client")
        Thread.detachNewThread {
            client = runProgram(
                "/usr/bin/python3",
                [
                    fixtures.appendingPathComponent("console-client.py").path, sock, ready,
                    "echo hello-$((6*7))\\n", "hello-42",
                ])
            done.fulfill()
        }
        XCTAssertTrue(waitFor { FileManager.default.fileExists(atPath: ready) })
        let r = s.skiff(["exec", "-t", "-d", "--console-socket", sock, "ex", "sh"])
        XCTAssertEqual(r.code, 0, r.stderr)
        wait(for: [done], timeout: 30)
        XCTAssertEqual(client?.code, 0, "transcript: \(client?.stdout ?? "") \(client?.stderr ?? "")")
        XCTAssertTrue(client?.stderr.contains("received fd with name /dev/ptmx") == true)
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }
}

final class TerminalTests: XCTestCase {
    /// `skiff run` with process.terminal under a real pty: the shell sees a tty of the
    /// user's size, follows a window resize, and input typed reaches it.
    func testForegroundRunWithTerminalAndResize() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh"]) { c in
            var p = c["process"] as! [String: Any]
            p["terminal"] = true
            c["process"] = p
        }
        let script = "wait:# |type:stty size; tty\\n|wait:/dev/pts/0|resize:33:77|type:stty size; exit 4\\n"
        let r = runProgram(
            "/usr/bin/python3",
            [
                fixtures.appendingPathComponent("pty-driver.py").path, "24", "80", script, "--",
                Env.skiff, "--root", s.stateRoot, "run", "-b", b, "tty",
            ])
        XCTAssertEqual(r.code, 4, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("24 80"), r.stdout)
        XCTAssertTrue(r.stdout.contains("/dev/pts/0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("33 77"), "resize did not reach the container: \(r.stdout)")
        s.assertNothingLeftBehind()
    }

    func testConsoleIsThePty() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", "stat -c %t:%T /dev/console; tty"]) { c in
            var p = c["process"] as! [String: Any]
            p["terminal"] = true
            c["process"] = p
        }
        let r = runProgram(
            "/usr/bin/python3",
            [
                fixtures.appendingPathComponent("pty-driver.py").path, "24", "80", "wait:pts", "--",
                Env.skiff, "--root", s.stateRoot, "run", "-b", b, "con",
            ])
        XCTAssertEqual(r.code, 0, r.stdout)
        XCTAssertTrue(r.stdout.contains("88:0"), r.stdout) // major 136 = 0x88: a pts device
        s.assertNothingLeftBehind()
    }

    func testDetachedTerminalWithoutSocketRefused() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh"]) { c in
            var p = c["process"] as! [String: Any]
            p["terminal"] = true
            c["process"] = p
        }
        let r = s.skiff(["create", "-b", b, "t"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: cannot allocate tty if skiff will detach without setting console socket")
        s.assertNothingLeftBehind()
    }
}

final class SignalTests: XCTestCase {
    /// Signals sent to a foreground `skiff run` reach the container process.
    func testRunForwardsSignals() throws {
        let s = try Sandbox()
        let log = s.dir.appendingPathComponent("sig")
        try FileManager.default.createDirectory(at: log, withIntermediateDirectories: true)
        let b = try s.bundle(args: [
            "sh", "-c",
            "for s in INT TERM HUP QUIT USR1 USR2 WINCH; do trap \"echo $s >> /log/got\" $s; done; trap 'exit 9' "
                + "ALRM; echo ready > /log/ready; while true; do sleep 0.05; done",
        ]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/log", "type": "bind", "source": log.path, "options": ["bind"]])
            c["mounts"] = mounts
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Env.skiff)
        p.arguments = ["--root", s.stateRoot, "run", "-b", b, "sig"]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        XCTAssertTrue(waitFor { FileManager.default.fileExists(atPath: log.appendingPathComponent("ready").path) })
        // One at a time, each once the shell has logged the one before (a fixed delay is not
        // enough under load, and pending signals are handled in number order, not sent order).
        let gotURL = log.appendingPathComponent("got")
        for (n, sig) in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH].enumerated() {
            kill(p.processIdentifier, sig)
            XCTAssertTrue(
                waitFor { ((try? String(contentsOf: gotURL, encoding: .utf8)) ?? "").split(separator: "\n").count > n },
                "signal \(sig) was not forwarded")
        }
        kill(p.processIdentifier, SIGALRM)
        p.waitUntilExit()
        // Exit status 9 from the container (its ALRM trap), not skiff killed by signal 9.
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 9)
        let got = try String(contentsOf: log.appendingPathComponent("got"), encoding: .utf8)
        XCTAssertEqual(got.split(separator: "\n"), ["INT", "TERM", "HUP", "QUIT", "USR1", "USR2", "WINCH"])
        s.assertNothingLeftBehind()
    }
}

final class HookTests: XCTestCase {
    /// Every hook kind runs, in order, each with the state JSON on stdin.
    func testEveryHookInOrderWithState() throws {
        let s = try Sandbox()
        let dir = s.dir.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("log").path
        func hook(_ kind: String) -> [String: Any] {
            // Each hook logs its kind, the mount namespace it runs in, and the state it read.
            [
                "path": "/bin/sh",
                "args": ["sh", "-c", "echo \"\(kind) $(readlink /proc/self/ns/mnt) $(cat)\" >> \(log)"],
                "timeout": 10,
            ]
        }
        let kinds = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        let b = try s.bundle(args: ["true"]) { c in
            var hooks: [String: Any] = [:]
            for k in kinds { hooks[k] = [hook(k)] }
            c["hooks"] = hooks
            c["annotations"] = ["org.example.test": "yes"]
            // The log directory is visible at the same path inside, for startContainer.
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": dir.path, "type": "bind", "source": dir.path, "options": ["bind"]])
            c["mounts"] = mounts
        }
        let r = s.skiff(["run", "-b", b, "hooked"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.map { String($0.split(separator: " ")[0]) }, kinds)
        // prestart: "created" (runtime spec)
        let statuses = ["created", "creating", "creating", "created", "running", "stopped"]
        // createContainer and startContainer run in the container's mount namespace (the
        // log directory is bound at the same path, and /bin/sh exists on both sides, so
        // only the namespace tells); the others run in skiff's, this test's.
        let hostNs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        let inContainer = ["createContainer", "startContainer"]
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count == 3 else {
                XCTFail("bad hook line: \(line)")
                continue
            }
            if inContainer.contains(fields[0]) {
                XCTAssertNotEqual(fields[1], hostNs, "\(fields[0]) ran in the host's mount namespace")
                XCTAssertTrue(fields[1].hasPrefix("mnt:["), fields[1])
            } else {
                XCTAssertEqual(fields[1], hostNs, "\(fields[0]) ran outside skiff's mount namespace")
            }
        }
        for (line, status) in zip(lines, statuses) {
            let state = try XCTUnwrap(json(String(line.split(separator: " ", maxSplits: 2).last ?? "")), String(line))
            XCTAssertEqual(state["id"] as? String, "hooked")
            XCTAssertEqual(state["status"] as? String, status, String(line))
            XCTAssertEqual(state["bundle"] as? String, b)
            XCTAssertEqual((state["annotations"] as? [String: String])?["org.example.test"], "yes")
            if status != "stopped" { XCTAssertGreaterThan(state["pid"] as? Int ?? 0, 0, String(line)) }
        }
        s.assertNothingLeftBehind()
    }

    func testFailingCreateRuntimeHookLeavesNothing() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            c["hooks"] = ["createRuntime": [["path": "/bin/false"]]]
        }
        let r = s.skiff(["run", "-b", b, "bad"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: hooks.createRuntime[0] /bin/false: exit status 1")
        s.assertNothingLeftBehind()
    }

    /// A hook may exit without reading the state on its stdin. skiff's write then meets a
    /// closed pipe (EPIPE; the state here is larger than a pipe's buffer, so it always
    /// does): that is not an error, and must not kill skiff with SIGPIPE (`run` blocks every
    /// signal for its signalfd, so an ignored SIGPIPE stayed pending and killed skiff later,
    /// exit 141, in about one run in fifteen with an ordinary small state).
    func testHookThatDoesNotReadItsStdin() throws {
        let s = try Sandbox()
        let big = String(repeating: "x", count: 200_000)
        for (hook, code) in [("/bin/true", Int32(0)), ("/bin/false", Int32(1))] {
            let b = try s.bundle(hook == "/bin/true" ? "t" : "f", args: ["true"]) { c in
                c["hooks"] = ["createRuntime": [["path": hook]]]
                c["annotations"] = ["org.example.big": big]
            }
            let r = s.skiff(["run", "-b", b, "big"])
            XCTAssertEqual(r.code, code, "\(hook): \(r.stderr)")
            if code == 1 { XCTAssertEqual(r.err, "skiff: hooks.createRuntime[0] /bin/false: exit status 1") }
        }
        s.assertNothingLeftBehind()
    }

    func testHookTimeoutKillsIt() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            c["hooks"] = ["prestart": [["path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1]]]
        }
        let start = Date()
        let r = s.skiff(["create", "-b", b, "slow"])
        XCTAssertEqual(r.err, "skiff: hooks.prestart[0] /bin/sleep: timed out after 1s and was killed")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        s.assertNothingLeftBehind()
    }

    func testFailingPoststartIsNotFatal() throws {
        let s = try Sandbox()
        let log = s.dir.appendingPathComponent("hooks.log").path
        func logged(_ kind: String) -> [String: Any] {
            ["path": "/bin/sh", "args": ["sh", "-c", "echo \(kind) >> \(log)"]]
        }
        let b = try s.bundle(args: ["sh", "-c", "exit 6"]) { c in
            c["hooks"] = [
                "poststart": [logged("poststart"), ["path": "/bin/false"]],
                "poststop": [logged("poststop"), ["path": "/bin/false"]],
            ]
        }
        let r = s.skiff(["run", "-b", b, "ps"])
        XCTAssertEqual(r.code, 6)
        // Both kinds ran, and each failure was reported without stopping the container's life.
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "poststart\npoststop\n")
        XCTAssertTrue(r.stderr.contains("hooks.poststart[1] /bin/false: exit status 1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("hooks.poststop[1] /bin/false: exit status 1"), r.stderr)
        s.assertNothingLeftBehind()
    }

    /// With --log, what a foreground run logs after the program started (a failing
    /// poststart hook) goes to the log file, as before it. (Init shares skiff's memory
    /// until execve, and on its way there it points its own Log.fd at stderr: skiff must
    /// not take that for its own.)
    func testForegroundRunKeepsLoggingToTheLogFileAfterExec() throws {
        let s = try Sandbox()
        let logFile = s.dir.appendingPathComponent("skiff.log").path
        let b = try s.bundle(args: ["true"]) { c in c["hooks"] = ["poststart": [["path": "/bin/false"]]] }
        let r = s.skiff(["--log", logFile, "run", "-b", b, "logged"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("poststart"), "logged to stderr: \(r.stderr)")
        let logged = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        XCTAssertTrue(logged.contains("hooks.poststart[0] /bin/false: exit status 1"), logged)
        s.assertNothingLeftBehind()
    }

    /// process.oomScoreAdj is the container's, not skiff's. The kernel writes oom_score_adj
    /// to every process that shares the writer's memory, so an init that shares skiff's
    /// memory until execve would give skiff the container's score too: such an init is
    /// forked. A poststart hook (skiff's child) reads skiff's score while the container runs.
    func testOOMScoreAdjIsNotGivenToSkiff() throws {
        let s = try Sandbox()
        let seen = s.dir.appendingPathComponent("skiff-oom-score").path
        let own = try String(contentsOfFile: "/proc/self/oom_score_adj", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let hook: [String: Any] = ["path": "/bin/sh", "args": ["sh", "-c", "cat /proc/$PPID/oom_score_adj > \(seen)"]]
        let b = try s.bundle(args: ["cat", "/proc/self/oom_score_adj"]) { c in
            var process = c["process"] as! [String: Any]
            process["oomScoreAdj"] = own == "500" ? 400 : 500
            c["process"] = process
            c["hooks"] = ["poststart": [hook]]
        }
        let r = s.skiff(["run", "-b", b, "oom"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, own == "500" ? "400" : "500", "the container's own score")
        let skiffs = (try? String(contentsOfFile: seen, encoding: .utf8)) ?? "(no hook output)"
        XCTAssertEqual(skiffs.trimmingCharacters(in: .whitespacesAndNewlines), own, "skiff kept its own score")
        s.assertNothingLeftBehind()
    }
}

final class DescriptorTests: XCTestCase {
    /// The container gets exactly stdio (+ --preserve-fds N): fds the caller had open
    /// beyond those never reach it.
    func testOnlyStdioAndPreservedFds() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["sh", "-c", "cd /proc/self/fd && echo *"])
        let skiff = "\(Env.skiff) --root \(s.stateRoot)"
        let plain = runProgram(
            "/bin/sh", ["-c", "exec 3</etc/hostname 4</etc/hostname 5</etc/hostname; \(skiff) run -b \(b) fd1"])
        XCTAssertEqual(plain.code, 0, plain.stderr)
        XCTAssertEqual(plain.out, "0 1 2 3", "only stdio (and the shell's own dir fd 3)")
        let kept = runProgram(
            "/bin/sh",
            ["-c", "exec 3</etc/hostname 4</etc/hostname 5</etc/hostname; \(skiff) run --preserve-fds 2 -b \(b) fd2"])
        XCTAssertEqual(kept.out, "0 1 2 3 4 5", "3 and 4 preserved, 5 is the shell's dir fd")
        // Socket activation: LISTEN_PID names skiff itself (exec keeps the shell's pid).
        let listen = runProgram(
            "/bin/sh",
            [
                "-c",
                "exec 3</etc/hostname; LISTEN_FDS=1 LISTEN_PID=$$ exec \(skiff) run -b "
                    + "\(try s.bundle("l", args: ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"])) fd3",
            ])
        XCTAssertEqual(
            listen.out,
            "1 1\n"
                + (try String(contentsOfFile: "/etc/hostname", encoding: .utf8)).trimmingCharacters(
                    in: .whitespacesAndNewlines))
        s.assertNothingLeftBehind()
    }

    func testPidFileIsWrittenForRunDetached() throws {
        let s = try Sandbox()
        let pidFile = s.dir.appendingPathComponent("p").path
        XCTAssertEqual(
            s.skiff(["run", "-d", "--pid-file", pidFile, "-b", try s.bundle(args: ["sleep", "30"]), "pf"]).code, 0)
        let st = try XCTUnwrap(json(s.skiff(["state", "pf"]).stdout))
        XCTAssertEqual(try String(contentsOfFile: pidFile, encoding: .utf8), "\(st["pid"] as! Int)")
        XCTAssertEqual(s.skiff(["delete", "-f", "pf"]).code, 0)
        s.assertNothingLeftBehind()
    }
}
