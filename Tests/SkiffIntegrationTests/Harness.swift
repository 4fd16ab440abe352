// Test harness for the root-only integration tests: runs the real `skiff` binary on
// real bundles over the Alpine fixture, and checks that nothing is left behind.
import Foundation
import XCTest

/// The repository root (this file is Tests/SkiffIntegrationTests/Harness.swift).
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

struct Result {
    let code: Int32
    let stdout: String
    let stderr: String
    var out: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    var err: String { stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
}

enum Env {
    /// The skiff binary under test: $SKIFF_BIN, else the debug build.
    static var skiff: String {
        ProcessInfo.processInfo.environment["SKIFF_BIN"] ?? repoRoot.appendingPathComponent(".build/debug/skiff").path
    }

    /// Integration tests need root and the Alpine fixture. When they can't run they skip
    /// with the reason, unless SKIFF_REQUIRE_INTEGRATION=1 (CI), where that is a failure.
    static func requireIntegration(file: StaticString = #filePath, line: UInt = #line) throws {
        // Quick-run's default network is a bridge with NAT (CNI): tests that want one say
        // --network; the others keep the host's network untouched (and fast) with none.
        setenv("SKIFF_DEFAULT_NETWORK", "none", 0)
        var reason: String?
        if getuid() != 0 {
            reason = "integration tests need root (they create namespaces and mounts)"
        } else if !FileManager.default.isExecutableFile(atPath: skiff) {
            reason =
                "no skiff binary at \(skiff) (run "
                + "swift build first)"
        } else if rootfs == nil {
            reason = "the Alpine fixture could not be prepared (rootfs-fixtures/alpine failed)"
        }
        guard let reason else { return }
        if ProcessInfo.processInfo.environment["SKIFF_REQUIRE_INTEGRATION"] == "1" {
            XCTFail("required integration test cannot run: \(reason)", file: file, line: line)
            throw XCTSkip(reason)
        }
        throw XCTSkip(reason)
    }

    /// The unpacked Alpine rootfs, prepared once per test run by the fixture script.
    static let rootfs: String? = {
        if let path = ProcessInfo.processInfo.environment["SKIFF_TEST_ROOTFS"] { return path }
        let r = runProgram(repoRoot.appendingPathComponent("rootfs-fixtures/alpine").path, [])
        return r.code == 0 && !r.out.isEmpty ? r.out : nil
    }()
}

/// Run a program to completion. Output goes through files, not pipes: a detached
/// container inherits skiff's stdout, and a pipe would stay open as long as it runs.
@discardableResult
func runProgram(
    _ program: String, _ args: [String], stdin: String? = nil, env: [String: String]? = nil,
    cwd: String? = nil
) -> Result {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-out-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("out")
    let errURL = dir.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    if var env {
        // (See requireIntegration: a test's own environment keeps none too, unless it
        // sets the variable, "" meaning skiff's real default.)
        if env["SKIFF_DEFAULT_NETWORK"] == nil { env["SKIFF_DEFAULT_NETWORK"] = "none" }
        p.environment = env
    }
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    p.standardOutput = try! FileHandle(forWritingTo: outURL)
    p.standardError = try! FileHandle(forWritingTo: errURL)
    if let stdin {
        let pipe = Pipe()
        p.standardInput = pipe
        try! p.run()
        pipe.fileHandleForWriting.write(stdin.data(using: .utf8)!)
        try? pipe.fileHandleForWriting.close()
    } else {
        p.standardInput = FileHandle.nullDevice
        try! p.run()
    }
    p.waitUntilExit()
    let code = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return Result(
        code: code,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// One test's world: a private state root and bundles that use the shared rootfs.
final class Sandbox {
    let dir: URL
    let stateRoot: String
    /// The data root (SKIFF_DATA): writable layers, logs, volumes of this test's containers.
    let dataRoot: String
    private let before: LeakSnapshot
    private let interfacesBefore: Set<String>
    /// linux.cgroupsPath of every bundle this sandbox wrote (the leak check looks there too).
    private var cgroupsPaths: [String] = []

    init() throws {
        try Env.requireIntegration()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stateRoot = dir.appendingPathComponent("state").path
        dataRoot = dir.appendingPathComponent("data").path
        before = LeakSnapshot.take()
        interfacesBefore = LeakSnapshot.hostInterfaces()
    }

    /// skiff --root <private root> ARGS. skiff runs in the sandbox directory, so whatever it
    /// starts on the host (hooks, the --rm watcher) can be traced back to this test by its
    /// working directory even after it has been orphaned (see `assertNothingLeftBehind`).
    @discardableResult
    func skiff(_ args: [String], stdin: String? = nil) -> Result {
        runProgram(Env.skiff, ["--root", stateRoot] + args, stdin: stdin, env: environment, cwd: dir.path)
    }

    /// This process's environment with SKIFF_DATA pointing into the sandbox.
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SKIFF_DATA"] = dataRoot
        return env
    }

    /// A bundle whose config is `skiff spec`'s default, adjusted for tests (no terminal,
    /// the shared read-only rootfs), then changed by `edit`.
    func bundle(_ name: String = "b", args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let b = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: b.appendingPathComponent("config.json"))
        let r = runProgram(Env.skiff, ["spec", "--bundle", b.path])
        XCTAssertEqual(r.code, 0, "skiff spec: \(r.stderr)")
        let url = b.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config["root"] = ["path": Env.rootfs!, "readonly": true]
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        process["args"] = args
        config["process"] = process
        edit(&config)
        noteCgroupsPath(config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: url)
        return b.path
    }

    /// Write a raw config.json (for broken-input tests).
    func rawBundle(_ name: String, config: String) throws -> String {
        let b = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
        try config.write(to: b.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        if let parsed = json(config) { noteCgroupsPath(parsed) }
        return b.path
    }

    private func noteCgroupsPath(_ config: [String: Any]) {
        if let path = (config["linux"] as? [String: Any])?["cgroupsPath"] as? String, !path.isEmpty {
            cgroupsPaths.append(path)
        }
    }

    /// Containers still in the state root (not the seccomp cache: compiled filters).
    var stateEntries: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []).filter { $0 != "@seccomp-cache" }
    }

