// Skiff's default seccomp profile, in the spirit of Docker's: an allowlist. Every
// system call not named here fails with EPERM. What a container may call depends on its
// capabilities: mount, unshare, setns, bpf... only with CAP_SYS_ADMIN; ptrace only
// with CAP_SYS_PTRACE; and so on, because the kernel would refuse those calls without
// the capability anyway, and the filter keeps their (large, often buggy) code paths out
// of reach of containers that could never use them legitimately.
//
// Some calls are never allowed, whatever the capabilities: the kernel keyring (keyctl,
// add_key, request_key: not namespaced, shared with the host), kexec, swap, userfaultfd
// (a favourite of kernel exploits), io_uring (a large attack surface that bypasses this
// filter for the I/O it performs), and obsolete calls (uselib, ustat, sysfs, _sysctl).
//
// `skiff spec` stays runc-like and has no filter; the one-command `skiff run --rootfs`
// uses this profile unless told otherwise. profiles/seccomp-default.json is this
// profile rendered for Docker's default capability set on x86_64 (a unit test keeps
// the two equal), to read, or to edit and pass with --security-opt seccomp=FILE.

extension LinuxSeccomp {
    /// The default profile for a container whose bounding set is `capabilities`,
    /// on `arch` (the architecture skiff runs on by default).
    public static func skiffDefault(capabilities: [String], arch: Arch = Arch.native) -> LinuxSeccomp {
        let caps = Set(capabilities)
        var rules = [
            LinuxSyscall(names: SeccompProfile.allowed + (SeccompProfile.archAllowed[arch] ?? []), action: .allow)
        ]

        // personality(2): only the harmless personas (query, Linux, 32-bit, uname26).
        for persona: UInt64 in [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff] {
            rules.append(
                LinuxSyscall(
                    names: ["personality"], action: .allow,
                    args: [LinuxSeccompArg(index: 0, value: persona, op: .equalTo)]))
        }
        // socket(2): every family but AF_VSOCK (40), which reaches the hypervisor.
        rules.append(
            LinuxSyscall(
                names: ["socket"], action: .allow,
                args: [LinuxSeccompArg(index: 0, value: 40, op: .notEqual)]))

        for (cap, names) in SeccompProfile.byCapability where caps.contains(cap) {
            rules.append(LinuxSyscall(names: names, action: .allow))
        }
        if !caps.contains("CAP_SYS_ADMIN") {
            // clone(2) for threads and processes, not for new namespaces: the
            // CLONE_NEW* bits must all be clear. (s390 swaps clone's first two arguments.)
            let flagsArg: UInt = arch == .s390 || arch == .s390x ? 1 : 0
            rules.append(
                LinuxSyscall(
                    names: ["clone"], action: .allow,
                    args: [
                        LinuxSeccompArg(
                            index: flagsArg, value: SeccompProfile.cloneNamespaceFlags, valueTwo: 0, op: .maskedEqual)
                    ]))
            // clone3(2) passes its flags in memory, where seccomp cannot look: make it
            // "not implemented" so the C library falls back to clone(2), checked above.
            rules.append(LinuxSyscall(names: ["clone3"], action: .errno, errnoRet: 38)) // ENOSYS
        }
        return LinuxSeccomp(
            defaultAction: .errno, defaultErrnoRet: 1, // EPERM
            architectures: SeccompProfile.compatibleArchitectures[arch] ?? [arch], syscalls: rules)
    }
}

extension Arch {
    /// The architecture this build of Skiff runs on.
    public static var native: Arch {
        #if arch(x86_64)
            return .x86_64
        #elseif arch(arm64)
            return .aarch64
        #elseif arch(s390x)
            return .s390x
        #elseif arch(powerpc64le)
            return .ppc64le
        #elseif arch(riscv64)
            return .riscv64
        #else
            return .x86_64
        #endif
    }
}

