// Issue 12: detached quick-run containers that behave like Docker's: run -d returning at
// once, logs, stop, --init, start again and restart, exec -it, several ids, list/inspect,
// --restart, info, stats and update flags (their cgroup values are in the VM suite).
import Foundation
import XCTest

final class DetachedTests: XCTestCase {
    private func detached(_ s: Sandbox, _ name: String, _ args: [String]) -> Result {
        s.skiff(["run", "-d", "--rootfs", Env.rootfs!, "--name", name] + args)
    }

    private func status(_ s: Sandbox, _ id: String) -> String? {
        json(s.skiff(["state", id]).stdout)?["status"] as? String
    }

    /// skiff with stdout on a pipe, as `ID=$(skiff run -d …)` reads it: nil when the pipe
    /// did not reach EOF within `seconds` of skiff's exit (something else still holds it).
    private func throughPipe(_ s: Sandbox, _ args: [String], seconds: Double = 5) -> (code: Int32, out: String)? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Env.skiff)
        p.arguments = ["--root", s.stateRoot] + args
        p.environment = s.environment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try! p.run()
        let done = DispatchSemaphore(value: 0)
        var data = Data()
        DispatchQueue.global().async {
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        p.waitUntilExit() // (slow in the VM: its own time does not count)
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A skiff command running in the background, its stdout going to a file.
    private func background(_ s: Sandbox, _ args: [String]) throws -> (Process, URL) {
        let out = s.dir.appendingPathComponent("bg-\(UUID().uuidString.prefix(6))")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Env.skiff)
        p.arguments = ["--root", s.stateRoot] + args
        p.environment = s.environment
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out)
    }

    private func contents(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    func testRunDetachedReturnsAtOnceAndLogsStdoutAndStderr() throws {
        let s = try Sandbox()
        // The container runs for 1000 s: the pipe must still reach EOF at once.
        let r = try XCTUnwrap(
            throughPipe(
                s,
                [
                    "run", "-d", "--rootfs", Env.rootfs!, "--name", "web", "sh", "-c",
                    // stderr first: the two pipes are read in whatever order data comes
                    "echo oops >&2; sleep 0.2; echo hello; echo two; echo three; sleep 1000",
                ]),
            "run -d kept its stdout open: the container holds the caller's pipe")
        XCTAssertEqual(r.code, 0)
        XCTAssertEqual(r.out, "web\n")
        XCTAssertEqual(status(s, "web"), "running")
        XCTAssertTrue(
            waitFor { s.skiff(["logs", "web"]).stdout == "hello\ntwo\nthree\n" }, s.skiff(["logs", "web"]).stdout)
        let logs = s.skiff(["logs", "web"])
        XCTAssertEqual(logs.stderr, "oops\n") // stderr records go to stderr, as with docker logs
        XCTAssertEqual(s.skiff(["logs", "--tail", "2", "web"]).stdout, "two\nthree\n")
        XCTAssertEqual(s.skiff(["logs", "--tail", "0", "web"]).stdout, "")
        let stamped = s.skiff(["logs", "-t", "--tail", "1", "web"]).out
        XCTAssertNotNil(
            stamped.range(of: #"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three$"#, options: .regularExpression), stamped
        )
        // The log file is in the CRI format, in the container's data directory.
        let path = try XCTUnwrap(json(s.skiff(["inspect", "--format", "json", "web"]).stdout)?["log"] as? String)
        XCTAssertTrue(path.hasPrefix(s.dataRoot + "/containers/") && path.hasSuffix("web/container.log"), path)
        let file = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(
            file.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last ?? "" },
            ["stderr F oops", "stdout F hello", "stdout F two", "stdout F three"])
        XCTAssertEqual(s.skiff(["delete", "-f", "web"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testLogsFollowShowsLaterLinesUntilTheContainerStops() throws {
        let s = try Sandbox()
        XCTAssertEqual(
            detached(s, "f", ["sh", "-c", "echo first; while [ ! -e /go ]; do sleep 0.1; done; echo second"]).code, 0)
        let (follower, out) = try background(s, ["logs", "-f", "f"])
        XCTAssertTrue(waitFor { contents(out) == "first\n" }, contents(out))
        XCTAssertTrue(follower.isRunning, "logs -f ended while the container runs")
        XCTAssertEqual(s.skiff(["exec", "f", "touch", "/go"]).code, 0) // written after logs -f started
        XCTAssertTrue(waitFor { !follower.isRunning }, "logs -f did not end when the container stopped")
        XCTAssertEqual(contents(out), "first\nsecond\n")
        XCTAssertEqual(follower.terminationStatus, 0)
        XCTAssertEqual(s.skiff(["delete", "f"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testDetachedTtyOutputIsCaptured() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "tt", ["-t", "sh", "-c", "tty; echo done"]).out, "tt")
        XCTAssertTrue(waitFor { status(s, "tt") == "stopped" })
        XCTAssertEqual(s.skiff(["logs", "tt"]).stdout, "/dev/pts/0\ndone\n")
        XCTAssertEqual(s.skiff(["delete", "tt"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testStopEscalatesToSIGKILLForATermIgnoringPid1() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "sleeper", ["sleep", "1000"]).code, 0)
        let start = Date()
        let r = s.skiff(["stop", "-t", "1", "sleeper"])
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out, "sleeper")
        XCTAssertEqual(
            r.err,
            "skiff: stop sleeper: still running 1s after SIGTERM (a pid 1 without a SIGTERM handler ignores it; "
                + "see --init): sent SIGKILL"
        )
        XCTAssertGreaterThanOrEqual(elapsed, 1.0) // the grace period was given
        XCTAssertLessThan(elapsed, 8.0) // and not the default 10 s
        XCTAssertEqual(status(s, "sleeper"), "stopped")
        XCTAssertEqual(json(s.skiff(["inspect", "--format", "json", "sleeper"]).stdout)?["exitCode"] as? Int, 137)
        XCTAssertTrue(s.skiff(["list"]).stdout.contains(" stopped (137) "), s.skiff(["list"]).stdout)
        // Stopping a stopped container changes nothing and is not an error (as docker stop).
        let again = s.skiff(["stop", "sleeper"])
        XCTAssertEqual(again.code, 0)
        XCTAssertEqual(again.err, "")
        XCTAssertEqual(s.skiff(["delete", "sleeper"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testInitForwardsSIGTERMAndReapsZombies() throws {
        let s = try Sandbox()
        // An orphan (the subshell's sleep) is reparented to pid 1 and must be reaped there.
        let script = "(sleep 0.2 &); exec sleep 1000"
        XCTAssertEqual(detached(s, "plain", ["sh", "-c", script]).code, 0)
        XCTAssertEqual(detached(s, "tini", ["--init", "sh", "-c", script]).code, 0)
        sleep(1)
        let zombies = "ps -o stat= | grep -c ^Z"
        XCTAssertEqual(s.skiff(["exec", "plain", "sh", "-c", zombies]).out, "1") // sleep as pid 1 does not reap
        XCTAssertEqual(s.skiff(["exec", "tini", "sh", "-c", zombies]).out, "0")
        XCTAssertEqual(
            s.skiff(["exec", "tini", "sh", "-c", "ps -o pid=,args= | head -2"]).out.split(separator: "\n").map {
                $0.trimmingCharacters(in: .whitespaces)
            },
            ["1 skiff-init -- sh -c \(script)", "2 sleep 1000"])
        // SIGTERM reaches the program through the init: no escalation, exit 143 (128+15).
        let start = Date()
        let r = s.skiff(["stop", "-t", "20", "tini"])
        XCTAssertEqual(r.code, 0)
        XCTAssertEqual(r.err, "")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertEqual(json(s.skiff(["inspect", "--format", "json", "tini"]).stdout)?["exitCode"] as? Int, 143)
        XCTAssertEqual(s.skiff(["delete", "-f", "plain", "tini"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testStartAgainAndRestartKeepTheWritableLayerAndTheLog() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "keep", ["sh", "-c", "echo started; exec sleep 1000"]).code, 0)
        XCTAssertEqual(s.skiff(["exec", "keep", "sh", "-c", "echo data > /file"]).code, 0)
        XCTAssertEqual(s.skiff(["stop", "-t", "0", "keep"]).code, 0)
        XCTAssertEqual(status(s, "keep"), "stopped")
        let started = s.skiff(["start", "keep"])
        XCTAssertEqual(started.code, 0, started.stderr)
        XCTAssertEqual(status(s, "keep"), "running")
        XCTAssertEqual(s.skiff(["exec", "keep", "cat", "/file"]).out, "data")
        let restarted = s.skiff(["restart", "-t", "0", "keep"])
        XCTAssertEqual(restarted.code, 0, restarted.stderr)
        XCTAssertEqual(restarted.out, "keep")
        XCTAssertEqual(s.skiff(["exec", "keep", "cat", "/file"]).out, "data")
        XCTAssertTrue(
            waitFor { s.skiff(["logs", "keep"]).stdout == "started\nstarted\nstarted\n" },
            s.skiff(["logs", "keep"]).stdout)
        XCTAssertEqual(s.skiff(["start", "keep"]).err, "skiff: cannot start an already running container")
        // delete takes the writable layer with it; a new container of that name starts empty.
        let log = try XCTUnwrap(json(s.skiff(["inspect", "--format", "json", "keep"]).stdout)?["log"] as? String)
        XCTAssertTrue(FileManager.default.fileExists(atPath: log))
        XCTAssertEqual(s.skiff(["delete", "-f", "keep"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: (log as NSString).deletingLastPathComponent))
        XCTAssertEqual(
            s.skiff([
                "run", "--rm", "--rootfs", Env.rootfs!, "--name", "keep", "sh", "-c",
                "cat /file 2>/dev/null || echo gone",
            ]).out, "gone")
        // A bundle container still cannot start again (runc's rule).
        let b = try s.bundle(args: ["true"])
        XCTAssertEqual(s.skiff(["run", "-b", b, "bun"]).code, 0)
        XCTAssertEqual(s.skiff(["create", "-b", b, "bun2"]).code, 0)
        XCTAssertEqual(s.skiff(["start", "bun2"]).code, 0)
        XCTAssertTrue(waitFor { status(s, "bun2") == "stopped" })
        XCTAssertEqual(s.skiff(["start", "bun2"]).err, "skiff: cannot start a container that has stopped")
        XCTAssertEqual(
            s.skiff(["restart", "bun2"]).err,
            "skiff: restart bun2: only a quick-run container (run --rootfs) can start again; a bundle container "
                + "is created anew"
        )
        XCTAssertEqual(s.skiff(["delete", "bun2"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testStartAgainThatFailsChangesNothing() throws {
        let s = try Sandbox()
        let rootfs = s.dir.appendingPathComponent("rootfs").path
        XCTAssertEqual(runProgram("/bin/cp", ["-a", Env.rootfs!, rootfs]).code, 0)
        XCTAssertEqual(
            s.skiff(["run", "-d", "--rootfs", rootfs, "--name", "moved", "sh", "-c", "echo kept > /f; exec sleep 1000"])
                .code, 0)
        XCTAssertEqual(s.skiff(["stop", "-t", "0", "moved"]).code, 0)
        let list = s.skiff(["list"]).stdout
        XCTAssertTrue(list.contains(" stopped (137) "), list)
        XCTAssertEqual(rename(rootfs, rootfs + ".away"), 0)
        let r = s.skiff(["start", "moved"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: root.path: rootfs \(rootfs) is not a directory: No such file or directory")
        XCTAssertEqual(s.skiff(["list"]).stdout, list) // still stopped, its exit code kept
        XCTAssertEqual(rename(rootfs + ".away", rootfs), 0)
        XCTAssertEqual(s.skiff(["start", "moved"]).code, 0)
        XCTAssertEqual(s.skiff(["exec", "moved", "cat", "/f"]).out, "kept")
        XCTAssertEqual(s.skiff(["delete", "-f", "moved"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testRestartPolicy() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "flaky", ["--restart", "on-failure:2", "sh", "-c", "echo try; exit 3"]).code, 0)
        // The first run and two restarts, then it stays stopped with its exit code.
        XCTAssertTrue(
            waitFor { s.skiff(["logs", "flaky"]).stdout == "try\ntry\ntry\n" && status(s, "flaky") == "stopped" })
        sleep(1)
        XCTAssertEqual(s.skiff(["logs", "flaky"]).stdout, "try\ntry\ntry\n")
        XCTAssertTrue(s.skiff(["list"]).stdout.contains(" stopped (3) "))
        // always: restarted after it exits, but not after stop.
        XCTAssertEqual(detached(s, "always", ["--restart", "always", "sh", "-c", "echo up; sleep 0.3"]).code, 0)
        XCTAssertTrue(waitFor { s.skiff(["logs", "always"]).stdout.hasPrefix("up\nup\n") })
        XCTAssertEqual(s.skiff(["stop", "-t", "0", "always"]).code, 0)
        let lines = s.skiff(["logs", "always"]).stdout
        sleep(1)
        XCTAssertEqual(status(s, "always"), "stopped")
        XCTAssertEqual(s.skiff(["logs", "always"]).stdout, lines)
        XCTAssertEqual(
            s.skiff(["inspect", "--format", "json", "always"]).stdout.contains("\"restart\": \"always\""), true)
        // Bad policies: one line, nothing made.
        XCTAssertEqual(
            detached(s, "bad", ["--restart", "sometimes", "true"]).err,
            "skiff: --restart sometimes: expected no, always or on-failure[:N]")
        XCTAssertEqual(
            detached(s, "bad", ["--restart", "always:3", "true"]).err,
            "skiff: --restart always:3: only on-failure takes a count (on-failure:N, N >= 0)")
        XCTAssertEqual(
            s.skiff(["run", "--rootfs", Env.rootfs!, "--restart", "always", "true"]).err,
            "skiff: --restart always: needs -d (a detached container has a monitor to restart it)")
        XCTAssertEqual(s.skiff(["delete", "flaky", "always"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testExecInteractiveAndTty() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "ex", ["sleep", "1000"]).code, 0)
        XCTAssertEqual(s.skiff(["exec", "-i", "ex", "cat"], stdin: "typed\n").out, "typed")
        let tty = s.skiff(["exec", "-it", "ex", "sh", "-c", "tty; read line; echo got $line"], stdin: "word\n")
        XCTAssertEqual(tty.code, 0, tty.stderr)
        XCTAssertTrue(tty.stdout.contains("/dev/pts/"), tty.stdout)
        XCTAssertTrue(tty.stdout.contains("got word"), tty.stdout)
        XCTAssertEqual(s.skiff(["delete", "-f", "ex"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testSeveralIdsForDeleteKillStop() throws {
        let s = try Sandbox()
        for n in ["a", "b", "c", "d"] { XCTAssertEqual(detached(s, n, ["sleep", "1000"]).code, 0) }
        XCTAssertEqual(s.skiff(["kill", "a", "b", "KILL"]).code, 0) // runc's trailing signal, several ids
        XCTAssertTrue(waitFor { status(s, "a") == "stopped" && status(s, "b") == "stopped" })
        XCTAssertEqual(s.skiff(["kill", "-s", "KILL", "c"]).code, 0)
        XCTAssertTrue(waitFor { status(s, "c") == "stopped" })
        let stop = s.skiff(["stop", "-t", "0", "d", "nope"])
        XCTAssertEqual(stop.code, 1)
        XCTAssertEqual(stop.out, "d")
        XCTAssertEqual(
            stop.err.split(separator: "\n"),
            [
                "skiff: stop d: still running 0s after SIGTERM (a pid 1 without a SIGTERM handler ignores it; see "
                    + "--init): sent SIGKILL",
                "skiff: container \"nope\" does not exist",
            ])
        XCTAssertEqual(status(s, "d"), "stopped")
        // delete -f $(skiff list -q): every one of them.
        let ids = s.skiff(["list", "-q"]).out.split(separator: "\n").map(String.init)
        XCTAssertEqual(ids, ["a", "b", "c", "d"])
        XCTAssertEqual(s.skiff(["delete", "-f"] + ids).code, 0)
        XCTAssertEqual(s.skiff(["list", "-q"]).out, "")
        s.assertNothingLeftBehind()
    }

    func testListCommandExitCodeAndFilter() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "up", ["sleep", "1000"]).code, 0)
        XCTAssertEqual(detached(s, "done", ["sh", "-c", "exit 3"]).code, 0)
        XCTAssertTrue(waitFor { status(s, "done") == "stopped" })
        let table = s.skiff(["list"]).stdout.split(separator: "\n").map(String.init)
        guard table.count == 3 else { return XCTFail("list: \(table)") }
        XCTAssertTrue(table[0].hasSuffix("OWNER       COMMAND"), table[0])
        XCTAssertTrue(
            table[1].hasPrefix("done ") && table[1].contains(" stopped (3) ") && table[1].hasSuffix("\"sh -c exit 3\""),
            table[1])
        XCTAssertTrue(
            table[2].hasPrefix("up ") && table[2].contains(" running ") && table[2].hasSuffix("\"sleep 1000\""),
            table[2])
        XCTAssertEqual(s.skiff(["list", "-q", "--filter", "status=exited"]).out, "done")
        XCTAssertEqual(s.skiff(["list", "-q", "-f", "status=running"]).out, "up") // docker ps -f
        XCTAssertEqual(s.skiff(["list", "-q", "--filter", "id=d"]).out, "done")
        XCTAssertEqual(s.skiff(["list", "-q", "--filter", "status=stopped", "--filter", "name=p"]).out, "")
        XCTAssertEqual(
            s.skiff(["list", "--filter", "status=gone"]).err,
            "skiff: --filter status=gone: unknown status (created, running, paused, stopped or exited)")
        XCTAssertEqual(
            s.skiff(["list", "--filter", "colour=red"]).err,
            "skiff: --filter colour=red: expected status=STATUS, id=PREFIX or name=TEXT")
        XCTAssertEqual(s.skiff(["delete", "-f", "up", "done"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testInspectShowsTheProcess() throws {
        let s = try Sandbox()
        XCTAssertEqual(
            detached(
                s, "insp", ["-e", "GREETING=hi there", "-w", "/tmp", "-u", "1000:1000", "-h", "box", "sleep", "1000"]
            ).code, 0)
        let doc = try XCTUnwrap(json(s.skiff(["inspect", "--format", "json", "insp"]).stdout))
        let process = try XCTUnwrap(doc["process"] as? [String: Any])
        XCTAssertEqual(process["args"] as? [String], ["sleep", "1000"])
        XCTAssertTrue((process["env"] as? [String])?.contains("GREETING=hi there") == true)
        XCTAssertEqual(process["cwd"] as? String, "/tmp")
        XCTAssertEqual((process["user"] as? [String: Any])?["uid"] as? Int, 1000)
        XCTAssertEqual(process["hostname"] as? String, "box")
        let log = try XCTUnwrap(doc["log"] as? String)
        XCTAssertTrue(log.hasPrefix(s.dataRoot + "/containers/") && log.hasSuffix("-insp/container.log"), log)
        let text = s.skiff(["inspect", "insp"]).stdout
        XCTAssertTrue(
            text.contains("  args      sleep 1000\n  cwd       /tmp\n  user      1000:1000\n  hostname  box\n"), text)
        XCTAssertTrue(text.contains("  env       GREETING=hi there\n"), text)
        XCTAssertEqual(s.skiff(["delete", "-f", "insp"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testInfoStatsAndUpdateOnTheHost() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "i1", ["sleep", "1000"]).code, 0)
        let info = s.skiff(["info"])
        XCTAssertEqual(info.code, 0, info.stderr)
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        XCTAssertTrue(info.stdout.contains("Kernel:             Linux \(release) "), info.stdout)
        XCTAssertTrue(info.stdout.contains("State root:         \(s.stateRoot)\n"), info.stdout)
        XCTAssertTrue(
            info.stdout.contains(
                "Containers:         1\n  Running:          1\n  Paused:           0\n  Stopped:          0\n"),
            info.stdout)
        XCTAssertTrue(info.stdout.contains("Storage:            overlay"), info.stdout)
        XCTAssertTrue(info.stdout.contains("Seccomp:            supported, libseccomp 2."), info.stdout)
        let stats = s.skiff(["stats", "--no-stream", "i1"])
        XCTAssertEqual(stats.code, 0, stats.stderr)
        let rows = stats.stdout.split(separator: "\n")
        guard rows.count == 2 else { return XCTFail("stats: \(stats.stdout) \(stats.stderr)") }
        XCTAssertTrue(
            rows[0].hasPrefix("ID          CPU %       MEM USAGE / LIMIT   MEM %       PIDS        BLOCK I/O"),
            String(rows[0]))
        XCTAssertTrue(rows[1].hasPrefix("i1 "))
        XCTAssertEqual(s.skiff(["stats", "--no-stream", "nope"]).err, "skiff: container \"nope\" does not exist")
        XCTAssertEqual(
            s.skiff(["update", "--cpus", "0", "i1"]).err, "skiff: --cpus 0: expected a positive number such as 0.5")
        XCTAssertEqual(
            s.skiff(["update", "--cpus", "1", "--cpu-quota", "5000", "i1"]).err,
            "skiff: --cpus cannot be combined with --cpu-quota or --cpu-period")
        XCTAssertEqual(s.skiff(["delete", "-f", "i1"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testBadInputIsOneLineAndChangesNothing() throws {
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "ok", ["sleep", "1000"]).code, 0)
        let b = try s.bundle(args: ["sleep", "1000"])
        XCTAssertEqual(s.skiff(["run", "-d", "-b", b, "bun"]).code, 0)
        let entries = s.stateEntries.sorted()
        let cases: [([String], String)] = [
            (["logs", "nope"], "skiff: container \"nope\" does not exist"),
            (["stop", "nope"], "skiff: container \"nope\" does not exist"),
            (["restart", "nope"], "skiff: container \"nope\" does not exist"),
            (["start", "nope"], "skiff: container \"nope\" does not exist"),
            (
                ["logs", "bun"],
                "skiff: container \"bun\" has no captured output: a bundle container writes to skiff's own stdout "
                    + "and stderr (only detached quick-run containers, run -d --rootfs, keep a log)"
            ),
            (["stop", "-t", "-1", "ok"], "skiff: --time -1: expected a whole number of seconds, 0 or more"),
            (["restart", "-t", "soon", "ok"], "skiff: --time soon: expected a whole number of seconds, 0 or more"),
            (["logs", "--tail", "-3", "ok"], "skiff: --tail -3: expected a number of lines, 0 or more, or all"),
            (
                ["stop"],
                "skiff: stop: requires at least one container id (usage: skiff stop [options] <container-id>...)"
            ),
            (["run", "--rootfs", Env.rootfs!, "--name", "ok", "-d", "true"], "skiff: container \"ok\" already exists"),
        ]
        for (args, message) in cases {
            let r = s.skiff(args)
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertEqual(r.err, message, "\(args)")
            XCTAssertEqual(r.stdout, "", "\(args)")
        }
        XCTAssertEqual(s.stateEntries.sorted(), entries)
        XCTAssertEqual(status(s, "ok"), "running")
        XCTAssertEqual(s.skiff(["delete", "-f", "ok", "bun"]).code, 0)
        s.assertNothingLeftBehind()
    }
}