    /// Assert nothing is left:
    /// - no container state;
    /// - no new mount in this mount namespace (compared by mount id, so a mount stacked on a
    ///   path that was already mounted counts);
    /// - no new live process that is this test's: in a foreign pid namespace (a container's),
    ///   or on the host and traceable to this sandbox (its working directory, root, binary,
    ///   command line, environment or an open file is in the sandbox directory: hooks and
    ///   the --rm watcher inherit skiff's working directory), or a descendant of this test
    ///   process or of such a process;
    /// - no cgroup at the sandbox's default path (/skiff/TAG-ID) or at a linux.cgroupsPath
    ///   one of its bundles asked for.
    func assertNothingLeftBehind(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(stateEntries, [], "state directories left behind", file: file, line: line)
        let data = (try? FileManager.default.contentsOfDirectory(atPath: dataRoot + "/containers")) ?? []
        XCTAssertEqual(data, [], "container data directories left behind", file: file, line: line)
        let after = LeakSnapshot.take()
        let mounts = after.mounts.filter { before.mounts[$0.key] == nil }.map { "\($0.key): \($0.value)" }.sorted()
        XCTAssertEqual(mounts, [], "mounts left behind", file: file, line: line)
        // Processes can take a moment to be reaped (by this machine's init, under load).
        var extra = leftoverProcesses(after)
        for _ in 0..<100 where !extra.isEmpty {
            usleep(20_000)
            extra = leftoverProcesses(LeakSnapshot.take())
        }
        XCTAssertEqual(extra, [], "processes left behind", file: file, line: line)
        XCTAssertEqual(leftoverCgroups(), [], "cgroups left behind", file: file, line: line)
        // A container's host-side veth (CNI's bridge plugin names them veth*) goes with it,
        // and a skiff bridge with its last container.
        let links = LeakSnapshot.hostInterfaces().subtracting(interfacesBefore)
        XCTAssertEqual(links.sorted(), [], "veth or bridge interfaces left behind", file: file, line: line)
    }

