// The pure parts of the process setup and of the seccomp filter builder
// (Sources/SkiffRuntime/Process/ProcessSetup.swift, Seccomp.swift).
import CSeccomp
import Glibc
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class ProcessSetupTests: XCTestCase {
    func testRlimitNamesAreTheKernelNumbers() {
        XCTAssertEqual(ProcessSetup.rlimitResource("RLIMIT_NOFILE"), Int32(RLIMIT_NOFILE.rawValue))
        XCTAssertEqual(ProcessSetup.rlimitResource("RLIMIT_NPROC"), 6) // asm-generic/resource.h
        XCTAssertEqual(ProcessSetup.rlimitResource("RLIMIT_RTTIME"), 15)
        XCTAssertNil(ProcessSetup.rlimitResource("RLIMIT_FLY"))
        XCTAssertNil(ProcessSetup.rlimitResource("nofile"), "the spec's names only")
    }

    func testEnvironmentGetsPathAndHomeWhenMissing() {
        var p = SkiffSpec.Process(args: ["sh"], cwd: "/")
        p.env = ["A=1"]
        let env = ProcessSetup.environment(p)
        XCTAssertEqual(env.first, "A=1")
        XCTAssertTrue(env.contains("PATH=" + ProcessSetup.defaultPath))
        XCTAssertEqual(env.filter { $0.hasPrefix("HOME=") }.count, 1)
        p.env = ["PATH=/x", "HOME=/h"]
        XCTAssertEqual(ProcessSetup.environment(p), ["PATH=/x", "HOME=/h"], "given values are kept")
    }

    func testFindExecutableLikeExecvp() throws {
        XCTAssertEqual(try ProcessSetup.findExecutable("sh", env: ["PATH=/nonexistent:/bin"]), "/bin/sh")
        XCTAssertEqual(try ProcessSetup.findExecutable("/bin/sh", env: []), "/bin/sh")
        XCTAssertThrowsError(try ProcessSetup.findExecutable("no-such-program-here", env: ["PATH=/bin"])) {
            XCTAssertEqual(message($0), "exec \"no-such-program-here\": executable file not found in $PATH")
        }
        XCTAssertThrowsError(try ProcessSetup.findExecutable("/etc/passwd", env: [])) {
            XCTAssertEqual(message($0), "exec \"/etc/passwd\": permission denied or not a regular file")
        }
        XCTAssertThrowsError(try ProcessSetup.findExecutable("/no/such", env: [])) {
            XCTAssertEqual(message($0), "exec \"/no/such\": no such file or directory")
        }
    }
}

final class SeccompFilterTests: XCTestCase {
    /// The SCMP_ACT_* values libseccomp's macros compute (seccomp.h), errno in the low bits.
    func testActions() {
        XCTAssertEqual(SeccompFilter.action(.allow, errno: nil), 0x7fff_0000)
        XCTAssertEqual(SeccompFilter.action(.errno, errno: nil), 0x0005_0000 | UInt32(EPERM))
        XCTAssertEqual(SeccompFilter.action(.errno, errno: 38), 0x0005_0026)
        XCTAssertEqual(SeccompFilter.action(.trace, errno: 1), 0x7ff0_0001)
        XCTAssertEqual(SeccompFilter.action(.killProcess, errno: nil), 0x8000_0000)
        XCTAssertEqual(SeccompFilter.action(.kill, errno: nil), 0)
        XCTAssertEqual(SeccompFilter.action(.notify, errno: nil), 0x7fc0_0000)
        XCTAssertEqual(SeccompFilter.action(.log, errno: nil), 0x7ffc_0000)
        XCTAssertEqual(SeccompFilter.action(.trap, errno: nil), 0x0003_0000)
    }

    /// runc's reading: conditions on distinct arguments are ANDed in one rule; an argument
    /// compared twice makes one rule per condition (libseccomp cannot AND those).
    func testConditionSets() {
        let distinct = SeccompFilter.conditionSets([
            LinuxSeccompArg(index: 0, value: 1, op: .equalTo),
            LinuxSeccompArg(index: 1, value: 0xff, valueTwo: 0x10, op: .maskedEqual),
        ])
        XCTAssertEqual(distinct.count, 1)
        XCTAssertEqual(distinct[0].map(\.arg), [0, 1])
        XCTAssertEqual(distinct[0][1].op, SCMP_CMP_MASKED_EQ)
        XCTAssertEqual(distinct[0][1].datum_a, 0xff)
        XCTAssertEqual(distinct[0][1].datum_b, 0x10)
        let repeated = SeccompFilter.conditionSets([
            LinuxSeccompArg(index: 0, value: 1, op: .equalTo), LinuxSeccompArg(index: 0, value: 2, op: .equalTo),
        ])
        XCTAssertEqual(repeated.map { $0.map(\.datum_a) }, [[1], [2]])
        XCTAssertEqual(SeccompFilter.conditionSets([]).count, 1, "no condition: one unconditional rule")
    }
}
