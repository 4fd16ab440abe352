// The bounding set when skiff itself lacks CAP_SETPCAP (Security/Capabilities.swift).
// Skiff drops each capability the spec does not keep without reading the set first; the
// kernel then refuses every drop (EPERM), even of a capability that is already gone. Such
// a refusal must be an error only when the capability is still in the set: exactly as
// when skiff read the set and dropped only what was there.
import Foundation
import XCTest

final class BoundingSetTests: XCTestCase {
    override func setUpWithError() throws { try Env.requireIntegration() }

    /// linux/capability.h, in number order.
    private let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]
    private let setpcap = 8

    /// This process's bounding set (CapBnd in /proc/self/status).
    private func ownBoundingSet() throws -> UInt64 {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") })
        return try XCTUnwrap(UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16))
    }

    /// `skiff run` with CAP_SETPCAP gone from skiff's bounding set (so root's skiff does not
    /// hold it), of a container whose bounding set is `keep`.
    private func runWithoutSetpcap(_ s: Sandbox, _ id: String, keep: [String]) throws -> Result {
        let b = try s.bundle(id, args: ["grep", "CapBnd:", "/proc/self/status"]) { c in
            var process = c["process"] as! [String: Any]
            var caps = process["capabilities"] as! [String: Any]
            caps["bounding"] = keep
            process["capabilities"] = caps
            c["process"] = process
        }
        return runProgram(
            "/usr/bin/setpriv", ["--bounding-set", "-setpcap", Env.skiff, "--root", s.stateRoot, "run", "-b", b, id],
            env: s.environment, cwd: s.dir.path)
    }

    func testWithoutSetpcapOnlyCapabilitiesStillThereMustBeDropped() throws {
        let s = try Sandbox()
        let lastCap = try XCTUnwrap(
            Int(
                try String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        let known = Array(names.prefix(lastCap + 1))
        let skiffSet = try ownBoundingSet() & ~(UInt64(1) << setpcap)

        // Everything but CAP_SETPCAP is kept: the drops skiff attempts are all of
        // capabilities it does not have, and must not fail.
        let all = try runWithoutSetpcap(s, "all", keep: known.filter { $0 != "CAP_SETPCAP" })
        XCTAssertEqual(all.code, 0, all.stderr)
        XCTAssertEqual(all.out, "CapBnd:\t" + String(format: "%016llx", skiffSet), all.stderr)

        // CAP_KILL is in skiff's set and not kept: it cannot be dropped, which is an error.
        let kill = try runWithoutSetpcap(s, "kill", keep: known.filter { $0 != "CAP_SETPCAP" && $0 != "CAP_KILL" })
        XCTAssertNotEqual(kill.code, 0, kill.stdout)
        XCTAssertTrue(
            kill.stderr.contains("process.capabilities.bounding: drop CAP_KILL: Operation not permitted"), kill.stderr)
        s.assertNothingLeftBehind()
    }
}
