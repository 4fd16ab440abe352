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

/// The release binary's text starts with the functions a lifecycle runs, in the order of
/// Sources/skiff/hot-functions.order (Package.swift, scripts/hot-order): the kernel maps text
/// 64 KiB around each fault, so how many 64 KiB windows hold a hot function is what a `run`
/// maps (docs/performance.md). scripts/bench measures the memory; this checks the link.
final class LinkOrderTests: XCTestCase {
    func testHotFunctionsArePackedAtTheStartOfText() throws {
        let elf = runProgram("/usr/bin/readelf", ["-lsW", Env.skiff])
        XCTAssertEqual(elf.code, 0, elf.stderr)
        if elf.stdout.contains("INTERP") {
            throw XCTSkip("\(Env.skiff) is a debug build, linked without the order: the release suite runs this")
        }
        var address: [Substring: UInt64] = [:]
        for line in elf.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count >= 8, f[3] == "FUNC", let a = UInt64(f[1], radix: 16), a != 0, address[f[7]] == nil {
                address[f[7]] = a
            }
        }
        let order = try String(
            contentsOf: repoRoot.appendingPathComponent("Sources/skiff/hot-functions.order"), encoding: .utf8
        ).split(separator: "\n")
        let hot = order.compactMap { address[$0] }
        // Names the code no longer has are ignored by the linker; too many of them and the
        // file has gone stale: run scripts/hot-order.
        XCTAssertGreaterThan(order.count, 1000)
        XCTAssertGreaterThanOrEqual(
            Double(hot.count), 0.9 * Double(order.count), "hot-functions.order is stale: run scripts/hot-order")
        let windows = Set(hot.map { $0 >> 16 }).count
        let all = address.values
        let textWindows = Int((all.max()! - all.min()!) >> 16) + 1
        // Packed, the hot functions sit in ~55 % of the windows (the Swift standard library's
        // 1.6 MB of non-generic code is one section, moved whole); unordered, in ~90 %.
        XCTAssertLessThan(
            Double(windows), 0.7 * Double(textWindows),
            "hot functions in \(windows) of \(textWindows) 64 KiB windows: the order was not applied")
    }
}
