// Commands that need no container: spec, features, --version, --help.
import Foundation
import XCTest

final class CLITests: XCTestCase {
    func testSpecWritesRuncLikeDefault() throws {
        guard FileManager.default.isExecutableFile(atPath: Env.skiff) else {
            throw XCTSkip("no skiff binary at \(Env.skiff)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(runProgram(Env.skiff, ["spec", "--bundle", dir.path]).code, 0)
        let text = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("{\n\t\"ociVersion\": \"1.0.2-dev\","), text)
        let c = try XCTUnwrap(json(text))
        let p = try XCTUnwrap(c["process"] as? [String: Any])
        XCTAssertEqual(p["args"] as? [String], ["sh"])
        XCTAssertEqual(p["terminal"] as? Bool, true)
        let caps = try XCTUnwrap(p["capabilities"] as? [String: Any])
        XCTAssertNil(caps["inheritable"])
        let again = runProgram(Env.skiff, ["spec", "--bundle", dir.path])
        XCTAssertEqual(again.code, 1)
        XCTAssertEqual(again.err, "skiff: \(dir.path)/config.json exists. Remove it first")
    }

    func testFeaturesAndVersion() throws {
        guard FileManager.default.isExecutableFile(atPath: Env.skiff) else {
            throw XCTSkip("no skiff binary at \(Env.skiff)")
        }
        let f = try XCTUnwrap(json(runProgram(Env.skiff, ["features"]).stdout))
        XCTAssertEqual(f["ociVersionMin"] as? String, "1.0.0")
        let linux = try XCTUnwrap(f["linux"] as? [String: Any])
        XCTAssertEqual(
            Set(linux["namespaces"] as? [String] ?? []), ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"])
        XCTAssertTrue((f["mountOptions"] as? [String] ?? []).contains("rbind"))
        XCTAssertEqual(
            f["hooks"] as? [String],
            ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
        let v = runProgram(Env.skiff, ["--version"])
        XCTAssertTrue(v.out.hasPrefix("skiff version "), v.out)
        XCTAssertTrue(v.out.contains("\nspec: 1.2."))
        XCTAssertEqual(runProgram(Env.skiff, ["--help"]).code, 0)
    }

    func testJSONLogFormat() throws {
        guard FileManager.default.isExecutableFile(atPath: Env.skiff) else {
            throw XCTSkip("no skiff binary at \(Env.skiff)")
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-log-\(UUID().uuidString)").path
        defer { unlink(log) }
        let r = runProgram(
            Env.skiff, ["--root", "/tmp/skiff-none-\(getpid())", "--log", log, "--log-format", "json", "state", "nope"])
        XCTAssertEqual(r.code, 1)
        let line = try XCTUnwrap(
            json(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""))
        XCTAssertEqual(line["level"] as? String, "error")
        XCTAssertEqual(line["msg"] as? String, "container \"nope\" does not exist")
        XCTAssertNotNil(line["time"] as? String)
    }
}
