// Protecting skiff's own binary from the container (CVE-2019-5736).
//
// The container's init is a clone of skiff: until it calls execve, /proc/PID/exe of
// that process is skiff's binary on the host. A process inside the container that can
// see init (a shared pid namespace, or `exec`) may open /proc/PID/exe, keep the fd,
// and once skiff is gone reopen it for writing through /proc/self/fd/N: the next
// `skiff` anyone runs on the host is then the attacker's program, running as root.
//
// The defence, as in runc: before doing anything for a container, skiff re-executes
// itself from a copy of its binary that cannot be written:
//  1. preferred, cheap: a detached read-only copy of the mount holding the binary
//     (open_tree + mount_setattr, never attached to any mount table). /proc/PID/exe
//     then lives on a read-only mount that no namespace can see or remount: opening it
//     for writing fails with EROFS. Two syscalls and a second program start (no copy).
//  2. fallback, where mounting is not allowed: a memfd (a file that lives only in
//     memory) holding a copy of the binary, sealed against any change (F_SEAL_WRITE,
//     SHRINK, GROW, and SEAL so the seals stay): every write fails with EPERM. This
//     costs a copy of the 17 MB static binary and page-faulting it in (~25 ms).
// When skiff already runs from a read-only mount (or a sealed memfd) nothing is done.
// Costs are measured in docs/security.md. Commands that never touch a container
// (state, list, kill, delete, spec, features) skip it.
import CShim
import Glibc

public enum ExeProtection {
    /// Setting this to 1 in skiff's environment disables the protection. It exists only
    /// to measure the cost and for the regression test's control run; the container
    /// cannot set skiff's environment.
    public static let disableVariable = "SKIFF_UNSAFE_NO_EXE_COPY"

    /// Commands that clone or enter a container and so expose skiff's binary to it.
    /// (`start` and `restart` launch a stopped quick-run container again, Detached.swift.)
    static let exposingCommands: Set<String> = ["create", "run", "exec", "start", "restart"]

    /// Called first thing in main(). Returns when skiff already runs from a sealed
    /// copy (or the command does not need one); otherwise re-executes skiff from a
    /// sealed memfd and never returns. Throws when the copy cannot be made: running
    /// unprotected silently would be worse than a clear error.
    public static func reexecFromSealedCopyIfNeeded(arguments: [String]) throws {
        guard arguments.dropFirst().contains(where: { exposingCommands.contains($0) }) else { return }
        if let off = getenv(disableVariable), String(cString: off) == "1" { return }
        if runningFromSealedCopy() || runningFromReadOnlyMount() {
            _ = sk_set_name("skiff") // not "memfd:skiff" in ps and /proc/PID/comm
            return
        }
        // main() has not parsed the flags yet; --explain should show this step too.
        if arguments.contains("--explain") || getenv("SKIFF_EXPLAIN").map({ String(cString: $0) == "1" }) == true {
            Explain.enabled = true
        }

        let readOnly = readOnlyBindOfSelf()
        let copy = try readOnly ?? sealedCopyOfSelf()
        flushStdio()
        let cArgs = arguments.map { strdup($0) } + [nil]
        Explain.note(
            "protect binary",
            readOnly != nil
                ? "execveat(read-only bind mount of /proc/self/exe)"
                : "execveat(sealed memfd copy of /proc/self/exe)")
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

    /// Is /proc/self/exe on a read-only mount (the detached bind, or a read-only /usr)?
    static func runningFromReadOnlyMount() -> Bool {
        var st = statvfs()
        return statvfs("/proc/self/exe", &st) == 0 && (UInt(st.f_flag) & SK_MS_RDONLY) != 0
    }

    /// A read-only bind mount of /proc/self/exe that is never attached anywhere:
    /// open_tree(OPEN_TREE_CLONE) makes a detached copy of the mount holding the binary,
    /// mount_setattr makes it read-only while no one can see it, and the O_PATH fd it
    /// returns is all that keeps it alive. An earlier version bound the binary on a file
    /// in /tmp for a moment: that mount propagated, still writable, to every namespace
    /// slave to the host's /tmp, where a watcher could grab a writable handle (security
    /// review, finding M3). nil when the kernel lacks the new mount API (before 5.12) or
    /// mounting is not allowed: then the memfd copy is used.
    static func readOnlyBindOfSelf() -> Int32? {
        let start = monotonicNanos()
        let tree = sk_open_tree(AT_FDCWD, "/proc/self/exe", SK_OPEN_TREE_CLONE)
        if tree < 0 { return nil }
        let ro = SK_MOUNT_ATTR_RDONLY | SK_MOUNT_ATTR_NOSUID | SK_MOUNT_ATTR_NODEV
        guard sk_mount_setattr(tree, 0, ro, 0, 0) == 0 else {
            close(tree)
            return nil
        }
        let ms = Explain.formatMillis(Double(monotonicNanos() - start) / 1e6)
        Explain.note(
            "protect binary",
            "open_tree(/proc/self/exe, OPEN_TREE_CLONE) + mount_setattr(RDONLY), never attached (\(ms) ms)")
        return tree
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
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        let copied = Explain.step(
            "protect binary", "memfd_create(\"skiff\") + sendfile(/proc/self/exe)", result: { "\($0) bytes" }
        ) {
            sk_copy_fd(memfd, exe)
        }
        if copied <= 0 {
            let e = fail("copy /proc/self/exe")
            close(memfd)
            throw e
        }
        let sealed = Explain.step("seal binary", "fcntl(F_ADD_SEALS, SEAL|SHRINK|GROW|WRITE)") { sk_seal_all(memfd) }
        if sealed != 0 {
            let e = fail("seal the copy")
            close(memfd)
            throw e
        }
        return memfd
    }
}
