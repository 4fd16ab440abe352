// SHA-256 (libcrypto, loaded with dlopen at the first digest) and the substring search that
// replaces _StringProcessing's (Support/Text.swift).
import Glibc
import XCTest

@testable import SkiffRuntime

final class SupportTests: XCTestCase {
    // readAll sizes its buffer from fstat: a file larger than the size hint, a small one,
    // an empty one and a procfs file (which reports size 0) all come back whole.
    func testReadAllWholeFilesWhateverTheirSize() throws {
        let path = "/tmp/skiff-readall-\(getpid())"
        defer { unlink(path) }
        for count in [0, 1, 1_234, 65_536, 200_001] {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try writeFileAtomic(path, String(decoding: bytes.map { $0 & 0x7f }, as: UTF8.self))
            XCTAssertEqual(readFile(path), bytes.map { $0 & 0x7f }, "\(count) bytes")
        }
        let status = try XCTUnwrap(readText("/proc/self/status"))
        XCTAssertTrue(status.hasPrefix("Name:"))
        XCTAssertTrue(status.hasSuffix("\n"))
    }

    // tryOpen reports the errno instead of throwing; openIfExists is nil only for what is
    // not there, and open's error still names the path and the reason.
    func testRootDirOpenWithoutErrors() throws {
        let dir = "/tmp/skiff-rootdir-\(getpid())"
        mkdir(dir, 0o755)
        mkdir(dir + "/d", 0o755)
        defer {
            rmdir(dir + "/d")
            rmdir(dir)
        }
        let root = try RootDir(path: dir)
        defer { root.close() }
        XCTAssertEqual(root.tryOpen("/missing"), -ENOENT)
        XCTAssertNil(try root.openIfExists("/missing"))
        XCTAssertNil(try root.openIfExists("/missing/below"))
        let fd = try XCTUnwrap(try root.openIfExists("/d"))
        close(fd)
        XCTAssertTrue(root.exists("/d"))
        XCTAssertFalse(root.exists("/e"))
        XCTAssertThrowsError(try root.open("/missing")) {
            let e = $0 as? SkiffError
            XCTAssertEqual(e?.code, ENOENT)
            XCTAssertEqual(e?.message, "open /missing in rootfs \(dir): No such file or directory")
        }
        let made = try root.mkdirAll("/d/e/f")
        close(made)
        XCTAssertTrue(root.exists("/d/e/f"))
        rmdir(dir + "/d/e/f")
        rmdir(dir + "/d/e")
    }

    // FIPS 180-2's test vectors.
    func testSHA256KnownDigests() throws {
        XCTAssertEqual(
            try SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            try SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    // A layer is hashed chunk by chunk as it streams: the chunks must add up to one digest.
    func testSHA256InChunksEqualsOneShot() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sha = try SHA256()
        for start in stride(from: 0, to: bytes.count, by: 7_777) {
            sha.update(Array(bytes[start..<min(start + 7_777, bytes.count)]))
        }
        XCTAssertEqual(sha.hexDigest(), try SHA256.hex(bytes))
    }

    func testSHA256OfFile() throws {
        let path = "/tmp/skiff-sha-\(getpid())"
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { unlink(path) }
        XCTAssertEqual(write(fd, "abc", 3), 3)
        close(fd)
        XCTAssertEqual(
            try SHA256.file(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertNil(try SHA256.file(path + ".missing"))
    }

    func testIncludesAndFind() {
        XCTAssertTrue("a name.rsvd.current".includes(".rsvd."))
        XCTAssertFalse("hugetlb.2MB.current".includes(".rsvd."))
        XCTAssertTrue("Seccomp:\t2".includes("Seccomp:"))
        XCTAssertTrue("abc".includes(""))
        XCTAssertFalse("".includes("a"))
        XCTAssertFalse("ab".includes("abc"))
        XCTAssertTrue("ééa→b".includes("a→b")) // non-ASCII: whole scalars, byte-wise
        XCTAssertTrue("xaab".includes("aab")) // a partial match first, then the real one

        let line = "-A CNI-FORWARD -s 10.88.0.2/32 -j CNI-abc123 -m comment"
        let r = line.find(" -j CNI-")
        XCTAssertNotNil(r)
        XCTAssertEqual(r.map { String(line[$0.upperBound...].prefix { $0 != " " }) }, "abc123")
        XCTAssertNil(line.find(" -j DROP"))
        // On a Substring too (Inspect's components(separatedBy:) walks one).
        let rest = line.dropFirst(3)
        XCTAssertEqual(rest.find("CNI-").map { String(rest[..<$0.lowerBound]) }, "")
    }
}
