// linux.seccomp: the system call filter, compiled with libseccomp.
//
// A seccomp filter is a small BPF program the kernel runs on every system call the
// process (and its children, forever) makes: it looks at the call number, the
// architecture and the arguments, and answers allow, fail with an errno, kill, trap,
// log, or ask a supervisor (notify). libseccomp turns the spec's rules into that
// program.
//
// The filter is compiled by skiff before it clones init (or an exec'd process), so a
// bad profile is a `create` error, and compiled once: the BPF program libseccomp
// generates is kept in a cache under the state root and reused by every container with
// the same profile (SeccompCache.swift). Init only loads the program (SeccompProgram.swift),
// as late as possible, right before execve, so that skiff's own setup never runs under
// it (see ProcessSetup.exec).
// Two exceptions, as in runc:
//  * SCMP_ACT_NOTIFY: the listener fd only exists once the filter is loaded, and it
//    must reach the agent during `create`. The filter is then loaded at the end of
//    setup, before "ready"; what init does afterwards (wait for start, execve) runs
//    under it.
//  * without no_new_privs the kernel lets only CAP_SYS_ADMIN holders load a filter.
//    runc loads it before dropping capabilities; skiff instead keeps CAP_SYS_ADMIN
//    until the very end (CapabilityPlan.extra), loads the filter, then drops it with
//    one last capset: the filter must allow capset in that case (Docker's does).
import CSeccomp
import CShim
import Glibc
import SkiffSpec

struct SeccompFilter {
    private let ctx: scmp_filter_ctx
    /// Rules handed to libseccomp (after skipping unknown syscalls).
    let ruleCount: Int
    /// Some rule uses SCMP_ACT_NOTIFY: load early and hand the listener fd over.
    let usesNotify: Bool

    /// Compile `config`. Unknown syscall names are skipped (logged at debug level):
    /// profiles list syscalls of newer kernels and other architectures.
    init(_ config: LinuxSeccomp) throws {
        let defaultAction = Self.action(config.defaultAction, errno: config.defaultErrnoRet)
        guard let ctx = seccomp_init(defaultAction) else {
            throw SkiffError("linux.seccomp.defaultAction: seccomp_init failed")
        }
        self.ctx = ctx
        var ok = false
        defer { if !ok { seccomp_release(ctx) } }

        // libseccomp sets no_new_privs when loading unless told not to; the spec's
        // process.noNewPrivileges decides that, not the filter.
        try Self.check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "linux.seccomp: clear the no_new_privs attribute")

        for arch in config.architectures ?? [] {
            let token = seccomp_arch_resolve_name(Self.libseccompName(arch))
            if token == 0 {
                throw SkiffError(
                    "linux.seccomp.architectures: \(arch.rawValue) is not supported by libseccomp "
                        + "\(libseccompVersion())")
            }
            let rc = seccomp_arch_add(ctx, token)
            if rc != 0 && rc != -EEXIST { try Self.check(rc, "linux.seccomp.architectures: add \(arch.rawValue)") }
        }

