// Bad input: one clear line, a non-zero exit, and nothing left behind.
import Foundation
import XCTest

final class ErrorTests: XCTestCase {
    func testBrokenConfigJSON() throws {
        let s = try Sandbox()
        let r = s.skiff([
            "run", "-b", try s.rawBundle("x", config: "{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": \"sh\""),
            "x",
        ])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasPrefix("skiff: config.json: invalid JSON at line 1"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1)
        s.assertNothingLeftBehind()
    }

    func testWrongTypeNamesThePath() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            var p = c["process"] as! [String: Any]
            p["args"] = "sh"
            c["process"] = p
        }
        let r = s.skiff(["create", "-b", b, "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: config.json: process.args: expected an array of strings")
        s.assertNothingLeftBehind()
    }

    func testMissingConfig() throws {
        let s = try Sandbox()
        let r = s.skiff(["create", "-b", s.dir.path + "/nothing", "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: \(s.dir.path)/nothing/config.json: No such file or directory")
        s.assertNothingLeftBehind()
    }

    func testMissingRootfs() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { $0["root"] = ["path": "/nonexistent/rootfs"] }
        let r = s.skiff(["run", "-b", b, "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err, "skiff: root.path: rootfs /nonexistent/rootfs is not a directory: No such file or directory")
        s.assertNothingLeftBehind()
    }

    func testMissingExecutable() throws {
        let s = try Sandbox()
        for (args, message) in [
            (["nosuchprogram"], "exec \"nosuchprogram\": executable file not found in $PATH"),
            (["/bin/nope"], "exec \"/bin/nope\": no such file or directory"),
        ] {
            let r = s.skiff(["run", "-b", try s.bundle(args: args), "x"])
            XCTAssertEqual(r.code, 1)
            XCTAssertEqual(r.err, "skiff: \(message)")
            let c = s.skiff(["create", "-b", try s.bundle(args: args), "y"])
            XCTAssertEqual(c.err, "skiff: \(message)")
        }
        s.assertNothingLeftBehind()
    }

    func testBadCwd() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            var p = c["process"] as! [String: Any]
            p["cwd"] = "/etc/passwd"
            c["process"] = p
        }
        let r = s.skiff(["run", "-b", b, "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: process.cwd /etc/passwd: Not a directory")
        s.assertNothingLeftBehind()
    }

    func testMountFailureCleansUp() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/mnt/x", "type": "bind", "source": "/no/such/source", "options": ["bind"]])
            c["mounts"] = mounts
        }
        let r = s.skiff(["run", "-b", b, "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: mounts[7] /mnt/x: source /no/such/source: No such file or directory")
        s.assertNothingLeftBehind()
    }

    func testInvalidNamespaceType() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["true"]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "pidd"]]
            c["linux"] = linux
        }
        let r = s.skiff(["create", "-b", b, "x"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "skiff: config.json: linux.namespaces[2].type: unknown namespace \"pidd\"")
        s.assertNothingLeftBehind()
    }

    func testUnknownCommandAndFlag() throws {
        guard FileManager.default.isExecutableFile(atPath: Env.skiff) else {
            throw XCTSkip("no skiff binary at \(Env.skiff)")
        }
        let command = runProgram(Env.skiff, ["frobnicate"])
        XCTAssertEqual(command.code, 1)
        XCTAssertEqual(command.err, "skiff: unknown command \"frobnicate\" (see skiff --help)")
        let flag = runProgram(Env.skiff, ["create", "--bogus", "x"])
        XCTAssertEqual(flag.code, 1)
        XCTAssertEqual(flag.err, "skiff: flag provided but not defined: -bogus")
    }
}
