// The container summary `list` reads instead of the whole record (Lifecycle/State.swift),
// and the seccomp cache's file format (Security/SeccompCache.swift, SeccompProgram.swift).
import Glibc
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class ContainerSummaryTests: XCTestCase {
    func testSummaryHoldsWhatTheRecordHolds() throws {
        var spec = Spec.runcDefault()
        spec.process?.args = ["sh", "-c", "echo \"hi\""]
        spec.annotations = ["a": "b"]
        let record = ContainerRecord(
            ociVersion: "1.0.2", id: "c1", pid: 42, bundle: "/b", rootfs: "/b/rootfs", created: "2026-01-01T00:00:00Z",
            owner: "", annotations: spec.annotations, initStartTime: 123_456, cgroupPath: "/skiff/c1", config: spec,
            overlay: nil, deviceCgroupV1: nil)
        let bytes = Array(JSONCodec.encode(record).utf8)
        let summary = try JSONCodec.decode(
            ContainerSummary.self, from: JSON.parse(bytes, keeping: ContainerSummary.projection))
        XCTAssertEqual(summary.ociVersion, record.ociVersion)
        XCTAssertEqual(summary.id, record.id)
        XCTAssertEqual(summary.pid, record.pid)
        XCTAssertEqual(summary.bundle, record.bundle)
        XCTAssertEqual(summary.rootfs, record.rootfs)
        XCTAssertEqual(summary.created, record.created)
        XCTAssertEqual(summary.owner, record.owner)
        XCTAssertEqual(summary.annotations, record.annotations)
        XCTAssertEqual(summary.initStartTime, record.initStartTime)
        XCTAssertEqual(summary.cgroupPath, record.cgroupPath)
        XCTAssertEqual(summary.args, ["sh", "-c", "echo \"hi\""])
    }
}

final class SeccompCacheFileTests: XCTestCase {
    let profile = LinuxSeccomp(
        defaultAction: .allow, flags: [.log],
        syscalls: [
            LinuxSyscall(names: ["mkdir", "mkdirat"], action: .errno, errnoRet: 28),
            LinuxSyscall(names: ["rmdir"], action: .notify),
        ])

    func compiled() throws -> SeccompProgram {
        let filter = try SeccompFilter(profile)
        defer { filter.release() }
        return try filter.program(flags: profile.flags)
    }

    func testTheProgramIsLibseccompsBPF() throws {
        let program = try compiled()
        XCTAssertEqual(program.instructions.count % 8, 0)
        XCTAssertGreaterThan(program.instructionCount, 4)
        XCTAssertEqual(program.ruleCount, 3)
        XCTAssertTrue(program.usesNotify)
        XCTAssertEqual(program.flags, SeccompProgram.flagLog)
        // The first instruction loads seccomp_data.arch (BPF_LD|BPF_W|BPF_ABS, offset 4).
        XCTAssertEqual(Array(program.instructions[0..<2]), [0x20, 0x00])
        XCTAssertEqual(Array(program.instructions[4..<8]), [4, 0, 0, 0])
    }

    func testKeyDependsOnTheFilterNotOnWhereTheListenerGoes() {
        let cache = SeccompCache(stateRoot: "/nonexistent")
        var withListener = profile
        withListener.listenerPath = "/run/agent.sock"
        withListener.listenerMetadata = "x"
        var other = profile
        other.syscalls?[0].errnoRet = 1
        XCTAssertEqual(cache.key(for: profile), cache.key(for: withListener))
        XCTAssertNotEqual(cache.key(for: profile), cache.key(for: other))
        XCTAssertEqual(SeccompCache.fileName(cache.key(for: profile)).count, 16 + ".bpf".count)
        XCTAssertNotEqual(
            SeccompCache.fileName(cache.key(for: profile)), SeccompCache.fileName(cache.key(for: other)))
    }

    func testFileRoundTripAndRejections() throws {
        let program = try compiled()
        let key = SeccompCache(stateRoot: "/nonexistent").key(for: profile)
        let file = SeccompCache.encode(program, key: key)
        XCTAssertEqual(file.count, SeccompCache.headerSize + key.utf8.count + program.instructions.count)
        XCTAssertEqual(try SeccompCache.decode(file, key: key).get(), program)

        func rejection(_ bytes: [UInt8], key: String? = nil) -> String? {
            if case .failure(let e) = SeccompCache.decode(
                bytes, key: key ?? SeccompCache(stateRoot: "/").key(for: profile))
            {
                return e.message
            }
            return nil
        }
        XCTAssertEqual(rejection(Array(file.prefix(40))), "not a skiff BPF cache file")
        XCTAssertEqual(rejection(Array(file.dropLast(8))).map { $0.contains("bytes, expected") }, true)
        var flipped = file
        flipped[file.count - 3] ^= 0x40
        XCTAssertEqual(rejection(flipped), "the instructions do not match their checksum (corrupt)")
        var otherKey = key
        otherKey.removeLast()
        otherKey += key.hasSuffix("0") ? "1" : "0"
        XCTAssertEqual(rejection(file, key: otherKey), "made for another profile")
        var badCount = file
        badCount[24] = 0
        badCount[25] = 0x20 // 8192 instructions: more than the kernel allows
        XCTAssertEqual(rejection(badCount), "corrupt header")
        var badFlags = file
        badFlags[16] |= 0x80
        XCTAssertEqual(rejection(badFlags), "corrupt header")
    }
}
