// The device cgroup's BPF program (Sources/SkiffRuntime/Cgroups/DeviceFilter.swift), checked the
// way youki checks its own: the test runs the generated instructions in a small eBPF
// interpreter (the eight opcodes the generator emits) for every device type, major, minor
// and access that matters, and compares each verdict with the rule list read as the
// kernel's v1 devices cgroup would ("the last rule that matches decides; none: deny").
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class DeviceFilterTests: XCTestCase {
    typealias Rule = DeviceFilter.Rule

    // BPF_DEVCG_DEV_BLOCK 1, BPF_DEVCG_DEV_CHAR 2.
    static let types: [(Character, UInt32)] = [("b", 1), ("c", 2)]

    /// Run `insns` on a bpf_cgroup_dev_ctx. Fails the test (and returns nil) on anything a
    /// verifier would refuse here: a jump out of the program, falling off its end, an
    /// unknown opcode, an out-of-bounds load.
    func run(
        _ insns: [DeviceFilter.Insn], type: UInt32, access: UInt32, major: UInt32, minor: UInt32,
        file: StaticString = #filePath, line: UInt = #line
    ) -> UInt64? {
        let ctx: [UInt32] = [access << 16 | type, major, minor]
        var r = [UInt64](repeating: 0, count: 11)
        var pc = 0
        var steps = 0
        while pc < insns.count {
            steps += 1
            guard steps <= 4096 else {
                XCTFail("no exit after 4096 steps", file: file, line: line)
                return nil
            }
            let i = insns[pc]
            let dst = Int(i.dst)
            let src = Int(i.src)
            let imm = UInt64(bitPattern: Int64(i.imm)) // sign-extended, as the kernel does
            pc += 1
            switch i.code {
            case DeviceFilter.ldxW:
                guard src == 1, i.off >= 0, i.off % 4 == 0, Int(i.off) / 4 < ctx.count else {
                    XCTFail("bad load at \(pc - 1): r\(src)+\(i.off)", file: file, line: line)
                    return nil
                }
                r[dst] = UInt64(ctx[Int(i.off) / 4])
            case DeviceFilter.and64K: r[dst] &= imm
            case DeviceFilter.rsh64K: r[dst] >>= imm
            case DeviceFilter.mov64K: r[dst] = imm
            case DeviceFilter.mov64X: r[dst] = r[src]
            case DeviceFilter.jneK: if r[dst] != imm { pc += Int(i.off) }
            case DeviceFilter.jeqK: if r[dst] == imm { pc += Int(i.off) }
            case DeviceFilter.exit: return r[0]
            default:
                XCTFail("unknown opcode \(i.code) at \(pc - 1)", file: file, line: line)
                return nil
            }
            guard pc >= 0, pc <= insns.count else {
                XCTFail("jump out of the program at \(pc)", file: file, line: line)
                return nil
            }
        }
        XCTFail("fell off the end of the program", file: file, line: line)
        return nil
    }

    /// The rule list's meaning: the last rule that matches the access decides.
    func expected(_ rules: [Rule], type: Character, access: UInt32, major: Int64, minor: Int64) -> Bool {
        for rule in rules.reversed() {
            guard rule.type == "a" || rule.type == type else { continue }
            guard rule.major == nil || rule.major == major, rule.minor == nil || rule.minor == minor else { continue }
            if rule.allow {
                if access & ~rule.access == 0 { return true } // every requested bit granted
            } else {
                if access & rule.access != 0 { return false } // some requested bit denied
            }
        }
        return false
    }

    /// Every verdict of the program for `rules`, against the rule list's meaning: both
    /// device types, each major and minor any rule names plus one no rule names, and all
    /// seven non-empty access combinations.
    func checkEveryVerdict(_ rules: [Rule], file: StaticString = #filePath, line: UInt = #line) {
        let insns = DeviceFilter.program(rules)
        let majors = Set(rules.compactMap(\.major) + [999])
        let minors = Set(rules.compactMap(\.minor) + [9999])
        var checked = 0
        for (type, code) in Self.types {
            for major in majors.sorted() {
                for minor in minors.sorted() {
                    for access in UInt32(1)...7 {
                        let want = expected(rules, type: type, access: access, major: major, minor: minor)
                        let got = run(
                            insns, type: code, access: access, major: UInt32(major), minor: UInt32(minor), file: file,
                            line: line)
                        XCTAssertEqual(
                            got, want ? 1 : 0, "\(type) \(major):\(minor) access \(access)", file: file, line: line)
                        checked += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 0, file: file, line: line)
    }

    /// runc's default spec: deny everything, then the defaults every container needs.
    func testDefaultConfig() {
        let rules = DeviceFilter.effectiveRules([LinuxDeviceCgroup(allow: false, access: "rwm")])
        checkEveryVerdict(rules)
        let insns = DeviceFilter.program(rules)
        func allowed(_ type: UInt32, _ major: UInt32, _ minor: UInt32, _ access: UInt32) -> Bool {
            run(insns, type: type, access: access, major: major, minor: minor) == 1
        }
        let rw = DeviceFilter.accRead | DeviceFilter.accWrite
        XCTAssertTrue(allowed(2, 1, 3, rw), "/dev/null")
        XCTAssertTrue(allowed(2, 1, 9, DeviceFilter.accRead), "/dev/urandom")
        XCTAssertTrue(allowed(2, 136, 7, rw), "/dev/pts/7")
        XCTAssertTrue(allowed(2, 10, 200, rw), "/dev/net/tun")
        XCTAssertTrue(allowed(2, 8, 0, DeviceFilter.accMknod), "mknod of any char device")
        XCTAssertTrue(allowed(1, 8, 0, DeviceFilter.accMknod), "mknod of any block device")
        XCTAssertFalse(allowed(1, 8, 0, DeviceFilter.accRead), "reading /dev/sda")
        XCTAssertFalse(allowed(2, 1, 1, DeviceFilter.accRead), "reading /dev/mem")
    }

    /// The defaults go right after the spec's last wildcard, so a later rule about one of
    /// them wins, and everything before the last rwm wildcard is dropped.
    func testEffectiveRules() {
        let spec = [
            LinuxDeviceCgroup(allow: true, type: "c", major: 4, minor: 1, access: "r"), // decided by the next rule
            LinuxDeviceCgroup(allow: false, access: "rwm"),
            LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 3, access: "w"),
            LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: -1, access: ""),
        ]
        let rules = DeviceFilter.effectiveRules(spec)
        XCTAssertEqual(rules.first, Rule(allow: false, type: "a", major: nil, minor: nil, access: DeviceFilter.accAll))
        XCTAssertEqual(Array(rules[1...DeviceFilter.defaults.count]), DeviceFilter.defaults)
        XCTAssertEqual(
            rules.suffix(2),
            [
                Rule(allow: false, type: "c", major: 1, minor: 3, access: DeviceFilter.accWrite),
                Rule(allow: true, type: "b", major: 8, minor: nil, access: DeviceFilter.accAll),
            ])
        checkEveryVerdict(rules)
        let insns = DeviceFilter.program(rules)
        XCTAssertEqual(
            run(insns, type: 2, access: DeviceFilter.accWrite, major: 1, minor: 3), 0,
            "write to /dev/null is denied by the later rule")
        XCTAssertEqual(
            run(insns, type: 2, access: DeviceFilter.accRead, major: 1, minor: 3), 1,
            "read of /dev/null is still allowed")
        XCTAssertEqual(run(insns, type: 1, access: DeviceFilter.accAll, major: 8, minor: 42), 1, "b 8:* rwm")
        XCTAssertEqual(
            run(insns, type: 2, access: DeviceFilter.accRead, major: 4, minor: 1), 0,
            "the rule before the wildcard is gone")
    }

    /// Without any wildcard the defaults come first; an allow-all wildcard ends the program
    /// (the verifier rejects unreachable instructions).
    func testOrdersAndPartialAccessRules() {
        checkEveryVerdict(DeviceFilter.effectiveRules([]))
        checkEveryVerdict(
            DeviceFilter.effectiveRules([
                LinuxDeviceCgroup(allow: true, type: "a", access: "rwm"),
                LinuxDeviceCgroup(allow: false, type: "c", major: 5, access: "rw"),
                LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 1, access: "r"),
                LinuxDeviceCgroup(allow: false, type: "b", minor: 2, access: "m"),
            ]))
        let allowAll = DeviceFilter.program([
            Rule(allow: true, type: "a", major: nil, minor: nil, access: DeviceFilter.accAll),
            Rule(allow: false, type: "a", major: nil, minor: nil, access: DeviceFilter.accAll),
        ])
        XCTAssertEqual(allowAll.count, 6 + 2, "the last rule matches everything: nothing after it")
        XCTAssertEqual(run(allowAll, type: 1, access: 7, major: 3, minor: 4), 0)
    }

    func testNormalize() {
        XCTAssertEqual(
            DeviceFilter.normalize(LinuxDeviceCgroup(allow: true)),
            Rule(allow: true, type: "a", major: nil, minor: nil, access: 7))
        XCTAssertEqual(
            DeviceFilter.normalize(LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: -1, access: "mw")),
            Rule(allow: false, type: "c", major: 1, minor: nil, access: 5))
    }

    /// struct bpf_insn's layout: code, dst | src << 4, little-endian off and imm.
    func testInstructionEncoding() {
        XCTAssertEqual(DeviceFilter.Insn(code: 0x61, dst: 2, src: 1, off: 4).bytes, [0x61, 0x12, 4, 0, 0, 0, 0, 0])
        XCTAssertEqual(
            DeviceFilter.Insn(code: 0x55, dst: 4, off: -2, imm: -1).bytes,
            [0x55, 0x04, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff])
        XCTAssertEqual(DeviceFilter.Insn(code: 0xb7, imm: 0x0102_0304).bytes, [0xb7, 0, 0, 0, 4, 3, 2, 1])
    }
}
