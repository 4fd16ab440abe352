// The seccomp cache (Sources/SkiffRuntime/Security/SeccompCache.swift): a profile is
// compiled once per state root; later containers load the cached program, and that
// program really filters. A cache file that is not root's alone, or not intact, is
// never used: the filter is compiled again and the file replaced.
import Foundation
import XCTest

final class SeccompCacheTests: XCTestCase {
    override func setUpWithError() throws { try Env.requireIntegration() }

    /// Docker's default profile with one more rule in front: mkdir fails with ENOSPC.
    private func bundle(_ s: Sandbox, _ name: String, args: [String]) throws -> String {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("profiles/seccomp-default.json"))
        var profile = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var rules = profile["syscalls"] as! [[String: Any]]
        rules.insert(["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28], at: 0)
        profile["syscalls"] = rules
        return try s.bundle(name, args: args) { c in
            var mounts = c["mounts"] as? [[String: Any]] ?? []
            mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]])
            c["mounts"] = mounts
            var linux = c["linux"] as? [String: Any] ?? [:]
            linux["seccomp"] = profile
            c["linux"] = linux
        }
    }

    private func cacheFiles(_ s: Sandbox) -> [String] {
        let dir = s.stateRoot + "/@seccomp-cache"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }

    private func explainLines(_ r: Result, _ label: String) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix(label + " ") }
    }

    /// Run a container that tries mkdir; the filter must make it fail with ENOSPC.
    private func runFiltered(
        _ s: Sandbox, _ b: String, _ id: String, file: StaticString = #filePath, line: UInt = #line
    )
        -> Result
    {
        let r = s.skiff(["--explain", "run", "-b", b, id])
        XCTAssertEqual(r.code, 0, r.stderr, file: file, line: line)
        XCTAssertEqual(r.out, "mkdir=1", r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr, file: file, line: line)
        return r
    }

    func testTheSecondContainerLoadsTheCachedFilter() throws {
        let s = try Sandbox()
        let b = try bundle(s, "b", args: ["sh", "-c", "mkdir /tmp/d; echo mkdir=$?"])

        let first = runFiltered(s, b, "first")
        XCTAssertEqual(
            explainLines(first, "seccomp cache").map { $0.contains(" miss: ") || $0.contains(" stored: ") },
            [true, true], first.stderr)
        XCTAssertEqual(explainLines(first, "seccomp compile").count, 1, first.stderr)
        let files = cacheFiles(s)
        XCTAssertEqual(files.count, 1)
        let file = try XCTUnwrap(files.first)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o600)
        XCTAssertEqual(attributes[.ownerAccountID] as? Int, 0)
        let stored = try Data(contentsOf: URL(fileURLWithPath: file))

        let second = runFiltered(s, b, "second")
        let hit = explainLines(second, "seccomp cache")
        XCTAssertEqual(hit.count, 1, second.stderr)
        XCTAssertTrue(hit.first?.contains(" hit: \(file) ") == true, second.stderr)
        XCTAssertEqual(explainLines(second, "seccomp compile"), [], "a hit compiles nothing:\n\(second.stderr)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), stored)

        // exec'd processes get the container's filter from the cache too.
        let sleeper = try bundle(s, "sleeper", args: ["sleep", "30"])
        XCTAssertEqual(s.skiff(["run", "-d", "-b", sleeper, "up"]).code, 0)
        let ex = s.skiff(["--explain", "exec", "up", "sh", "-c", "mkdir /tmp/e; echo mkdir=$?"])
        XCTAssertEqual(ex.out, "mkdir=1", ex.stderr)
        XCTAssertTrue(ex.stderr.contains("No space left on device"), ex.stderr)
        XCTAssertEqual(explainLines(ex, "seccomp cache").count, 1, ex.stderr)
        XCTAssertTrue(explainLines(ex, "seccomp cache").first?.contains(" hit: ") == true, ex.stderr)
        XCTAssertEqual(s.skiff(["delete", "-f", "up"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// The cache names and checks its files without a cryptographic hash, so a container
    /// with a seccomp profile never needs libcrypto (loaded only to hash images): with
    /// libcrypto made unusable, a first run (compile, store) and a second (hit) both work and
    /// both filter.
    func testTheCacheWorksWithoutLibcrypto() throws {
        let s = try Sandbox()
        let b = try bundle(s, "b", args: ["sh", "-c", "mkdir /tmp/d; echo mkdir=$?"])
        let lib = try XCTUnwrap(
            ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/lib/x86_64-linux-gnu/libcrypto.so.3"]
                .first { FileManager.default.fileExists(atPath: $0) }
                .map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
        for (id, expected) in [("first", " stored: "), ("second", " hit: ")] {
            let r = runProgram(
                "/usr/bin/unshare",
                [
                    "--mount", "--propagation", "private", "/bin/sh", "-c",
                    "mount --bind /dev/null \"$0\" && exec \"$@\"",
                    lib, Env.skiff, "--root", s.stateRoot, "--explain", "run", "-b", b, id,
                ], env: s.environment, cwd: s.dir.path)
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertEqual(r.out, "mkdir=1", r.stderr)
            XCTAssertTrue(r.stderr.contains("No space left on device"), r.stderr)
            XCTAssertTrue(explainLines(r, "seccomp cache").last?.contains(expected) == true, r.stderr)
        }
        XCTAssertEqual(cacheFiles(s).count, 1)
        s.assertNothingLeftBehind()
    }

    /// A cache file someone else could have written, or that is damaged, is rejected
    /// with a warning; the filter is compiled again (and still enforced), and the file
    /// replaced by a sound one, which the next container uses.
    func testATamperedCacheFileIsRejectedAndReplaced() throws {
        let s = try Sandbox()
        let b = try bundle(s, "b", args: ["sh", "-c", "mkdir /tmp/d; echo mkdir=$?"])
        _ = runFiltered(s, b, "fill")
        let file = try XCTUnwrap(cacheFiles(s).first)
        let sound = try Data(contentsOf: URL(fileURLWithPath: file))

        let tamperings: [(String, () throws -> Void, String)] = [
            ("group/world-writable", { XCTAssertEqual(chmod(file, 0o666), 0) }, "writable by group or others"),
            ("owned by a user", { XCTAssertEqual(chown(file, 1000, 1000), 0) }, "owned by uid 1000"),
            (
                "one instruction changed",
                {
                    var bytes = [UInt8](sound)
                    bytes[bytes.count - 4] ^= 0x01 // the last instruction's k: its errno or action
                    try Data(bytes).write(to: URL(fileURLWithPath: file))
                    XCTAssertEqual(chmod(file, 0o600), 0)
                }, "do not match their checksum"
            ),
            (
                "truncated",
                {
                    try sound.prefix(sound.count - 8).write(to: URL(fileURLWithPath: file))
                    XCTAssertEqual(chmod(file, 0o600), 0)
                }, "bytes, expected"
            ),
        ]
        for (i, (what, tamper, reason)) in tamperings.enumerated() {
            try tamper()
            let r = runFiltered(s, b, "t\(i)")
            XCTAssertTrue(r.stderr.contains("seccomp cache: \(file): "), "\(what): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(reason), "\(what): \(r.stderr)")
            XCTAssertTrue(
                explainLines(r, "seccomp cache").first?.contains(" rejected: ") == true, "\(what): \(r.stderr)")
            XCTAssertEqual(explainLines(r, "seccomp compile").count, 1, "\(what): \(r.stderr)")
            // Replaced by a sound file: root's, 0600, the same program as at first.
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o600, what)
            XCTAssertEqual(attributes[.ownerAccountID] as? Int, 0, what)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), sound, what)
            let next = runFiltered(s, b, "n\(i)")
            XCTAssertTrue(
                explainLines(next, "seccomp cache").first?.contains(" hit: ") == true, "\(what): \(next.stderr)")
        }

        // A cache directory others may write to is not used at all (nor written to).
        XCTAssertEqual(chmod(s.stateRoot + "/@seccomp-cache", 0o777), 0)
        let open = runFiltered(s, b, "dir")
        XCTAssertTrue(open.stderr.contains("the directory is writable by group or others"), open.stderr)
        XCTAssertEqual(explainLines(open, "seccomp compile").count, 1, open.stderr)
        XCTAssertFalse(open.stderr.contains("seccomp cache     stored"), open.stderr)
        XCTAssertEqual(chmod(s.stateRoot + "/@seccomp-cache", 0o700), 0)
        s.assertNothingLeftBehind()
    }
}
