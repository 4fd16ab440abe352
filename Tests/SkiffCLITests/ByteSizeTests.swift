// One size grammar for `run --memory`, `run --memory-swap` and `update --memory...`
// (Sources/skiff/ByteSize.swift): docker/go-units RAMInBytes, as Docker and runc parse them.
import SkiffRuntime
import SkiffSpec
import XCTest

@testable import skiff

final class ByteSizeTests: XCTestCase {
    func testUnitsAndFractions() throws {
        let cases: [(String, Int64)] = [
            ("1024", 1024), ("0", 0), ("64b", 64), ("4k", 4096), ("4K", 4096), ("4kb", 4096), ("4KiB", 4096),
            ("64m", 64 << 20), ("64 MB", 64 << 20), ("1g", 1 << 30), ("1.5g", 1_610_612_736), ("0.5m", 512 << 10),
            ("2t", 2 << 40), ("1p", 1 << 50),
        ]
        for (text, bytes) in cases {
            XCTAssertEqual(try ByteSize.parse(text, flag: "--memory"), bytes, text)
        }
    }

    func testBadSizesNameTheFlag() {
        for text in ["12x", "", "m", ".5g", "1.5.3g", "-2", "1e3", "4 k b", "9999999999p"] {
            XCTAssertThrowsError(try ByteSize.parse(text, flag: "--memory"), text) {
                XCTAssertEqual(message($0), "--memory: invalid size \"\(text)\" (use e.g. 512k, 64m, 1.5g)")
            }
        }
        XCTAssertThrowsError(try ByteSize.parse("-1", flag: "--memory")) {
            XCTAssertEqual(message($0), "--memory: invalid size \"-1\" (use e.g. 512k, 64m, 1.5g)")
        }
        XCTAssertEqual(try ByteSize.parse("-1", flag: "--memory-swap", unlimited: true), -1)
        XCTAssertThrowsError(try ByteSize.parse("x", flag: "--memory-swap", unlimited: true)) {
            XCTAssertEqual(message($0), "--memory-swap: invalid size \"x\" (use e.g. 512k, 64m, 1.5g, or -1 for none)")
        }
    }

    /// `run --memory 1.5g` and `update --memory 1.5g` agree (they used to differ).
    func testRunAndUpdateAgreeOnOnePointFiveG() throws {
        let run = try quickRunOptions(
            ParsedArgs(values: ["memory": ["1.5g"], "memory-swap": ["3g"]]), rootfs: "/", command: [])
        let update = try UpdateCommand.fromFlags(ParsedArgs(values: ["memory": ["1.5g"], "memory-swap": ["3g"]]))
        XCTAssertEqual(run.memory, 1_610_612_736)
        XCTAssertEqual(update.memory?.limit, run.memory)
        XCTAssertEqual(update.memory?.swap, run.memorySwap)
    }

    func testUpdateFlagsBecomeResources() throws {
        let r = try UpdateCommand.fromFlags(
            ParsedArgs(values: [
                "memory": ["-1"], "memory-reservation": ["32m"], "cpu-quota": ["50000"], "cpu-period": ["100000"],
                "cpu-share": ["512"], "cpuset-cpus": ["0-1"], "pids-limit": ["-1"], "blkio-weight": ["300"],
            ]))
        XCTAssertEqual(
            r,
            LinuxResources(
                memory: LinuxMemory(limit: -1, reservation: 32 << 20),
                cpu: LinuxCPU(shares: 512, quota: 50_000, period: 100_000, cpus: "0-1"),
                pids: LinuxPids(limit: -1), blockIO: LinuxBlockIO(weight: 300)))
        XCTAssertEqual(try UpdateCommand.fromFlags(ParsedArgs()), LinuxResources())
        XCTAssertThrowsError(try UpdateCommand.fromFlags(ParsedArgs(values: ["blkio-weight": ["1001000"]]))) {
            XCTAssertEqual(message($0), "--blkio-weight: invalid value \"1001000\"")
        }
    }

    func testQuickRunSecurityOptions() throws {
        let o = try quickRunOptions(
            ParsedArgs(values: ["security-opt": ["no-new-privileges", "seccomp=/p.json"]]), rootfs: "/", command: ["sh"]
        )
        XCTAssertTrue(o.noNewPrivileges)
        guard case .file("/p.json") = o.seccomp else { return XCTFail("seccomp: \(o.seccomp)") }
        XCTAssertThrowsError(
            try quickRunOptions(ParsedArgs(values: ["security-opt": ["apparmor=x"]]), rootfs: "/", command: [])
        ) {
            XCTAssertEqual(
                message($0), "--security-opt apparmor=x: expected no-new-privileges, seccomp=unconfined or seccomp=FILE"
            )
        }
        XCTAssertThrowsError(try quickRunOptions(ParsedArgs(values: ["cpus": ["half"]]), rootfs: "/", command: [])) {
            XCTAssertEqual(message($0), "--cpus half: expected a number such as 0.5")
        }
    }
}
