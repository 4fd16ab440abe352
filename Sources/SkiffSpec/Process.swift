// `process`: what to run in the container and with which identity,
// privileges and limits.

/// The container's main process.
public struct Process: Codable, Equatable, Sendable {
    /// Attach a pseudo-terminal to the process.
    public var terminal: Bool?
    /// Initial size of that terminal (ignored without `terminal`).
    public var consoleSize: Box?
    /// The user and groups the process runs as.
    public var user: User
    /// The program and its arguments; `args[0]` is looked up in PATH if relative.
    public var args: [String]?
    /// Environment, as KEY=VALUE strings.
    public var env: [String]?
    /// Absolute working directory inside the container.
    public var cwd: String
    /// Capability sets kept by the process.
    public var capabilities: LinuxCapabilities?
    /// Resource limits (setrlimit) applied to the process.
    public var rlimits: [POSIXRlimit]?
    /// Set the no_new_privs bit, so exec cannot gain privileges (setuid, file caps).
    public var noNewPrivileges: Bool?
    /// AppArmor profile to run under.
    public var apparmorProfile: String?
    /// Value for /proc/self/oom_score_adj, -1000...1000.
    public var oomScoreAdj: Int?
    /// Scheduling policy and attributes (sched_setattr).
    public var scheduler: Scheduler?
    /// SELinux label to run under.
    public var selinuxLabel: String?
    /// I/O scheduling class and priority (ioprio_set).
    public var ioPriority: LinuxIOPriority?
    /// CPU affinity for processes started with `exec`.
    public var execCPUAffinity: CPUAffinity?

    public init(
        terminal: Bool? = nil,
        consoleSize: Box? = nil,
        user: User = User(),
        args: [String]? = nil,
        env: [String]? = nil,
        cwd: String = "/",
        capabilities: LinuxCapabilities? = nil,
        rlimits: [POSIXRlimit]? = nil,
        noNewPrivileges: Bool? = nil,
        apparmorProfile: String? = nil,
        oomScoreAdj: Int? = nil,
        scheduler: Scheduler? = nil,
        selinuxLabel: String? = nil,
        ioPriority: LinuxIOPriority? = nil,
        execCPUAffinity: CPUAffinity? = nil
    ) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.apparmorProfile = apparmorProfile
        self.oomScoreAdj = oomScoreAdj
        self.scheduler = scheduler
        self.selinuxLabel = selinuxLabel
        self.ioPriority = ioPriority
        self.execCPUAffinity = execCPUAffinity
    }
}

/// A rectangle size, used for the console.
public struct Box: Codable, Equatable, Sendable {
    /// Rows.
    public var height: UInt
    /// Columns.
    public var width: UInt

    public init(height: UInt, width: UInt) {
        self.height = height
        self.width = width
    }
}

/// The identity of the process, as IDs in the container's user namespace.
public struct User: Codable, Equatable, Sendable {
    /// User ID.
    public var uid: UInt32
    /// Primary group ID.
    public var gid: UInt32
    /// File mode creation mask (at most 0o777); nil keeps the inherited one.
    public var umask: UInt32?
    /// Supplementary group IDs.
    public var additionalGids: [UInt32]?

    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
    }
}

/// The capability sets of the process, as names like "CAP_KILL".
public struct LinuxCapabilities: Codable, Equatable, Sendable {
    /// Limit on capabilities the process can ever gain.
    public var bounding: [String]?
    /// Capabilities checked by the kernel for permission.
    public var effective: [String]?
    /// Capabilities preserved across execve for file capabilities.
    public var inheritable: [String]?
    /// Superset of effective capabilities the process may assume.
    public var permitted: [String]?
    /// Capabilities kept across execve of non-privileged programs.
    public var ambient: [String]?

    public init(
        bounding: [String]? = nil,
        effective: [String]? = nil,
        inheritable: [String]? = nil,
        permitted: [String]? = nil,
        ambient: [String]? = nil
    ) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }

    /// Every capability Linux defines (as of 5.9), indexed by capability number:
    /// `knownNames[5] == "CAP_KILL"`.
    public static let knownNames: [String] = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
        "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ]

    /// The number of capability `name` ("CAP_KILL" -> 5), or nil if unknown.
    public static func number(of name: String) -> Int? {
        knownNames.firstIndex(of: name)
    }
}

