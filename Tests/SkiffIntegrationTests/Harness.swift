// Test harness for the root-only integration tests: runs the real `skiff` binary on
// real bundles over the Alpine fixture, and checks that nothing is left behind.
import Foundation
import XCTest

/// The repository root (this file is Tests/SkiffIntegrationTests/Harness.swift).
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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
        if getuid() != 0 { reason = "integration tests need root (they create namespaces and mounts)" }
        else if !FileManager.default.isExecutableFile(atPath: skiff) { reason = "no skiff binary at \(skiff) (run swift build first)" }
        else if rootfs == nil { reason = "the Alpine fixture could not be prepared (rootfs-fixtures/alpine failed)" }
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
func runProgram(_ program: String, _ args: [String], stdin: String? = nil, env: [String: String]? = nil) -> Result {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-out-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
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
    return Result(code: code,
                  stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                  stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// One test's world: a private state root and bundles that use the shared rootfs.
final class Sandbox {
    let dir: URL
    let stateRoot: String
    private let before: LeakSnapshot

    init() throws {
        try Env.requireIntegration()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stateRoot = dir.appendingPathComponent("state").path
        before = LeakSnapshot.take()
    }

    /// skiff --root <private root> ARGS
    @discardableResult
    func skiff(_ args: [String], stdin: String? = nil) -> Result {
        runProgram(Env.skiff, ["--root", stateRoot] + args, stdin: stdin)
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
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: url)
        return b.path
    }

    /// Write a raw config.json (for broken-input tests).
    func rawBundle(_ name: String, config: String) throws -> String {
        let b = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
        try config.write(to: b.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        return b.path
    }

    /// Containers still in the state root.
    var stateEntries: [String] { (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? [] }

    /// Assert nothing is left: no container state, no new mount, no new process in a
    /// foreign pid namespace.
    func assertNothingLeftBehind(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(stateEntries, [], "state directories left behind", file: file, line: line)
        let after = LeakSnapshot.take()
        XCTAssertEqual(after.mounts.subtracting(before.mounts), [], "mounts left behind", file: file, line: line)
        // Processes can take a moment to be reaped by the host's init.
        var extra = after.foreignPids.subtracting(before.foreignPids)
        for _ in 0..<50 where !extra.isEmpty {
            usleep(20_000)
            extra = LeakSnapshot.take().foreignPids.subtracting(before.foreignPids)
        }
        let described = extra.sorted().map { pid in
            "\(pid): " + ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "?").replacingOccurrences(of: "\0", with: " ")
        }
        XCTAssertEqual(described, [], "processes left behind", file: file, line: line)
        XCTAssertEqual(Cgroup2.leftovers(stateRoot: stateRoot), [], "cgroups left behind", file: file, line: line)
    }

    deinit {
        // Clean up whatever a failed test left, so one failure does not cascade.
        for id in stateEntries { _ = runProgram(Env.skiff, ["--root", stateRoot, "delete", "--force", id]) }
        try? FileManager.default.removeItem(at: dir)
    }
}

struct LeakSnapshot {
    let mounts: Set<String>
    let foreignPids: Set<Int32>

    static func take() -> LeakSnapshot {
        let info = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        // Mount point and source of every mount (ids change, paths don't).
        let mounts = Set(info.split(separator: "\n").map { line -> String in
            let f = line.split(separator: " ")
            return f.count > 4 ? "\(f[4]) \(f[3])" : String(line)
        })
        let myNs = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        var pids = Set<Int32>()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            // Zombies are dead: they hold nothing but a pid until their parent reaps them
            // (orphans go to this machine's pid 1, which reaps slowly).
            guard let pid = Int32(name),
                  let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let state = stat.split(separator: ")").last?.split(separator: " ").first, state != "Z",
                  let ns = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/ns/pid") else { continue }
            if ns != myNs { pids.insert(pid) }
        }
        return LeakSnapshot(mounts: mounts, foreignPids: pids)
    }
}

/// Parse JSON output into a dictionary.
func json(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