/// The data of the default profile.
public enum SeccompProfile {
    /// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.
    static let cloneNamespaceFlags: UInt64 = 0x7E02_0000

    /// The ABIs a native program may also use (a 64-bit x86 kernel runs 32-bit and
    /// x32 programs): the filter must cover each, or they would bypass it.
    static let compatibleArchitectures: [Arch: [Arch]] = [
        .x86_64: [.x86_64, .x86, .x32],
        .aarch64: [.aarch64, .arm],
        .mips64: [.mips64, .mips, .mips64n32],
        .mipsel64: [.mipsel64, .mipsel, .mipsel64n32],
        .s390x: [.s390x, .s390],
        .riscv64: [.riscv64],
        .ppc64le: [.ppc64le],
    ]

    /// Allowed for every container, grouped by what they are for. Names this
    /// libseccomp or architecture does not know are skipped when the filter is built.
    static let allowed: [String] =
        files + memory + processes + identity + signals + time + events + network + ipc + misc

    static let files = [
        "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat", "dup",
        "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
        "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
        "fgetxattr",
        "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
        "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "lchown", "lchown32", "lgetxattr",
        "link", "linkat", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "lstat64",
        "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open", "openat", "openat2",
        "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir", "sendfile", "sendfile64",
        "setxattr", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
        "sync_file_range", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime",
        "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev",
    ]

    static let memory = [
        "brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2", "mlockall",
        "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free",
        "pkey_mprotect", "remap_file_pages",
    ]

    static let processes = [
        "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork", "futex", "futex_time64",
        "futex_waitv", "get_robust_list", "set_robust_list", "get_thread_area", "set_thread_area", "set_tid_address",
        "getcpu", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "setpriority", "getrlimit", "setrlimit",
        "prlimit64", "ugetrlimit", "getrusage", "getsid", "setsid", "setpgid", "gettid", "ioprio_get", "ioprio_set",
        "kill", "tgkill", "tkill", "pidfd_open", "pidfd_send_signal", "prctl", "process_mrelease", "rseq",
        "restart_syscall", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
        "wait4", "waitid", "waitpid", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    ]

    static let identity = [
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
        "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid", "getuid32", "setfsgid", "setfsgid32",
        "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32",
    ]

    static let signals = [
        "alarm", "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
        "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "sigaction", "signal", "sigpending", "sigsuspend",
    ]

    static let time = [
        "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
        "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer", "setitimer", "gettimeofday",
        "nanosleep", "time", "times", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
        "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
    ]

    static let events = [
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
        "epoll_wait_old", "eventfd", "eventfd2", "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64",
        "select", "_newselect", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
        "io_setup", "io_submit",
    ]

    static let network = [
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "setsockopt", "listen",
        "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto",
        "shutdown", "socketcall", "socketpair",
    ]

    static let ipc = [
        "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
        "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "pipe", "pipe2",
    ]

    static let misc = ["getrandom", "ioctl", "sysinfo", "uname"]

    /// Calls only some architectures have or need.
    static let archAllowed: [Arch: [String]] = [
        .x86_64: ["arch_prctl", "modify_ldt"],
        .x86: ["modify_ldt"],
        .aarch64: [
            "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls",
        ],
        .arm: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
        .ppc64le: ["sync_file_range2", "swapcontext"],
        .s390x: ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
        .riscv64: ["riscv_flush_icache"],
    ]

    /// Calls allowed only with a capability, because they need it.
    static let byCapability: [(String, [String])] = [
        (
            "CAP_SYS_ADMIN",
            [
                "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
                "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "pivot_root", "quotactl",
                "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
            ]
        ),
        (
            "CAP_SYS_PTRACE",
            ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]
        ),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
    ]

    /// Docker's default capability set (what profiles/seccomp-default.json is rendered for).
    public static let dockerDefaultCapabilities = [
        "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_MKNOD",
        "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
        "CAP_SYS_CHROOT",
    ]
}
