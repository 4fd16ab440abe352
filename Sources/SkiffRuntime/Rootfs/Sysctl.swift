// linux.sysctl: kernel parameters written under /proc/sys for the container.
//
// Only parameters that belong to a namespace the container owns may be set
// (net.* with a network namespace, the IPC ones with an IPC namespace,
// kernel.domainname with a UTS namespace); anything else would change the whole host.
// The spec validator refuses the others when config.json is read, with the reason
// (`linux.sysctl["kernel.panic"]: not in a separate kernel namespace`).
//
// The write itself goes through the container's own /proc, mounted by then, and the
// path is resolved so that nothing in the rootfs can redirect it (CVE-2025-52881: a
// rootfs whose /proc is not procfs, or holds symlinks, must not make the runtime write
// somewhere else): /proc/sys is opened inside the rootfs and must be procfs, the key
// is resolved beneath it with no symlinks and no mount crossings, and the file
// finally opened must be procfs too.
import CShim
import Glibc

enum Sysctl {
    static func apply(_ settings: [String: String], in root: RootDir) throws {
        if settings.isEmpty { return }
        let procSys = try root.open("/proc/sys", flags: SK_O_PATH | O_DIRECTORY, noSymlinks: true)
        defer { close(procSys) }
        try requireFilesystem(procSys, FSMagic.proc, "linux.sysctl: /proc/sys in the container")
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            let field = "linux.sysctl[\"\(key)\"]"
            let rel = relativePath(key)
            guard !rel.isEmpty, !rel.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
                throw SkiffError("\(field): not a sysctl name")
            }
            let fd = sk_openat2(
                procSys, rel, UInt64(O_WRONLY | O_CLOEXEC), 0,
                SK_RESOLVE_BENEATH | SK_RESOLVE_NO_SYMLINKS | SK_RESOLVE_NO_MAGICLINKS | SK_RESOLVE_NO_XDEV)
            if fd < 0 { throw SkiffError("\(field): /proc/sys/\(rel): \(errnoText())") }
            defer { close(fd) }
            try requireFilesystem(fd, FSMagic.proc, "\(field): /proc/sys/\(rel)")
            try Explain.step("sysctl", "write /proc/sys/\(rel) = \(value)") {
                let bytes = Array(value.utf8)
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
                if n < 0 { throw SkiffError("\(field): write \(value): \(errnoText())") }
            }
        }
    }

    /// "net.ipv4.ip_forward" → "net/ipv4/ip_forward". sysctl(8) also accepts the
    /// slashed form, where a dot is part of a name ("net/ipv4/conf/eth0.100/forwarding").
    static func relativePath(_ key: String) -> String {
        guard let first = key.first(where: { $0 == "." || $0 == "/" }) else { return key }
        if first == "/" { return key.split(separator: "/").joined(separator: "/") }
        return key.split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/")
    }
}
