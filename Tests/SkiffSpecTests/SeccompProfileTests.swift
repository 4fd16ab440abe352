// The default seccomp profile (SeccompProfile.swift) and its rendering in
// profiles/seccomp-default.json.
import Foundation
import SkiffSpec
import XCTest

final class SeccompProfileTests: XCTestCase {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("profiles/seccomp-default.json")

    static func rendered() -> String {
        let profile = LinuxSeccomp.skiffDefault(capabilities: SeccompProfile.dockerDefaultCapabilities, arch: .x86_64)
        return JSONCodec.encode(profile, indent: "\t") + "\n"
    }

    /// The checked-in file is the profile for Docker's default capabilities on x86_64.
    /// After changing the profile: SKIFF_WRITE_PROFILE=1 swift test --filter SeccompProfileTests
    func testFileMatchesProfile() throws {
        if ProcessInfo.processInfo.environment["SKIFF_WRITE_PROFILE"] == "1" {
            // Writing the file is not checking it: this run says so, and proves nothing.
            try Self.rendered().write(to: Self.file, atomically: true, encoding: .utf8)
            throw XCTSkip("SKIFF_WRITE_PROFILE=1: profiles/seccomp-default.json rewritten, not checked")
        }
        let onDisk = try String(contentsOf: Self.file, encoding: .utf8)
        XCTAssertEqual(
            onDisk, Self.rendered(), "profiles/seccomp-default.json is stale (SKIFF_WRITE_PROFILE=1 regenerates it)")
        // And it is a valid linux.seccomp for the decoder.
        XCTAssertEqual(
            try JSONCodec.decode(LinuxSeccomp.self, from: Array(onDisk.utf8)),
            LinuxSeccomp.skiffDefault(capabilities: SeccompProfile.dockerDefaultCapabilities, arch: .x86_64))
    }

    func allowedUnconditionally(_ p: LinuxSeccomp) -> Set<String> {
        Set((p.syscalls ?? []).filter { $0.action == .allow && ($0.args ?? []).isEmpty }.flatMap(\.names))
    }

    func testDangerousCallsNeedCapabilities() {
        let plain = LinuxSeccomp.skiffDefault(capabilities: SeccompProfile.dockerDefaultCapabilities, arch: .x86_64)
        XCTAssertEqual(plain.defaultAction, .errno)
        XCTAssertEqual(plain.defaultErrnoRet, 1)
        XCTAssertEqual(plain.architectures, [.x86_64, .x86, .x32])
        let allowed = allowedUnconditionally(plain)
        for name in [
            "keyctl", "add_key", "request_key", "unshare", "mount", "umount2", "pivot_root", "ptrace", "kexec_load",
            "kexec_file_load", "bpf", "perf_event_open", "setns", "clone", "clone3", "userfaultfd", "io_uring_setup",
            "open_by_handle_at", "reboot", "init_module", "swapon",
        ] {
            XCTAssertFalse(allowed.contains(name), "\(name) allowed without its capability")
        }
        for name in ["read", "write", "openat", "execve", "mkdir", "chroot", "arch_prctl", "getrandom"] {
            XCTAssertTrue(allowed.contains(name), "\(name) should be allowed")
        }
        // clone only without namespace flags; clone3 reports ENOSYS so libc falls back to clone.
        let clone = plain.syscalls?.first { $0.names == ["clone"] }
        XCTAssertEqual(clone?.args, [LinuxSeccompArg(index: 0, value: 0x7E02_0000, valueTwo: 0, op: .maskedEqual)])
        XCTAssertEqual(plain.syscalls?.first { $0.names == ["clone3"] }?.errnoRet, 38)

        let admin = LinuxSeccomp.skiffDefault(capabilities: ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"], arch: .x86_64)
        let adminAllowed = allowedUnconditionally(admin)
        for name in ["mount", "umount2", "unshare", "setns", "pivot_root", "clone", "clone3", "bpf", "ptrace"] {
            XCTAssertTrue(adminAllowed.contains(name), "\(name) should be allowed with CAP_SYS_ADMIN/CAP_SYS_PTRACE")
        }
        // The keyring and kexec stay closed even then.
        for name in ["keyctl", "add_key", "request_key", "kexec_load"] { XCTAssertFalse(adminAllowed.contains(name)) }
        XCTAssertNil(admin.syscalls?.first { $0.names == ["clone3"] && $0.action == .errno })
        let errors = Spec(
            ociVersion: "1.0.2", process: Process(args: ["sh"], cwd: "/"),
            linux: Linux(namespaces: [LinuxNamespace(type: .mount)], seccomp: admin)
        ).validationErrors()
        XCTAssertFalse(errors.contains { "\($0)".contains("seccomp") }, "\(errors)")
    }
}
