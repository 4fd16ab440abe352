// linux.resources.devices on cgroup v2: there is no devices.allow file any more; the kernel
// asks a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup on every open(2) and
// mknod(2) of a device node, and the answer is 1 (allow) or 0 (deny). runc and crun
// generate such a program from the rules; so does this file, instruction by instruction.
//
// The rules: the spec's, with the devices every container needs (runc's list: /dev/null,
// zero, full, random, urandom, tty, ptmx, pts/*, net/tun, and mknod of anything) put in
// right after the spec's last "all devices" rule. So the usual "deny a rwm" first rule does
// not take them away, while a rule about one of them that comes later (deny c 1:3) does.
// The last rule that matches an access decides; when none matches, it is denied.
//
// The program's input (struct bpf_cgroup_dev_ctx): u32 access_type (access << 16 | type),
// u32 major, u32 minor. It loads them into r2 (type), r3 (access), r4, r5, then tests the
// rules from the last to the first: the first hit returns its verdict.
import CShim
import Glibc
import SkiffSpec

enum DeviceFilter {
    /// One rule, normalized: type "a"/"c"/"b", nil major/minor for any, access bits.
    struct Rule: Equatable {
        var allow: Bool
        var type: Character // "a", "c" or "b"
        var major: Int64? // nil: any
        var minor: Int64?
        var access: UInt32 // BPF_DEVCG_ACC_* bits: mknod 1, read 2, write 4

        var isWildcard: Bool { type == "a" && major == nil && minor == nil }
    }

    static let accMknod: UInt32 = 1, accRead: UInt32 = 2, accWrite: UInt32 = 4, accAll: UInt32 = 7

    /// runc's default allowed devices.
    static let defaults: [Rule] = [
        Rule(allow: true, type: "c", major: nil, minor: nil, access: accMknod),
        Rule(allow: true, type: "b", major: nil, minor: nil, access: accMknod),
        Rule(allow: true, type: "c", major: 1, minor: 3, access: accAll), // /dev/null
        Rule(allow: true, type: "c", major: 1, minor: 8, access: accAll), // /dev/random
        Rule(allow: true, type: "c", major: 1, minor: 7, access: accAll), // /dev/full
        Rule(allow: true, type: "c", major: 5, minor: 0, access: accAll), // /dev/tty
        Rule(allow: true, type: "c", major: 1, minor: 5, access: accAll), // /dev/zero
        Rule(allow: true, type: "c", major: 1, minor: 9, access: accAll), // /dev/urandom
        Rule(allow: true, type: "c", major: 136, minor: nil, access: accAll), // /dev/pts/*
        Rule(allow: true, type: "c", major: 5, minor: 2, access: accAll), // /dev/ptmx
        Rule(allow: true, type: "c", major: 10, minor: 200, access: accAll), // /dev/net/tun
    ]

    static func normalize(_ r: LinuxDeviceCgroup) -> Rule {
        var access: UInt32 = 0
        for ch in r.access ?? "rwm" {
            switch ch {
            case "m": access |= accMknod
            case "r": access |= accRead
            case "w": access |= accWrite
            default: break
            }
        }
        if (r.access ?? "").isEmpty { access = accAll }
        let type: Character = (r.type ?? "a").isEmpty ? "a" : (r.type ?? "a").first!
        return Rule(
            allow: r.allow, type: type,
            major: (r.major ?? -1) < 0 ? nil : r.major, minor: (r.minor ?? -1) < 0 ? nil : r.minor, access: access)
    }

    /// The effective rule list: the spec's with the defaults after its last wildcard rule,
    /// and nothing before the last wildcard rule for every access (it decides everything
    /// earlier rules could have).
    static func effectiveRules(_ spec: [LinuxDeviceCgroup]) -> [Rule] {
        var rules = spec.map(normalize)
        let lastWildcard = rules.lastIndex(where: \.isWildcard)
        let at = lastWildcard.map { $0 + 1 } ?? 0
        rules.insert(contentsOf: defaults, at: at)
        if let cut = rules.lastIndex(where: { $0.isWildcard && $0.access == accAll }) { rules.removeFirst(cut) }
        return rules
    }

    // MARK: eBPF