        for flag in config.flags ?? [] {
            switch flag {
            case .tsync:
                break // init is single-threaded: nothing to synchronise (runc ignores it too)
            case .log:
                try Self.check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1), "linux.seccomp.flags: \(flag.rawValue)")
            case .specAllow:
                try Self.check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1), "linux.seccomp.flags: \(flag.rawValue)")
            case .waitKillableRecv:
                throw SkiffError(
                    "linux.seccomp.flags: \(flag.rawValue) needs libseccomp 2.6 (this is "
                        + "\(libseccompVersion()))")
            }
        }

        let rules = config.syscalls ?? []
        if rules.count > 32 {
            // A binary tree of syscall numbers instead of a linear scan (not fatal if unsupported).
            _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        }
        var count = 0
        var notify = false
        for (i, rule) in rules.enumerated() {
            let action = Self.action(rule.action, errno: rule.errnoRet)
            if action == defaultAction { continue } // redundant; libseccomp would refuse it
            // init hands the listener fd to skiff with sendmsg once the filter is loaded:
            // a notified sendmsg would wait for an agent that never gets the fd.
            if rule.action == .notify && rule.names.contains("sendmsg") {
                throw SkiffError(
                    "linux.seccomp.syscalls[\(i)]: SCMP_ACT_NOTIFY cannot be used for sendmsg (it "
                        + "hands the listener to the agent)")
            }
            for name in rule.names {
                let nr = seccomp_syscall_resolve_name(name)
                if nr == -1 { // __NR_SCMP_ERROR
                    Log.debug("linux.seccomp.syscalls[\(i)]: unknown syscall \"\(name)\" skipped")
                    continue
                }
                for conditions in Self.conditionSets(rule.args ?? []) {
                    let rc = conditions.withUnsafeBufferPointer {
                        seccomp_rule_add_array(ctx, action, nr, UInt32($0.count), $0.baseAddress)
                    }
                    try Self.check(rc, "linux.seccomp.syscalls[\(i)] \(name)")
                    count += 1
                    // As libseccomp decides it: a listener only if a notifying rule is in.
                    if rule.action == .notify { notify = true }
                }
            }
        }
        ruleCount = count
        usesNotify = notify
        ok = true
    }

    func release() { seccomp_release(ctx) }

    /// The BPF program libseccomp generates for the filter (what seccomp_load would load),
    /// with what loading it takes besides: the flags and whether a listener is wanted.
    func program(flags: [LinuxSeccompFlag]?) throws -> SeccompProgram {
        let fd = try sys("linux.seccomp: memfd for the BPF program") { sk_memfd_create("skiff-seccomp") }
        defer { close(fd) }
        try Self.check(seccomp_export_bpf(ctx, fd), "linux.seccomp: generate the BPF program")
        lseek(fd, 0, SEEK_SET)
        return SeccompProgram(
            instructions: readAll(fd), ruleCount: ruleCount, usesNotify: usesNotify,
            flags: SeccompProgram.kernelFlags(flags))
    }

    /// libseccomp returns -errno.
    private static func check(_ rc: Int32, _ what: String) throws {
        if rc < 0 { throw SkiffError("\(what): \(errnoText(-rc))", code: -rc) }
    }

    /// SCMP_ACT_* values (the C macros taking an errno do not reach Swift).
    static func action(_ action: LinuxSeccompAction, errno: UInt?) -> UInt32 {
        let code = UInt32(errno ?? UInt(EPERM)) & 0xffff
        switch action {
        case .kill, .killThread: return 0x0000_0000 // SCMP_ACT_KILL_THREAD (runc reads KILL this way)
        case .killProcess: return 0x8000_0000
        case .trap: return 0x0003_0000
        case .errno: return 0x0005_0000 | code
        case .trace: return 0x7ff0_0000 | code
        case .log: return 0x7ffc_0000
        case .notify: return 0x7fc0_0000
        case .allow: return 0x7fff_0000
        }
    }

    static func compare(_ op: LinuxSeccompOperator) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessEqual: return SCMP_CMP_LE
        case .equalTo: return SCMP_CMP_EQ
        case .greaterEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }

    /// The conditions of one rule, as libseccomp rules: all in one rule (AND) when each
    /// argument is compared at most once; one rule per condition (OR) when an argument
    /// is compared twice, which libseccomp cannot AND. This is runc's reading.
    static func conditionSets(_ args: [LinuxSeccompArg]) -> [[scmp_arg_cmp]] {
        // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the expected result.
        let all = args.map {
            scmp_arg_cmp(arg: UInt32($0.index), op: compare($0.op), datum_a: $0.value, datum_b: $0.valueTwo ?? 0)
        }
        let indexes = args.map(\.index)
        return Set(indexes).count == indexes.count ? [all] : all.map { [$0] }
    }
}

// MARK: - What `skiff features` reports (runtime-spec features.md)

extension SeccompFilter {
    /// libseccomp's name of an architecture ("SCMP_ARCH_X86_64" → "x86_64").
    static func libseccompName(_ arch: Arch) -> String {
        arch.rawValue.replacingPrefix("SCMP_ARCH_", with: "").lowercased()
    }

    /// Architectures this libseccomp can build filters for.
    static var supportedArchitectures: [String] {
        Arch.allCases.filter { seccomp_arch_resolve_name(libseccompName($0)) != 0 }.map(\.rawValue)
    }

    /// Flags skiff knows, and those this libseccomp and kernel can apply (API levels:
    /// 2 TSYNC, 3 LOG, 4 SPEC_ALLOW; WAIT_KILLABLE_RECV needs libseccomp 2.6).
    static var knownFlags: [String] { LinuxSeccompFlag.allCases.map(\.rawValue) }
    static var supportedFlags: [String] {
        let api = seccomp_api_get()
        var flags: [LinuxSeccompFlag] = []
        if api >= 2 { flags.append(.tsync) }
        if api >= 3 { flags.append(.log) }
        if api >= 4 { flags.append(.specAllow) }
        return flags.map(\.rawValue)
    }
}
