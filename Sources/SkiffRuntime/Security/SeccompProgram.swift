// A compiled seccomp filter: the BPF program libseccomp generated for linux.seccomp,
// ready to load with one seccomp(2) call.
//
// Compiling Docker's default profile (362 rules) takes libseccomp ~14 ms of CPU, more
// than the rest of a container's start. The program it produces depends only on the
// profile, the architecture, the kernel and the libseccomp version, so skiff compiles
// it once, keeps it in the state root (SeccompCache.swift), and gives each container's
// init the ready program, made before the clone. Init then loads it itself, which is
// all libseccomp's seccomp_load does in the end:
//
//     seccomp(SECCOMP_SET_MODE_FILTER, flags, &{length, instructions})
//
// with flags LOG and SPEC_ALLOW from linux.seccomp.flags, and NEW_LISTENER when a rule
// notifies (the call then returns the listener fd). TSYNC is left out, as before:
// init is single-threaded. no_new_privs is process.noNewPrivileges' business.
import CShim
import Glibc
import SkiffSpec

struct SeccompProgram: Equatable {
    /// struct sock_filter instructions, 8 bytes each, in the machine's byte order.
    let instructions: [UInt8]
    /// Rules libseccomp was given (for --explain).
    let ruleCount: Int
    /// A rule notifies: load with NEW_LISTENER and hand the listener fd over.
    let usesNotify: Bool
    /// SECCOMP_FILTER_FLAG_LOG and _SPEC_ALLOW, as the profile asks.
    let flags: UInt32

    static let flagLog: UInt32 = 1 << 1 // SECCOMP_FILTER_FLAG_LOG
    static let flagSpecAllow: UInt32 = 1 << 2 // SECCOMP_FILTER_FLAG_SPEC_ALLOW
    static let flagNewListener: UInt32 = 1 << 3 // SECCOMP_FILTER_FLAG_NEW_LISTENER
    /// The kernel's limit on a filter's length (BPF_MAXINSNS).
    static let maxInstructions = 4096

    var instructionCount: Int { instructions.count / 8 }

    /// The seccomp(2) flags for linux.seccomp.flags (TSYNC: nothing to synchronise).
    static func kernelFlags(_ flags: [LinuxSeccompFlag]?) -> UInt32 {
        var out: UInt32 = 0
        for flag in flags ?? [] {
            switch flag {
            case .log: out |= flagLog
            case .specAllow: out |= flagSpecAllow
            case .tsync, .waitKillableRecv: break // the second is refused when compiling
            }
        }
        return out
    }

    /// The program for `config`: from the cache in `stateRoot` when it holds a sound
    /// one, else compiled with libseccomp (and then cached). Runs in skiff, before the
    /// clone; a bad profile fails here, before anything is made.
    static func prepare(_ config: LinuxSeccomp, stateRoot: String) throws -> SeccompProgram {
        let cache = SeccompCache(stateRoot: stateRoot)
        let key = cache.key(for: config)
        switch cache.lookup(key) {
        case .hit(let program):
            Explain.note(
                "seccomp cache",
                "hit: \(cache.path(key)) (\(program.ruleCount) rules, \(program.instructionCount) BPF instructions)")
            return program
        case .miss:
            Explain.note("seccomp cache", "miss: \(cache.path(key)), compiling")
        case .rejected(let why):
            Log.warn("seccomp cache: \(cache.path(key)): \(why); not used, compiling the filter again")
            Explain.note("seccomp cache", "rejected: \(cache.path(key)): \(why); compiling")
        }
        let compile = { () throws -> SeccompProgram in
            let filter = try SeccompFilter(config)
            defer { filter.release() }
            return try filter.program(flags: config.flags)
        }
        let program = try Explain.step(
            "seccomp compile", "libseccomp, \(config.syscalls?.count ?? 0) entries in linux.seccomp.syscalls",
            result: { (p: SeccompProgram) in "\(p.instructionCount) BPF instructions" }, compile)
        do {
            try cache.store(program, key: key)
            Explain.note("seccomp cache", "stored: \(cache.path(key))")
        } catch {
            Log.debug("seccomp cache: not stored: \(error)") // only the next start pays for it
        }
        return program
    }

    /// The --explain line for `load`, printed by the caller beforehand: once the filter
    /// is in place, skiff writes nothing more.
    func explain() {
        Explain.note(
            "syscall filter",
            "seccomp(SECCOMP_SET_MODE_FILTER, \(ruleCount) rules\(usesNotify ? ", NEW_LISTENER" : ""))")
    }

    /// Load the filter into the kernel for this process and its future children.
    /// Returns the notify listener fd, or -1 when no rule notifies.
    func load() throws -> Int32 {
        let flags = self.flags | (usesNotify ? Self.flagNewListener : 0)
        let rc = instructions.withUnsafeBytes {
            sk_seccomp_set_filter(flags, $0.baseAddress, UInt16(instructionCount))
        }
        if rc < 0 {
            let e = errno
            throw SkiffError("linux.seccomp: load the filter: \(errnoText(e))", code: e)
        }
        return usesNotify ? rc : -1
    }
}
