// Protecting skiff's own binary from the container (CVE-2019-5736).
//
// The container's init is a clone of skiff: until it calls execve, /proc/PID/exe of
// that process is skiff's binary on the host. A process inside the container that can
// see init (a shared pid namespace, or `exec`) may open /proc/PID/exe, keep the fd,
// and once skiff is gone reopen it for writing through /proc/self/fd/N: the next
// `skiff` anyone runs on the host is then the attacker's program, running as root.
//
// The defence, as in runc: before doing anything for a container, skiff copies its
// binary into a memfd (a file that lives only in memory), seals it against any
// change (F_SEAL_WRITE, SHRINK, GROW, and SEAL so the seals stay), and re-executes
// itself from that memfd. From then on /proc/PID/exe of skiff and of every process it
// clones is the sealed copy: opening it for writing works, but every write or
// truncation fails with EPERM, and the host file is out of reach.
//
// Cost: one copy of the binary per `create`/`run`/`exec` and a second program start;
// measured in docs/security.md. Commands that never touch a container (state, list,
// kill, delete, spec, features) skip it.
import CShim
import Glibc

public enum ExeProtection {
    /// Setting this to 1 in skiff's environment disables the protection. It exists only
    /// to measure the cost and for the regression test's control run; the container
    /// cannot set skiff's environment.
    public static let disableVariable = "SKIFF_UNSAFE_NO_EXE_COPY"

    /// Commands that clone or enter a container and so expose skiff's binary to it.
    static let exposingCommands: Set<String> = ["create", "run", "exec"]

    /// Called first thing in main(). Returns when skiff already runs from a sealed
    /// copy (or the command does not need one); otherwise re-executes skiff from a
    /// sealed memfd and never returns. Throws when the copy cannot be made: running
    /// unprotected silently would be worse than a clear error.
    public static func reexecFromSealedCopyIfNeeded(arguments: [String]) throws {
        guard arguments.dropFirst().contains(where: { exposingCommands.contains($0) }) else { return }
        if let off = getenv(disableVariable), String(cString: off) == "1" { return }
        if runningFromSealedCopy() {
            _ = sk_set_name("skiff") // not "memfd:skiff" in ps and /proc/PID/comm
            return
        }
        // main() has not parsed the flags yet; --explain should show this step too.
        if arguments.contains("--explain") || getenv("SKIFF_EXPLAIN").map({ String(cString: $0) == "1" }) == true {
            Explain.enabled = true
        }

        let copy = try sealedCopyOfSelf()
        flushStdio()
        let cArgs = arguments.map { strdup($0) } + [nil]
        Explain.note("protect binary", "execveat(sealed memfd copy of /proc/self/exe)")
        _ = sk_execveat_fd(copy, cArgs)
        let e = errno
        close(copy)
        throw SkiffError("protect skiff's binary (CVE-2019-5736): execveat of the sealed copy: \(errnoText(e))")
    }

    /// Is /proc/self/exe a memfd carrying every seal? (An ordinary file has no seals:
    /// F_GET_SEALS fails with EINVAL.)
    public static func runningFromSealedCopy() -> Bool {
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return false }
        defer { close(fd) }
        return sk_fully_sealed(sk_get_seals(fd)) == 1
    }

    /// memfd_create + copy of /proc/self/exe + seals; returns the memfd (O_CLOEXEC).
    static func sealedCopyOfSelf() throws -> Int32 {
        func fail(_ what: String) -> SkiffError {
            SkiffError("protect skiff's binary (CVE-2019-5736): \(what): \(errnoText())")
        }
        let exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        if exe < 0 { throw fail("open /proc/self/exe") }
        defer { close(exe) }
        let memfd = sk_memfd_create("skiff")
        if memfd < 0 { throw fail("memfd_create") }
        let copied = Explain.step("protect binary", "memfd_create(\"skiff\") + sendfile(/proc/self/exe)", result: { "\($0) bytes" }) {
            sk_copy_fd(memfd, exe)
        }
        if copied <= 0 { let e = fail("copy /proc/self/exe"); close(memfd); throw e }
        let sealed = Explain.step("seal binary", "fcntl(F_ADD_SEALS, SEAL|SHRINK|GROW|WRITE)") { sk_seal_all(memfd) }
        if sealed != 0 { let e = fail("seal the copy"); close(memfd); throw e }
        return memfd
    }
}