    /// The new live processes of `now` that belong to this test, described.
    private func leftoverProcesses(_ now: LeakSnapshot) -> [String] {
        let me = getpid()
        let new = now.processes.filter { before.processes[$0.key] == nil && $0.value.pid != me }
        let byPid = Dictionary(new.values.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        var ours = Set(new.values.filter { $0.foreignPidNamespace || refersToSandbox($0.pid) }.map(\.pid))
        // Descendants of this test process or of one of ours (ppid chains through new processes).
        func isOurs(_ pid: Int32, depth: Int = 0) -> Bool {
            guard depth < 64, let p = byPid[pid] else { return false }
            if ours.contains(pid) || p.ppid == me { return true }
            return isOurs(p.ppid, depth: depth + 1)
        }
        ours.formUnion(new.values.map(\.pid).filter { isOurs($0) })
        return ours.sorted().compactMap { byPid[$0].map { "\($0.pid) (parent \($0.ppid)): \($0.cmdline)" } }
    }

    /// Does this process use something in the sandbox directory?
    private func refersToSandbox(_ pid: Int32) -> Bool {
        let root = dir.resolvingSymlinksInPath().path
        func inside(_ path: String?) -> Bool { path.map { $0 == root || $0.hasPrefix(root + "/") } ?? false }
        func link(_ name: String) -> String? {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/\(name)")
        }
        if inside(link("cwd")) || inside(link("root")) || inside(link("exe")) { return true }
        for name in ["cmdline", "environ"] {
            if let data = FileManager.default.contents(atPath: "/proc/\(pid)/\(name)"),
                String(decoding: data, as: UTF8.self).contains(root)
            {
                return true
            }
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return fds.contains { inside(link("fd/" + $0)) }
    }

    /// Cgroups of this sandbox's containers still there.
    private func leftoverCgroups() -> [String] {
        guard let mount = Cgroup2.mount else { return [] }
        var left = Cgroup2.leftovers(stateRoot: stateRoot)
        // A relative cgroupsPath is under the parent of skiff's own cgroup (this process's).
        let own = Cgroup2.cgroup(of: Int(getpid())) ?? "/"
        let base = own == "/" ? "" : (own as NSString).deletingLastPathComponent
        for path in cgroupsPaths {
            let full = path.hasPrefix("/") ? path : (base == "/" ? "" : base) + "/" + path
            if FileManager.default.fileExists(atPath: mount + full) { left.append(full) }
        }
        return left
    }

    deinit {
        // Clean up whatever a failed test left, so one failure does not cascade.
        for id in stateEntries {
            _ = runProgram(Env.skiff, ["--root", stateRoot, "delete", "--force", id], env: environment, cwd: dir.path)
        }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// What a test could leave behind, seen from this process at one moment.
extension LeakSnapshot {
    /// The host's veth interfaces and skiff's bridges (/sys/class/net/veth*, skiff*, sk-*).
    static func hostInterfaces() -> Set<String> {
        Set(
            ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []).filter {
                $0.hasPrefix("veth") || $0.hasPrefix("skiff") || $0.hasPrefix("sk-")
            })
    }
}

struct LeakSnapshot {
    struct Proc {
        let pid: Int32
        let ppid: Int32
        let foreignPidNamespace: Bool
        let cmdline: String
    }

    /// This mount namespace's mounts by mount id: "MOUNT POINT (root ROOT, FSTYPE SOURCE)".
    let mounts: [String: String]
    /// Live processes (zombies hold nothing but a pid), keyed by "PID STARTTIME" so that a
    /// reused pid is a different process.
    let processes: [String: Proc]

    static func take() -> LeakSnapshot {
        let info = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw"
        var mounts: [String: String] = [:]
        for line in info.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count > 4 else { continue }
            let tail =
                line.components(separatedBy: " - ").last?.split(separator: " ").prefix(2).joined(separator: " ") ?? ""
            mounts[String(f[0])] = "\(f[4]) (root \(f[3]), \(tail))"
        }
        let myNs = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        var processes: [String: Proc] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name),
                let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "(comm)": state, ppid, ..., starttime (field 22 of the whole line).
            let f = stat[stat.index(after: close)...].split(separator: " ")
            guard f.count > 19, f[0] != "Z", let ppid = Int32(f[1]),
                let ns = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/ns/pid")
            else { continue }
            let cmdline =
                FileManager.default.contents(atPath: "/proc/\(name)/cmdline")
                .map { String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "\0", with: " ") } ?? "?"
            processes["\(pid) \(f[19])"] = Proc(pid: pid, ppid: ppid, foreignPidNamespace: ns != myNs, cmdline: cmdline)
        }
        return LeakSnapshot(mounts: mounts, processes: processes)
    }
}

/// Parse JSON output into a dictionary.
func json(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
