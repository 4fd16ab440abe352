// Cgroup v2: the limits of linux.resources really bite, and the cgroup commands (pause,
// resume, ps, events, update, kill --all, delete) work on them.
//
// Tests that need a controller (memory, pids, cpu, cpuset, io, hugetlb) need a full
// cgroup v2 hierarchy: they run in the VM (scripts/test-vm) and skip elsewhere, unless
// SKIFF_REQUIRE_CGROUP2=1 (set by scripts/test-vm), where a skip is a failure. Tests that
// need only the core of cgroup v2 (freezer, cgroup.procs, cgroup.kill, device filters)
// also run on a hybrid host such as the development machine, and the host-only test
// checks the error for a controller the hierarchy does not have.
import Foundation
import XCTest

/// The cgroup2 hierarchy as the tests see it.
enum Cgroup2 {
    /// Mount point of the cgroup2 hierarchy, nil when there is none.
    static let mount: String? = {
        let info = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        var found: [String] = []
        for line in info.split(separator: "\n") {
            let f = line.split(separator: " ")
            if let dash = f.firstIndex(of: "-"), dash + 1 < f.count, f[dash + 1] == "cgroup2", f[3] == "/" {
                found.append(String(f[4]))
            }
        }
        return found.first { $0 == "/sys/fs/cgroup" } ?? found.first
    }()

    /// Controllers the hierarchy's root offers.
    static var controllers: Set<String> {
        guard let mount else { return [] }
        let text = (try? String(contentsOfFile: mount + "/cgroup.controllers", encoding: .utf8)) ?? ""
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    static var required: Bool { ProcessInfo.processInfo.environment["SKIFF_REQUIRE_CGROUP2"] == "1" }

    /// Skip unless there is a cgroup2 hierarchy with these controllers (none: the core
    /// files only). Under SKIFF_REQUIRE_CGROUP2=1 that is a failure instead.
    static func require(_ needed: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        var reason: String?
        if mount == nil {
            reason = "no cgroup2 hierarchy is mounted"
        } else {
            let missing = needed.filter { !controllers.contains($0) }
            if !missing.isEmpty {
                reason =
                    "the cgroup v2 hierarchy at \(mount!) lacks \(missing.joined(separator: ", ")) (a full cgroup "
                    + "v2 runs in the VM: scripts/test-vm)"
            }
        }
        guard let reason else { return }
        if required { XCTFail("required cgroup v2 test cannot run: \(reason)", file: file, line: line) }
        throw XCTSkip(reason)
    }

    /// skiff's default cgroup for a container of a sandbox (--root other than /run/skiff):
    /// /skiff/TAG-ID, TAG = 32-bit FNV-1a of the state root.
    static func defaultPath(stateRoot: String, id: String) -> String {
        var h: UInt32 = 2_166_136_261
        for byte in stateRoot.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(h, radix: 16)
        return "/skiff/" + String(repeating: "0", count: 8 - hex.count) + hex + "-" + id
    }

    /// The v2 cgroup of a process ("/skiff/..."), from /proc/PID/cgroup.
    static func cgroup(of pid: Int) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    static func directory(_ path: String) -> String { mount! + path }

    static func read(_ path: String, _ file: String) -> String? {
        (try? String(contentsOfFile: directory(path) + "/" + file, encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: directory(path)) }

    /// Cgroup directories of a sandbox's containers still there (leak check).
    static func leftovers(stateRoot: String) -> [String] {
        guard let mount else { return [] }
        let prefix = String(defaultPath(stateRoot: stateRoot, id: "").dropFirst("/skiff/".count))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: mount + "/skiff")) ?? []
        return names.filter { $0.hasPrefix(prefix) }.map { "/skiff/" + $0 }
    }
}

/// A program running in the background, with its output in files.
final class Background {
    let process = Process()
    private let dir: URL

