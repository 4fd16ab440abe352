// Issue 12: named volumes (`-v NAME:/path`, `skiff volume ls|create|rm|inspect`).
import Foundation
import XCTest

final class VolumeTests: XCTestCase {
    func testTwoContainersShareANamedVolume() throws {
        let s = try Sandbox()
        let alpine = Env.rootfs!
        // Made on first use.
        let first = s.skiff([
            "run", "-d", "--rootfs", alpine, "--name", "v1", "-v", "shared:/data", "sh", "-c",
            "echo from-v1 > /data/one; exec sleep 1000",
        ])
        XCTAssertEqual(first.code, 0, first.stderr)
        XCTAssertTrue(waitFor { FileManager.default.fileExists(atPath: s.dataRoot + "/volumes/shared/one") })
        // A second container reads it and writes back; the first sees that write.
        let second = s.skiff([
            "run", "--rm", "--rootfs", alpine, "-v", "shared:/vol", "sh", "-c", "cat /vol/one; echo from-v2 > /vol/two",
        ])
        XCTAssertEqual(second.code, 0, second.stderr)
        XCTAssertEqual(second.out, "from-v1")
        XCTAssertEqual(s.skiff(["exec", "v1", "cat", "/data/two"]).out, "from-v2")
        // Read-only use.
        XCTAssertEqual(
            s.skiff([
                "run", "--rm", "--rootfs", alpine, "-v", "shared:/ro:ro", "sh", "-c",
                "touch /ro/x 2>/dev/null || echo refused",
            ]).out, "refused")

        XCTAssertEqual(s.skiff(["volume", "ls"]).stdout, "DRIVER      VOLUME NAME\nlocal       shared\n")
        let doc = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(s.skiff(["volume", "inspect", "shared"]).stdout.utf8))
                as? [[String: Any]])
        XCTAssertEqual(doc.first?["Name"] as? String, "shared")
        XCTAssertEqual(doc.first?["Mountpoint"] as? String, s.dataRoot + "/volumes/shared")
        // In use (even by a stopped container): refused, the files stay.
        XCTAssertEqual(s.skiff(["stop", "-t", "0", "v1"]).code, 0)
        XCTAssertEqual(
            s.skiff(["volume", "rm", "shared"]).err,
            "skiff: volume \"shared\" is in use by container v1 (delete it first)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.dataRoot + "/volumes/shared/two"))
        // The volume outlives the container; rm removes it once nobody uses it.
        XCTAssertEqual(s.skiff(["delete", "v1"]).code, 0)
        XCTAssertEqual(s.skiff(["run", "--rm", "--rootfs", alpine, "-v", "shared:/d", "cat", "/d/two"]).out, "from-v2")
        let rm = s.skiff(["volume", "rm", "shared"])
        XCTAssertEqual(rm.code, 0, rm.stderr)
        XCTAssertEqual(rm.out, "shared")
        XCTAssertEqual(s.skiff(["volume", "ls", "-q"]).out, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.dataRoot + "/volumes/shared"))
        s.assertNothingLeftBehind()
    }

    func testVolumeCreateAndBadNames() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["volume", "create", "named"]).out, "named")
        XCTAssertEqual(s.skiff(["volume", "create", "named"]).out, "named") // already there: fine, as docker
        let anonymous = s.skiff(["volume", "create"]).out
        XCTAssertNotNil(anonymous.range(of: "^[0-9a-f]{16}$", options: .regularExpression), anonymous)
        XCTAssertEqual(
            Set(s.skiff(["volume", "ls", "-q"]).out.split(separator: "\n").map(String.init)), ["named", anonymous])
        let before = try FileManager.default.contentsOfDirectory(atPath: s.dataRoot + "/volumes").sorted()
        let bad = "invalid volume name \"a/..\": use letters, digits, '_', '.' and '-', starting with a letter or digit"
        XCTAssertEqual(s.skiff(["volume", "create", "a/.."]).err, "skiff: " + bad)
        XCTAssertEqual(s.skiff(["volume", "rm", "a/.."]).err, "skiff: " + bad)
        XCTAssertEqual(
            s.skiff(["volume", "inspect", "../x"]).err,
            "skiff: invalid volume name \"../x\": use letters, digits, '_', '.' and '-', starting with a letter "
                + "or digit"
        )
        XCTAssertEqual(s.skiff(["volume", "rm", "absent"]).err, "skiff: volume \"absent\" does not exist")
        let run = s.skiff(["run", "--rm", "--rootfs", Env.rootfs!, "-v", "a/..:/data", "true"])
        XCTAssertEqual(run.code, 1)
        XCTAssertEqual(run.err, "skiff: --volume a/..:/data: " + bad)
        XCTAssertEqual(
            s.skiff(["run", "--rm", "--rootfs", Env.rootfs!, "-v", "fresh:/data", "--network", "bogus", "true"]).err,
            "skiff: network \"bogus\" not found (create it with: skiff network create bogus)")
        XCTAssertEqual(
            s.skiff(["volume", "frob"]).err, "skiff: volume: unknown subcommand \"frob\" (ls, create, rm or inspect)")
        // Nothing was made by the refused commands (not even "fresh").
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.dataRoot + "/volumes").sorted(), before)
        XCTAssertEqual(s.skiff(["volume", "rm", "named", anonymous]).code, 0)
        // --data-root sets the data root for one command, as SKIFF_DATA does.
        let other = s.dir.appendingPathComponent("other-data").path
        XCTAssertEqual(s.skiff(["--data-root", other, "volume", "create", "elsewhere"]).out, "elsewhere")
        XCTAssertTrue(FileManager.default.fileExists(atPath: other + "/volumes/elsewhere"))
        XCTAssertEqual(s.skiff(["volume", "ls", "-q"]).out, "")
        s.assertNothingLeftBehind()
    }
}
