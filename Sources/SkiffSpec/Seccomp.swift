// `linux.seccomp`: the system call filter. Actions, architectures,
// operators and flags are the libseccomp constant names.

/// A seccomp filter: a default action plus rules for specific system calls.
public struct LinuxSeccomp: Codable, Equatable, Sendable {
    /// What happens to system calls no rule matches.
    public var defaultAction: LinuxSeccompAction
    /// errno returned by the default action (SCMP_ACT_ERRNO / SCMP_ACT_TRACE); EPERM if nil.
    public var defaultErrnoRet: UInt?
    /// Architectures the filter accepts besides the native one.
    public var architectures: [Arch]?
    /// Flags for seccomp(2).
    public var flags: [LinuxSeccompFlag]?
    /// UNIX socket to send the listener fd to, for SCMP_ACT_NOTIFY.
    public var listenerPath: String?
    /// Opaque data sent along with the listener fd.
    public var listenerMetadata: String?
    /// The rules, checked in order.
    public var syscalls: [LinuxSyscall]?

    public init(
        defaultAction: LinuxSeccompAction,
        defaultErrnoRet: UInt? = nil,
        architectures: [Arch]? = nil,
        flags: [LinuxSeccompFlag]? = nil,
        listenerPath: String? = nil,
        listenerMetadata: String? = nil,
        syscalls: [LinuxSyscall]? = nil
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
        self.syscalls = syscalls
    }
}

/// A seccomp rule: an action for some system calls, optionally only when
/// their arguments match.
public struct LinuxSyscall: Codable, Equatable, Sendable {
    /// System call names; at least one.
    public var names: [String]
    /// What happens when the rule matches.
    public var action: LinuxSeccompAction
    /// errno for SCMP_ACT_ERRNO / SCMP_ACT_TRACE; EPERM if nil.
    public var errnoRet: UInt?
    /// Conditions on the arguments, all of which must hold.
    public var args: [LinuxSeccompArg]?

    public init(names: [String], action: LinuxSeccompAction, errnoRet: UInt? = nil, args: [LinuxSeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }
}

/// A condition on one system call argument.
public struct LinuxSeccompArg: Codable, Equatable, Sendable {
    /// Which argument, 0...5.
    public var index: UInt
    /// The value to compare with (the mask for SCMP_CMP_MASKED_EQ).
    public var value: UInt64
    /// Second value (the expected result for SCMP_CMP_MASKED_EQ).
    public var valueTwo: UInt64?
    /// The comparison.
    public var op: LinuxSeccompOperator

    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: LinuxSeccompOperator) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}

/// What seccomp does with a matched system call.
public enum LinuxSeccompAction: String, SpecEnum {
    case kill = "SCMP_ACT_KILL"
    case killProcess = "SCMP_ACT_KILL_PROCESS"
    case killThread = "SCMP_ACT_KILL_THREAD"
    case trap = "SCMP_ACT_TRAP"
    case errno = "SCMP_ACT_ERRNO"
    case trace = "SCMP_ACT_TRACE"
    case allow = "SCMP_ACT_ALLOW"
    case log = "SCMP_ACT_LOG"
    case notify = "SCMP_ACT_NOTIFY"

    public static var kind: String { "action" }

    /// Whether the action takes an errno (`errnoRet`).
    public var takesErrno: Bool { self == .errno || self == .trace }
}

/// An architecture (system call ABI) a seccomp filter applies to.
public enum Arch: String, SpecEnum {
    case x86 = "SCMP_ARCH_X86"
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case x86_64 = "SCMP_ARCH_X86_64"
    case x32 = "SCMP_ARCH_X32"
    case arm = "SCMP_ARCH_ARM"
    case aarch64 = "SCMP_ARCH_AARCH64"
    case mips = "SCMP_ARCH_MIPS"
    case mips64 = "SCMP_ARCH_MIPS64"
    case mips64n32 = "SCMP_ARCH_MIPS64N32"
    case mipsel = "SCMP_ARCH_MIPSEL"
    case mipsel64 = "SCMP_ARCH_MIPSEL64"
    case mipsel64n32 = "SCMP_ARCH_MIPSEL64N32"
    case ppc = "SCMP_ARCH_PPC"
    case ppc64 = "SCMP_ARCH_PPC64"
    case ppc64le = "SCMP_ARCH_PPC64LE"
    case s390 = "SCMP_ARCH_S390"
    case s390x = "SCMP_ARCH_S390X"
    case parisc = "SCMP_ARCH_PARISC"
    case parisc64 = "SCMP_ARCH_PARISC64"
    case riscv64 = "SCMP_ARCH_RISCV64"
    case loongarch64 = "SCMP_ARCH_LOONGARCH64"
    case m68k = "SCMP_ARCH_M68K"
    case sh = "SCMP_ARCH_SH"
    case sheb = "SCMP_ARCH_SHEB"

    public static var kind: String { "architecture" }
}

/// A comparison of a system call argument.
public enum LinuxSeccompOperator: String, SpecEnum {
    case notEqual = "SCMP_CMP_NE"
    case lessThan = "SCMP_CMP_LT"
    case lessEqual = "SCMP_CMP_LE"
    case equalTo = "SCMP_CMP_EQ"
    case greaterEqual = "SCMP_CMP_GE"
    case greaterThan = "SCMP_CMP_GT"
    case maskedEqual = "SCMP_CMP_MASKED_EQ"

    public static var kind: String { "operator" }
}

/// A flag for seccomp(2) when loading the filter.
public enum LinuxSeccompFlag: String, SpecEnum {
    case tsync = "SECCOMP_FILTER_FLAG_TSYNC"
    case log = "SECCOMP_FILTER_FLAG_LOG"
    case specAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
    case waitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"

    public static var kind: String { "seccomp flag" }
}