    init(_ program: String, _ args: [String]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["out", "err"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil)
        }
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = args
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: dir.appendingPathComponent("out"))
        process.standardError = try FileHandle(forWritingTo: dir.appendingPathComponent("err"))
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: dir.appendingPathComponent("out"), encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: dir.appendingPathComponent("err"), encoding: .utf8)) ?? "" }

    /// Wait up to `seconds`; false if it is still running (then it is killed).
    func wait(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return false
        }
        return true
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }
}

final class CgroupTests: XCTestCase {
    // MARK: helpers

    /// A bundle with linux.resources (and more) set by `resources`.
    func bundle(
        _ s: Sandbox, _ name: String = "b", args: [String], resources: [String: Any] = [:],
        edit: (inout [String: Any]) -> Void = { _ in }
    ) throws -> String {
        try s.bundle(name, args: args) { c in
            var linux = c["linux"] as! [String: Any]
            var r = linux["resources"] as? [String: Any] ?? [:]
            for (k, v) in resources { r[k] = v }
            linux["resources"] = r
            c["linux"] = linux
            edit(&c)
        }
    }

    /// The init pid of a running container.
    func pid(_ s: Sandbox, _ id: String) throws -> Int {
        try XCTUnwrap(json(s.skiff(["state", id]).stdout)?["pid"] as? Int)
    }

    func status(_ s: Sandbox, _ id: String) -> String? {
        json(s.skiff(["state", id]).stdout)?["status"] as? String
    }

