// What a container start loads (docs/performance.md): libcrypto is opened only to hash an
// image or a --rootfs tarball, and libseccomp and libcap are linked into skiff, so a `run`
// maps none of the three as a shared library (each start costs page faults, twice per `run`
// with the exe protection's re-exec).
import Foundation
import XCTest

final class StartupTests: XCTestCase {
    func testRunMapsNoCryptoSeccompOrCapLibrary() throws {
        let s = try Sandbox()
        let b = try s.bundle(args: ["/bin/sleep", "2"])
        let run = try Background(Env.skiff, ["--root", s.stateRoot, "run", "--bundle", b, "maps"])
        // Once the container runs, skiff has re-executed itself (exe protection) and waits.
        XCTAssertTrue(waitFor { json(s.skiff(["state", "maps"]).stdout)?["status"] as? String == "running" })
        // (cat: Foundation's String(contentsOfFile:) may stop short on a /proc file.)
        let maps = runProgram("/bin/cat", ["/proc/\(run.process.processIdentifier)/maps"]).stdout
        XCTAssertFalse(maps.isEmpty, "no /proc/PID/maps for skiff run")
        for lib in ["libcrypto.so", "libseccomp.so", "libcap.so"] {
            XCTAssertFalse(maps.contains(lib), "skiff run maps \(lib):\n\(maps)")
        }
        XCTAssertTrue(run.wait(seconds: 20), run.stderr)
        XCTAssertEqual(run.process.terminationStatus, 0, run.stderr)
        s.assertNothingLeftBehind()
    }

    /// With libcrypto unusable (a private mount namespace puts /dev/null over it), a plain
    /// `run` still works, and hashing a tarball fails with one line that names the library.
    func testWithoutLibcryptoRunWorksAndHashingSaysWhy() throws {
        let s = try Sandbox()
        let lib = try XCTUnwrap(
            ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/lib/x86_64-linux-gnu/libcrypto.so.3"]
                .first { FileManager.default.fileExists(atPath: $0) }
                .map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
        func withoutLibcrypto(_ args: [String]) -> Result {
            var env = s.environment
            env["SKIFF_CACHE"] = s.dir.appendingPathComponent("cache").path
            return runProgram(
                "/usr/bin/unshare",
                [
                    "--mount", "--propagation", "private", "/bin/sh", "-c",
                    "mount --bind /dev/null \"$0\" && exec \"$@\"",
                    lib, Env.skiff, "--root", s.stateRoot,
                ] + args, env: env, cwd: s.dir.path)
        }
        let b = try s.bundle(args: ["/bin/true"])
        let plain = withoutLibcrypto(["run", "--bundle", b, "nocrypto"])
        XCTAssertEqual(plain.code, 0, plain.stderr)

        let tarball = s.dir.appendingPathComponent("alpine.tar.gz").path
        XCTAssertEqual(runProgram("/bin/tar", ["-czf", tarball, "-C", Env.rootfs!, "."]).code, 0)
        let hashed = withoutLibcrypto(["run", "--rm", "--rootfs", tarball, "true"])
        XCTAssertNotEqual(hashed.code, 0)
        let lines = hashed.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, hashed.stderr)
        XCTAssertTrue(hashed.stderr.contains("libcrypto.so.3"), hashed.stderr)
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: s.dir.appendingPathComponent("cache").path))
        XCTAssertEqual(cached ?? [], [], "nothing unpacked into the rootfs cache")
        s.assertNothingLeftBehind()
    }
}