    /// struct bpf_insn: opcode, dst/src registers (4 bits each), 16-bit offset, 32-bit imm.
    struct Insn {
        var code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, off: Int16 = 0, imm: Int32 = 0
        var bytes: [UInt8] {
            let o = UInt16(bitPattern: off)
            let i = UInt32(bitPattern: imm)
            return [
                code, (src << 4) | (dst & 0xf), UInt8(o & 0xff), UInt8(o >> 8),
                UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24),
            ]
        }
    }

    // Opcodes (linux/bpf.h, linux/bpf_common.h).
    static let ldxW: UInt8 = 0x61 // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
    static let and64K: UInt8 = 0x57 // BPF_ALU64 | BPF_AND | BPF_K
    static let rsh64K: UInt8 = 0x77 // BPF_ALU64 | BPF_RSH | BPF_K
    static let mov64K: UInt8 = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K
    static let mov64X: UInt8 = 0xbf // BPF_ALU64 | BPF_MOV | BPF_X
    static let jneK: UInt8 = 0x55 // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto +off
    static let jeqK: UInt8 = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
    static let exit: UInt8 = 0x95 // BPF_JMP | BPF_EXIT

    /// The program for a rule list.
    static func program(_ rules: [Rule]) -> [Insn] {
        var insns: [Insn] = [
            Insn(code: ldxW, dst: 2, src: 1, off: 0), // r2 = access_type
            Insn(code: and64K, dst: 2, imm: 0xffff), // r2 &= 0xffff   (device type)
            Insn(code: ldxW, dst: 3, src: 1, off: 0), // r3 = access_type
            Insn(code: rsh64K, dst: 3, imm: 16), // r3 >>= 16      (access bits)
            Insn(code: ldxW, dst: 4, src: 1, off: 4), // r4 = major
            Insn(code: ldxW, dst: 5, src: 1, off: 8), // r5 = minor
        ]
        for rule in rules.reversed() {
            // Each test jumps past the end of this rule's block when it fails; the offsets
            // are filled in once the block's length is known.
            var block: [Insn] = []
            var jumps: [Int] = []
            if rule.type != "a" {
                jumps.append(block.count)
                block.append(Insn(code: jneK, dst: 2, imm: rule.type == "c" ? 2 : 1)) // BPF_DEVCG_DEV_CHAR 2, BLOCK 1
            }
            if rule.access != accAll {
                block.append(Insn(code: mov64X, dst: 1, src: 3)) // r1 = access
                if rule.allow {
                    // Allow only when every requested bit is granted: (access & ~rule) == 0.
                    block.append(Insn(code: and64K, dst: 1, imm: Int32(~rule.access & accAll)))
                    jumps.append(block.count)
                    block.append(Insn(code: jneK, dst: 1, imm: 0))
                } else {
                    // Deny when any requested bit is denied: (access & rule) != 0.
                    block.append(Insn(code: and64K, dst: 1, imm: Int32(rule.access)))
                    jumps.append(block.count)
                    block.append(Insn(code: jeqK, dst: 1, imm: 0))
                }
            }
            if let major = rule.major {
                jumps.append(block.count)
                block.append(Insn(code: jneK, dst: 4, imm: Int32(truncatingIfNeeded: major)))
            }
            if let minor = rule.minor {
                jumps.append(block.count)
                block.append(Insn(code: jneK, dst: 5, imm: Int32(truncatingIfNeeded: minor)))
            }
            block.append(Insn(code: mov64K, dst: 0, imm: rule.allow ? 1 : 0))
            block.append(Insn(code: exit))
            for j in jumps { block[j].off = Int16(block.count - j - 1) }
            insns += block
            // A rule that matches everything ends the program (the verifier rejects
            // unreachable instructions).
            if jumps.isEmpty { return insns }
        }
        insns.append(Insn(code: mov64K, dst: 0, imm: 0)) // no rule matched: deny
        insns.append(Insn(code: exit))
        return insns
    }

    /// Load the program for `spec` rules and attach it to the cgroup (fd on its directory).
    static func attach(_ spec: [LinuxDeviceCgroup], cgroupFd: Int32, path: String) throws {
        let rules = effectiveRules(spec)
        let insns = program(rules)
        let bytes = insns.flatMap(\.bytes)
        var log = [CChar](repeating: 0, count: 4096)
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        let prog = try Explain.step(
            "device rules", "bpf(BPF_PROG_LOAD, CGROUP_DEVICE, \(rules.count) rules, \(insns.count) insns)",
            result: { "fd \($0)" }
        ) { () throws -> Int32 in
            // Without a log first: the verifier's logging costs milliseconds.
            let fd = bytes.withUnsafeBytes { sk_bpf_load_device_filter($0.baseAddress, UInt32(insns.count), nil, 0) }
            if fd < 0 {
                let code = errno
                _ = bytes.withUnsafeBytes {
                    sk_bpf_load_device_filter($0.baseAddress, UInt32(insns.count), &log, UInt32(log.count))
                }
                let verifier = String(cString: log).split(separator: "\n").first.map { " (verifier: \($0))" } ?? ""
                throw SkiffError(
                    "linux.resources.devices: loading the BPF device filter: \(errnoText(code))\(verifier)", code: code)
            }
            return fd
        }
        defer { close(prog) }
        try Explain.step("device rules", "bpf(BPF_PROG_ATTACH, \(Cgroup.directory(path)), BPF_CGROUP_DEVICE)") {
            if sk_bpf_attach_device_filter(cgroupFd, prog) < 0 {
                let code = errno
                throw SkiffError(
                    "linux.resources.devices: attaching the BPF device filter to cgroup \(path): \(errnoText(code))",
                    code: code)
            }
        }
    }
}
