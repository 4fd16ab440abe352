// Issue 12, the parts that read a full cgroup v2 hierarchy (the VM suite runs them):
// stats values, update --cpus and -m, info's controllers, start again making the cgroup anew.
import Foundation
import XCTest

final class DetachedCgroupTests: XCTestCase {
    private func detached(_ s: Sandbox, _ name: String, _ args: [String]) -> Result {
        s.skiff(["run", "-d", "--rootfs", Env.rootfs!, "--name", name] + args)
    }

    func testStatsShowsTheCgroupsNumbers() throws {
        try Cgroup2.require(["cpu", "memory", "pids"])
        let s = try Sandbox()
        // A busy loop held to half a CPU and 64 MiB; two processes (a background sleep, and sh
        // which execs its last command).
        XCTAssertEqual(detached(s, "busy", ["--cpus", "0.5", "-m", "64m", "sh", "-c", "while :; do :; done"]).code, 0)
        XCTAssertEqual(detached(s, "idle", ["sh", "-c", "sleep 1000 & sleep 1000"]).code, 0)
        sleep(1)
        let r = s.skiff(["stats", "--no-stream"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        XCTAssertEqual(rows.count, 3, r.stdout)
        // ID CPU% USAGE / LIMIT MEM% PIDS READ / WRITE: 10 words
        let busy = try XCTUnwrap(rows.first { $0.first == "busy" && $0.count == 10 }, r.stdout)
        let cpu = try XCTUnwrap(Double(busy[1].dropLast()), r.stdout)
        XCTAssertGreaterThan(cpu, 10, r.stdout) // it runs...
        XCTAssertLessThan(cpu, 80, r.stdout) // ...held near 50% by cpu.max
        XCTAssertEqual(busy[4], "64MiB", r.stdout)
        XCTAssertEqual(busy[6], "1", r.stdout)
        let idle = try XCTUnwrap(rows.first { $0.first == "idle" && $0.count == 10 }, r.stdout)
        XCTAssertEqual(idle[6], "2", r.stdout)
        XCTAssertEqual(s.skiff(["delete", "-f", "busy", "idle"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testUpdateCpusAndMemoryShortFlag() throws {
        try Cgroup2.require(["cpu", "memory"])
        let s = try Sandbox()
        XCTAssertEqual(detached(s, "u", ["sleep", "1000"]).code, 0)
        let path = Cgroup2.defaultPath(stateRoot: s.stateRoot, id: "u")
        let r = s.skiff(["update", "--cpus", "0.25", "-m", "32m", "u"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(Cgroup2.read(path, "cpu.max"), "25000 100000")
        XCTAssertEqual(Cgroup2.read(path, "memory.max"), "33554432")
        // Start again after stop: the new cgroup has the updated limits (the saved config keeps them).
        XCTAssertEqual(s.skiff(["stop", "-t", "0", "u"]).code, 0)
        XCTAssertEqual(s.skiff(["start", "u"]).code, 0)
        XCTAssertEqual(
            s.skiff(["exec", "u", "cat", "/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/memory.max"]).out,
            "25000 100000\n33554432")
        let info = s.skiff(["info"]).stdout
        XCTAssertTrue(info.contains("Cgroup version:     2\n"), info)
        XCTAssertTrue(info.range(of: #"Cgroup controllers: .*\bmemory\b"#, options: .regularExpression) != nil, info)
        XCTAssertEqual(s.skiff(["delete", "-f", "u"]).code, 0)
        s.assertNothingLeftBehind()
    }
}