/// A resource limit (setrlimit).
public struct POSIXRlimit: Codable, Equatable, Sendable {
    /// The resource, e.g. "RLIMIT_NOFILE".
    public var type: String
    /// The ceiling for the soft limit.
    public var hard: UInt64
    /// The limit the kernel enforces.
    public var soft: UInt64

    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }

    /// Every resource Linux defines, indexed by its number on x86 and arm
    /// (`knownTypes[7] == "RLIMIT_NOFILE"`; a few architectures such as MIPS
    /// and SPARC number some of them differently).
    public static let knownTypes: [String] = [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
        "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE",
        "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
        "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ]
}

/// Scheduling attributes of the process, as for sched_setattr(2).
public struct Scheduler: Codable, Equatable, Sendable {
    /// The scheduling policy.
    public var policy: LinuxSchedulerPolicy
    /// Nice value, -20...19 (SCHED_OTHER, SCHED_BATCH).
    public var nice: Int32?
    /// Static priority (SCHED_FIFO, SCHED_RR).
    public var priority: Int32?
    /// Extra sched_setattr flags.
    public var flags: [LinuxSchedulerFlag]?
    /// SCHED_DEADLINE: runtime in nanoseconds.
    public var runtime: UInt64?
    /// SCHED_DEADLINE: deadline in nanoseconds.
    public var deadline: UInt64?
    /// SCHED_DEADLINE: period in nanoseconds.
    public var period: UInt64?

    public init(
        policy: LinuxSchedulerPolicy,
        nice: Int32? = nil,
        priority: Int32? = nil,
        flags: [LinuxSchedulerFlag]? = nil,
        runtime: UInt64? = nil,
        deadline: UInt64? = nil,
        period: UInt64? = nil
    ) {
        self.policy = policy
        self.nice = nice
        self.priority = priority
        self.flags = flags
        self.runtime = runtime
        self.deadline = deadline
        self.period = period
    }
}

/// A scheduling policy.
public enum LinuxSchedulerPolicy: String, SpecEnum {
    case other = "SCHED_OTHER"
    case fifo = "SCHED_FIFO"
    case rr = "SCHED_RR"
    case batch = "SCHED_BATCH"
    case iso = "SCHED_ISO"
    case idle = "SCHED_IDLE"
    case deadline = "SCHED_DEADLINE"

    public static var kind: String { "scheduling policy" }
}

/// A sched_setattr flag.
public enum LinuxSchedulerFlag: String, SpecEnum {
    case resetOnFork = "SCHED_FLAG_RESET_ON_FORK"
    case reclaim = "SCHED_FLAG_RECLAIM"
    case dlOverrun = "SCHED_FLAG_DL_OVERRUN"
    case keepPolicy = "SCHED_FLAG_KEEP_POLICY"
    case keepParams = "SCHED_FLAG_KEEP_PARAMS"
    case utilClampMin = "SCHED_FLAG_UTIL_CLAMP_MIN"
    case utilClampMax = "SCHED_FLAG_UTIL_CLAMP_MAX"

    public static var kind: String { "scheduler flag" }
}

/// I/O priority of the process, as for ioprio_set(2).
public struct LinuxIOPriority: Codable, Equatable, Sendable {
    /// The I/O scheduling class.
    public var `class`: IOPriorityClass
    /// Priority within the class, 0 (highest) ... 7 (lowest).
    public var priority: Int

    public init(class: IOPriorityClass, priority: Int) {
        self.class = `class`
        self.priority = priority
    }
}

/// An I/O scheduling class.
public enum IOPriorityClass: String, SpecEnum {
    case rt = "IOPRIO_CLASS_RT"
    case be = "IOPRIO_CLASS_BE"
    case idle = "IOPRIO_CLASS_IDLE"

    public static var kind: String { "I/O priority class" }
}

/// CPU affinity for `exec`'d processes, as CPU lists like "0-3,7".
public struct CPUAffinity: Codable, Equatable, Sendable {
    /// Affinity while the runtime sets the process up (before it joins the cgroup).
    public var initial: String?
    /// Affinity of the process once it runs (after it joined the cgroup).
    public var `final`: String?

    public init(initial: String? = nil, final: String? = nil) {
        self.initial = initial
        self.final = `final`
    }
}