    /// "key value" lines into a dictionary.
    func keyValues(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let v = Int(f[1]) { out[String(f[0])] = v }
        }
        return out
    }

    // MARK: memory

    /// memory.max from the spec; a memory hog is OOM-killed and `run` says so.
    func testMemoryLimitOOMKillIsReported() throws {
        try Cgroup2.require(["memory"])
        let s = try Sandbox()
        let limit = 4 << 20
        let hog = ["awk", "BEGIN { s = \"x\"; while (1) s = s s }"]
        let r = s.skiff([
            "run", "-b", try bundle(s, args: hog, resources: ["memory": ["limit": limit, "swap": limit]]), "oom",
        ])
        XCTAssertEqual(r.code, 137, r.stderr)
        XCTAssertTrue(
            r.stderr.contains("skiff: container process was killed by the kernel's OOM killer (memory limit 4 MiB)"),
            r.stderr)
        s.assertNothingLeftBehind()
    }

    /// The limit is what the spec says, inside the container's own cgroup namespace.
    func testMemoryFilesFromSpec() throws {
        try Cgroup2.require(["memory"])
        let s = try Sandbox()
        let script = "cd /sys/fs/cgroup && for f in memory.max memory.low memory.swap.max; do echo $f $(cat $f); done"
        let r = s.skiff([
            "run", "-b",
            try bundle(
                s, args: ["sh", "-c", script],
                resources: ["memory": ["limit": 32 << 20, "reservation": 8 << 20, "swap": 48 << 20]]), "mem",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let v = keyValues(r.stdout)
        XCTAssertEqual(v["memory.max"], 32 << 20)
        XCTAssertEqual(v["memory.low"], 8 << 20)
        XCTAssertEqual(v["memory.swap.max"], 16 << 20, "swap is memory+swap in the spec: 48M - 32M")
        s.assertNothingLeftBehind()
    }

    /// Init's own setup is not charged to the container: it runs in skiff's memory until
    /// execve (CLONE_VM, shared_clone.c), so after `create` the container's cgroup holds no
    /// anonymous pages and no page tables, only the kernel's objects (mounts, namespaces).
    /// With a forked init it held 96–104 KiB of copied pages and 12 KiB of page tables.
    func testInitSetupIsNotChargedToTheContainer() throws {
        try Cgroup2.require(["memory"])
        let s = try Sandbox()
        let b = try bundle(s, args: ["/bin/true"], resources: ["memory": ["limit": 64 << 20, "swap": 64 << 20]])
        XCTAssertEqual(s.skiff(["create", "-b", b, "charge"]).code, 0)
        let dir = Cgroup2.directory(Cgroup2.defaultPath(stateRoot: s.stateRoot, id: "charge"))
        let stat = keyValues((try? String(contentsOfFile: dir + "/memory.stat", encoding: .utf8)) ?? "")
        XCTAssertNotNil(stat["anon"], "no memory.stat in \(dir)")
        XCTAssertLessThanOrEqual(stat["anon"] ?? .max, 8 << 10, "anonymous memory charged to the container: \(stat)")
        XCTAssertEqual(stat["pagetables"], 0, "page tables charged to the container: \(stat)")
        XCTAssertEqual(s.skiff(["start", "charge"]).code, 0)
        usleep(200_000)
        XCTAssertEqual(s.skiff(["delete", "--force", "charge"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// /bin/true runs five times in a row under a 192 KiB memory limit: below what crun
    /// 1.8 needs for five in a row in the VM (188 KiB; scripts/min-memory). A forked init
    /// needed 240–248 KiB.
    func testRunsUnderA192KiBLimit() throws {
        try Cgroup2.require(["memory"])
        let s = try Sandbox()
        let limit = 192 << 10
        let b = try bundle(s, args: ["/bin/true"], resources: ["memory": ["limit": limit, "swap": limit]])
        for i in 1...5 {
            let r = s.skiff(["run", "-b", b, "small\(i)"])
            XCTAssertEqual(r.code, 0, "run \(i): \(r.stderr)")
        }
        s.assertNothingLeftBehind()
    }

    /// `events` reports the OOM kill as runc does: {"type":"oom","id":...}.
    func testEventsReportsOOM() throws {
        try Cgroup2.require(["memory"])
        let s = try Sandbox()
        let b = try bundle(
            s, args: ["sh", "-c", "sleep 1; awk 'BEGIN { s = \"x\"; while (1) s = s s }'"],
            resources: ["memory": ["limit": 4 << 20, "swap": 4 << 20]])
        XCTAssertEqual(s.skiff(["create", "-b", b, "ev"]).code, 0)
        let events = try Background(Env.skiff, ["--root", s.stateRoot, "events", "--interval", "30s", "ev"])
        usleep(300_000)
        XCTAssertEqual(s.skiff(["start", "ev"]).code, 0)
        XCTAssertTrue(events.wait(seconds: 60), "events did not end when the container stopped")
        let lines = events.stdout.split(separator: "\n").compactMap { json(String($0)) }
        XCTAssertTrue(
            lines.contains { $0["type"] as? String == "oom" && $0["id"] as? String == "ev" },
            events.stdout + events.stderr)
        XCTAssertEqual(s.skiff(["delete", "ev"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// `update` raises memory.max of a running container, and --resources - works too.
    func testUpdateRaisesMemoryLive() throws {
        try Cgroup2.require(["memory", "pids"])
        let s = try Sandbox()
        let b = try bundle(s, args: ["sleep", "300"], resources: ["memory": ["limit": 32 << 20]])
        XCTAssertEqual(s.skiff(["run", "-d", "-b", b, "up"]).code, 0)
        let path = try XCTUnwrap(Cgroup2.cgroup(of: try pid(s, "up")))
        XCTAssertEqual(Cgroup2.read(path, "memory.max"), "\(32 << 20)")
        let u = s.skiff(["update", "--memory", "64m", "up"])
        XCTAssertEqual(u.code, 0, u.stderr)
        XCTAssertEqual(Cgroup2.read(path, "memory.max"), "\(64 << 20)")
        let r = s.skiff(
            ["update", "--resources", "-", "up"], stdin: #"{"pids": {"limit": 42}, "memory": {"swap": -1}}"#)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(Cgroup2.read(path, "pids.max"), "42")
        XCTAssertEqual(Cgroup2.read(path, "memory.max"), "\(64 << 20)", "an update of swap alone keeps the limit")
        // checkBeforeUpdate refuses a limit below the current usage.
        let low = s.skiff(
            ["update", "--resources", "-", "up"], stdin: #"{"memory": {"limit": 4096, "checkBeforeUpdate": true}}"#)
        XCTAssertEqual(low.code, 1)
        XCTAssertTrue(
            low.err.hasPrefix("skiff: linux.resources.memory.limit: rejecting memory limit 4096 below usage"), low.err)
        XCTAssertEqual(s.skiff(["delete", "--force", "up"]).code, 0)
        XCTAssertFalse(Cgroup2.exists(path))
        s.assertNothingLeftBehind()
    }

    // MARK: pids, cpu, cpuset, io, the rest

    /// pids.max stops a fork loop.
    func testPidsLimitStopsForkLoop() throws {
        try Cgroup2.require(["pids"])
        let s = try Sandbox()
        // The loop runs in a subshell: a failed fork ends the shell that tried it. With 5
        // pids: init's sh, the subshell, 3 sleeps; then the subshell's fork fails.
        let script =
            "(for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & echo started; done); sleep 3; cat "
            + "/sys/fs/cgroup/pids.max /sys/fs/cgroup/pids.events"
        let r = s.skiff([
            "run", "-b", try bundle(s, args: ["sh", "-c", script], resources: ["pids": ["limit": 5]]), "pids",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let started = r.stdout.split(separator: "\n").filter { $0 == "started" }.count
        XCTAssertEqual(started, 3, r.stdout)
        XCTAssertTrue(r.stdout.contains("\n5\n"), r.stdout)
        XCTAssertGreaterThanOrEqual(
            keyValues(r.stdout)["max"] ?? 0, 1, "pids.events counts the refused fork: \(r.stdout)")
        XCTAssertTrue(r.stderr.contains("can't fork"), r.stderr)
        s.assertNothingLeftBehind()
    }

    /// cpu.max throttles a busy loop (cpu.stat nr_throttled grows).
    func testCPUQuotaThrottles() throws {
        try Cgroup2.require(["cpu"])
        let s = try Sandbox()
        let script = "cat /sys/fs/cgroup/cpu.max; timeout 1 sh -c 'while :; do :; done'; cat /sys/fs/cgroup/cpu.stat"
        let r = s.skiff([
            "run", "-b",
            try bundle(
                s, args: ["sh", "-c", script],
                resources: ["cpu": ["quota": 10000, "period": 50000, "shares": 1024]]), "cpu",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("10000 50000\n"), r.stdout)
        let stat = keyValues(r.stdout)
        XCTAssertGreaterThan(stat["nr_throttled"] ?? 0, 0, r.stdout)
        XCTAssertGreaterThan(stat["throttled_usec"] ?? 0, 0, r.stdout)
        s.assertNothingLeftBehind()
    }

    /// cpuset.cpus pins the container to the CPUs given.
    func testCpusetPins() throws {
        try Cgroup2.require(["cpuset"])
        let s = try Sandbox()
        let cpu = ProcessInfo.processInfo.activeProcessorCount > 1 ? "1" : "0"
        let script = "cat /sys/fs/cgroup/cpuset.cpus.effective; grep Cpus_allowed_list /proc/self/status"
        let r = s.skiff([
            "run", "-b", try bundle(s, args: ["sh", "-c", script], resources: ["cpu": ["cpus": cpu, "mems": "0"]]),
            "pin",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.out.split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: " ") }
        XCTAssertEqual(lines, [cpu, "Cpus_allowed_list: \(cpu)"])
        s.assertNothingLeftBehind()
    }

    /// io.max throttles reads of the VM's disk (/dev/vda), given to the container.
    func testIOMaxThrottlesARealDisk() throws {
        try Cgroup2.require(["io"])
        guard
            let devnum = (try? String(contentsOfFile: "/sys/block/vda/dev", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
        else {
            if Cgroup2.required { XCTFail("no /dev/vda in the VM") }
            throw XCTSkip("no block device /dev/vda (the VM has one)")
        }
        let mm = devnum.split(separator: ":").compactMap { Int($0) }
        let s = try Sandbox()
        // 3 MiB at 1 MiB/s: at least 2 s (the first MiB may pass at once).
        let script =
            "cat /sys/fs/cgroup/io.max; a=$(cut -d' ' -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=64k "
            + "count=48 2>/dev/null; b=$(cut -d' ' -f1 /proc/uptime); echo elapsed $(awk \"BEGIN { print "
            + "int(($b - $a) * 1000) }\")"
        let b = try bundle(
            s, args: ["sh", "-c", script],
            resources: [
                "blockIO": [
                    "throttleReadBpsDevice": [["major": mm[0], "minor": mm[1], "rate": 1 << 20]],
                    "throttleWriteIOPSDevice": [["major": mm[0], "minor": mm[1], "rate": 100]],
                ],
                "devices": [
                    ["allow": false, "access": "rwm"],
                    ["allow": true, "type": "b", "major": mm[0], "minor": mm[1], "access": "r"],
                ],
            ]
        ) { c in
            var linux = c["linux"] as! [String: Any]
            linux["devices"] = [["path": "/dev/vda", "type": "b", "major": mm[0], "minor": mm[1]]]
            c["linux"] = linux
        }
        let r = s.skiff(["run", "-b", b, "io"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("\(devnum) rbps=1048576 wbps=max riops=max wiops=100\n"), r.stdout)
        XCTAssertGreaterThanOrEqual(keyValues(r.stdout)["elapsed"] ?? 0, 1500, r.stdout)
        s.assertNothingLeftBehind()
    }

    /// runc's conversions: cpu.shares -> cpu.weight, blkio weight -> io.weight, -1 -> max,
    /// burst, hugepage limits, and `unified` written last.
    func testConversionsAndUnified() throws {
        try Cgroup2.require(["cpu", "io", "memory", "pids", "hugetlb"])
        let s = try Sandbox()
        let files = [
            "cpu.weight", "cpu.max", "cpu.max.burst", "io.weight", "pids.max", "memory.high", "hugetlb.2MB.max",
        ]
        let script =
            "cd /sys/fs/cgroup && for f in \(files.joined(separator: " ")); do echo \"$f=$(cat $f | head -n 1)\"; done"
        let r = s.skiff([
            "run", "-b",
            try bundle(
                s, args: ["sh", "-c", script],
                resources: [
                    "cpu": ["shares": 1024, "quota": 50000, "period": 100000, "burst": 10000],
                    "blockIO": ["weight": 500],
                    "pids": ["limit": -1],
                    "hugepageLimits": [["pageSize": "2MB", "limit": 0]],
                    "unified": ["memory.high": "\(24 << 20)"],
                ]), "conv",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(
            r.out.split(separator: "\n").map(String.init),
            [
                "cpu.weight=39", "cpu.max=50000 100000", "cpu.max.burst=10000", "io.weight=default 4950",
                "pids.max=max", "memory.high=\(24 << 20)", "hugetlb.2MB.max=0",
            ])
        s.assertNothingLeftBehind()
    }

    // MARK: devices (core cgroup v2: also on a hybrid host)

    /// A device rule denies /dev/null when not allowed, and allows it when allowed; the
    /// last matching rule decides, per access (r, w, m).
    func testDeviceRulesDenyAndAllowDevNull() throws {
        try Cgroup2.require()
        let s = try Sandbox()
        let probe = ["sh", "-c", "cat /dev/null && echo read-ok; echo x > /dev/null && echo write-ok; true"]
        func run(_ name: String, _ rules: [[String: Any]]) throws -> Result {
            let b = try bundle(s, name, args: probe) { c in
                var linux = c["linux"] as! [String: Any]
                var r = linux["resources"] as! [String: Any]
                r["devices"] = rules
                linux["resources"] = r
                c["linux"] = linux
            }
            return s.skiff(["run", "-b", b, name])
        }
        let denyAll: [String: Any] = ["allow": false, "access": "rwm"]
        let null: [String: Any] = ["type": "c", "major": 1, "minor": 3]

        // The default spec (deny all) still allows the standard devices.
        var r = try run("std", [denyAll])
        XCTAssertEqual(r.out, "read-ok\nwrite-ok", r.stderr)
        // Denied.
        r = try run("deny", [denyAll, null.merging(["allow": false, "access": "rwm"]) { $1 }])
        XCTAssertEqual(r.out, "", r.stdout)
        XCTAssertTrue(r.stderr.contains("Operation not permitted"), r.stderr)
        // Denied for writing only.
        r = try run("denyw", [denyAll, null.merging(["allow": false, "access": "w"]) { $1 }])
        XCTAssertEqual(r.out, "read-ok", r.stderr)
        // Denied, then allowed again by a later rule.
        r = try run(
            "allow",
            [
                denyAll, null.merging(["allow": false, "access": "rwm"]) { $1 },
                null.merging(["allow": true, "access": "rw"]) { $1 },
            ])
        XCTAssertEqual(r.out, "read-ok\nwrite-ok", r.stderr)
        s.assertNothingLeftBehind()
    }

    // MARK: pause, ps, kill --all, delete, events --stats

    /// pause stops a counter from advancing (status "paused"); resume restarts it.
    func testPauseStopsCounterResumeRestarts() throws {
        try Cgroup2.require()
        let s = try Sandbox()
        let loop = "i=0; while true; do i=$((i+1)); echo $i > /dev/shm/counter; sleep 0.05; done"
        XCTAssertEqual(s.skiff(["run", "-d", "-b", try s.bundle(args: ["sh", "-c", loop]), "pz"]).code, 0)
        let pid = try pid(s, "pz")
        let counterFile = "/proc/\(pid)/root/dev/shm/counter"
        func counter() -> Int {
            Int(
                ((try? String(contentsOfFile: counterFile, encoding: .utf8)) ?? "").trimmingCharacters(
                    in: .whitespacesAndNewlines)) ?? -1
        }
        XCTAssertTrue(waitFor { counter() >= 2 })

        let p = s.skiff(["pause", "pz"])
        XCTAssertEqual(p.code, 0, p.stderr)
        XCTAssertEqual(status(s, "pz"), "paused")
        XCTAssertTrue(s.skiff(["list"]).stdout.contains("paused"))
        let frozen = counter()
        usleep(600_000)
        XCTAssertEqual(counter(), frozen, "the counter advanced while paused")
        XCTAssertEqual(s.skiff(["pause", "pz"]).err, "skiff: container \"pz\" is already paused")

        XCTAssertEqual(s.skiff(["resume", "pz"]).code, 0)
        XCTAssertEqual(status(s, "pz"), "running")
        XCTAssertTrue(waitFor { counter() > frozen + 1 }, "the counter did not restart after resume")
        XCTAssertEqual(s.skiff(["resume", "pz"]).err, "skiff: container \"pz\" is not paused")

        // A paused container is deleted with --force too.
        XCTAssertEqual(s.skiff(["pause", "pz"]).code, 0)
        XCTAssertEqual(s.skiff(["delete", "pz"]).code, 1)
        XCTAssertEqual(s.skiff(["delete", "--force", "pz"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// ps lists the container's processes (json: pids; table: the host's ps lines);
    /// kill --all reaches every one of them.
    func testPsAndKillAll() throws {
        try Cgroup2.require()
        let s = try Sandbox()
        XCTAssertEqual(
            s.skiff(["run", "-d", "-b", try s.bundle(args: ["sh", "-c", "sleep 301 & sleep 302 & wait"]), "ps"]).code, 0
        )
        let initPid = try pid(s, "ps")
        var pids: [Int] = []
        XCTAssertTrue(
            waitFor {
                pids =
                    (try? JSONSerialization.jsonObject(
                        with: Data(s.skiff(["ps", "--format", "json", "ps"]).stdout.utf8))) as? [Int] ?? []
                return pids.count == 3
            }, "\(pids)")
        XCTAssertTrue(pids.contains(initPid))

        let table = s.skiff(["ps", "ps"])
        XCTAssertEqual(table.code, 0, table.stderr)
        let lines = table.out.split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("PID") == true, table.stdout)
        XCTAssertEqual(lines.count, 4, table.stdout)
        XCTAssertTrue(table.stdout.contains("sleep 301") && table.stdout.contains("sleep 302"), table.stdout)
        let custom = s.skiff(["ps", "ps", "-o", "pid,comm"])
        XCTAssertEqual(custom.out.split(separator: "\n").count, 4, custom.stdout)

        XCTAssertEqual(s.skiff(["kill", "--all", "ps", "KILL"]).code, 0)
        XCTAssertTrue(waitFor { self.status(s, "ps") == "stopped" })
        XCTAssertTrue(
            waitFor {
                pids.allSatisfy {
                    kill(pid_t($0), 0) != 0
                        || (try? String(contentsOfFile: "/proc/\($0)/stat", encoding: .utf8))?.contains(") Z") == true
                }
            })
        XCTAssertEqual(s.skiff(["delete", "ps"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// The cgroup is where the spec or the default says, and delete removes it.
    func testCgroupPathsAndDeleteRemovesThem() throws {
        try Cgroup2.require()
        let s = try Sandbox()
        // Default: /skiff/TAG-ID for a --root other than /run/skiff.
        XCTAssertEqual(s.skiff(["run", "-d", "-b", try s.bundle("d", args: ["sleep", "300"]), "dflt"]).code, 0)
        let path = try XCTUnwrap(Cgroup2.cgroup(of: try pid(s, "dflt")))
        XCTAssertEqual(path, Cgroup2.defaultPath(stateRoot: s.stateRoot, id: "dflt"))
        XCTAssertTrue(Cgroup2.exists(path))
        // Inside, the cgroup namespace is rooted at the container's cgroup.
        let inside = s.skiff(["run", "-b", try s.bundle("i", args: ["cat", "/proc/self/cgroup"]), "inside"])
        XCTAssertEqual(inside.out.split(separator: "\n").last, "0::/", inside.stdout + inside.stderr)
        // Absolute cgroupsPath.
        let abs = "/skiff-test-\(UUID().uuidString.prefix(6))/c1"
        let b = try s.bundle("a", args: ["sleep", "300"]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["cgroupsPath"] = abs
            c["linux"] = linux
        }
        XCTAssertEqual(s.skiff(["run", "-d", "-b", b, "abs"]).code, 0)
        XCTAssertEqual(Cgroup2.cgroup(of: try self.pid(s, "abs")), abs)

        XCTAssertEqual(s.skiff(["delete", "--force", "dflt"]).code, 0)
        XCTAssertEqual(s.skiff(["delete", "--force", "abs"]).code, 0)
        XCTAssertFalse(Cgroup2.exists(path), "cgroup \(path) left behind")
        XCTAssertFalse(Cgroup2.exists(abs), "cgroup \(abs) left behind")
        rmdir(Cgroup2.directory("/" + abs.split(separator: "/")[0])) // the parent is the test's own
        s.assertNothingLeftBehind()
    }

    /// events --stats prints one line in runc's schema.
    func testEventsStatsSchema() throws {
        try Cgroup2.require()
        let s = try Sandbox()
        XCTAssertEqual(
            s.skiff(["run", "-d", "-b", try s.bundle(args: ["sh", "-c", "sleep 300 & wait"]), "st"]).code, 0)
        let r = s.skiff(["events", "--stats", "st"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out.split(separator: "\n").count, 1)
        let e = try XCTUnwrap(json(r.out))
        XCTAssertEqual(e["type"] as? String, "stats")
        XCTAssertEqual(e["id"] as? String, "st")
        let data = try XCTUnwrap(e["data"] as? [String: Any])
        for key in ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt"] {
            XCTAssertNotNil(data[key], key)
        }
        let cpu = try XCTUnwrap(data["cpu"] as? [String: Any])
        let usage = try XCTUnwrap(cpu["usage"] as? [String: Any])
        XCTAssertNotNil(usage["kernel"] as? Int)
        XCTAssertNotNil(usage["user"] as? Int)
        XCTAssertNotNil(cpu["throttling"] as? [String: Any])
        let memory = try XCTUnwrap(data["memory"] as? [String: Any])
        for key in ["usage", "swap", "kernel", "kernelTCP"] {
            let entry = try XCTUnwrap(memory[key] as? [String: Any], key)
            XCTAssertTrue(entry["limit"] is NSNumber, key) // UInt64.max for "max"
            XCTAssertTrue(entry["failcnt"] is NSNumber, key)
        }
        XCTAssertNotNil(data["pids"] as? [String: Any])
        XCTAssertNotNil(data["blkio"] as? [String: Any])
        XCTAssertNotNil(data["hugetlb"] as? [String: Any])
        if Cgroup2.controllers.isSuperset(of: ["memory", "pids", "cpu"]) {
            XCTAssertGreaterThan((memory["usage"] as? [String: Any])?["usage"] as? Int ?? 0, 0)
            XCTAssertNotNil(memory["raw"] as? [String: Any])
            XCTAssertEqual((data["pids"] as? [String: Any])?["current"] as? Int, 2)
            XCTAssertGreaterThan(usage["total"] as? Int ?? 0, 0)
        }
        XCTAssertEqual(s.skiff(["delete", "--force", "st"]).code, 0)
        XCTAssertEqual(s.skiff(["events", "--stats", "st"]).err, "skiff: container \"st\" does not exist")
        let features = try XCTUnwrap(json(s.skiff(["features"]).stdout))
        XCTAssertEqual(((features["linux"] as? [String: Any])?["cgroup"] as? [String: Any])?["v2"] as? Bool, true)
        s.assertNothingLeftBehind()
    }

    // MARK: errors

    /// A controller the hierarchy does not have: one line naming it and the hierarchy,
    /// nothing left behind; a container that asks for no controller still runs.
    func testUnavailableControllerIsOneClearLine() throws {
        guard let mount = Cgroup2.mount else { throw XCTSkip("no cgroup2 hierarchy") }
        let have = Cgroup2.controllers
        guard !have.contains("memory") else {
            throw XCTSkip("the cgroup v2 hierarchy has the memory controller: this test is for hybrid hosts")
        }
        try Env.requireIntegration()
        let s = try Sandbox()
        let available = have.isEmpty ? "none" : have.sorted().joined(separator: " ")
        for (name, resources, field) in [
            ("m", ["memory": ["limit": 4 << 20]], "linux.resources.memory.limit"),
            ("u", ["unified": ["memory.high": "1G"]], "linux.resources.unified[\"memory.high\"]"),
        ] as [(String, [String: Any], String)] {
            let r = s.skiff(["run", "-b", try bundle(s, name, args: ["true"], resources: resources), name])
            XCTAssertEqual(r.code, 1)
            XCTAssertEqual(
                r.err,
                "skiff: \(field): the memory controller is not available in the cgroup v2 hierarchy at \(mount) "
                    + "(available: \(available))"
            )
        }
        let pids = s.skiff([
            "create", "-b", try bundle(s, "p", args: ["true"], resources: ["pids": ["limit": 10]]), "p",
        ])
        XCTAssertTrue(pids.err.contains("the pids controller is not available"), pids.err)
        // No resources: still runs.
        XCTAssertEqual(s.skiff(["run", "-b", try s.bundle("ok", args: ["true"]), "ok"]).code, 0)
        s.assertNothingLeftBehind()
    }
}
