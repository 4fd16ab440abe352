// `--rootfs DIR|TARBALL`: a directory is used as it is (as the read-only lower layer);
// a .tar or .tar.gz is unpacked once into a cache keyed by its SHA-256.
import Glibc

public enum RootfsCache {
    /// $SKIFF_CACHE, else /var/lib/skiff/rootfs.
    static var directory: String {
        getenv("SKIFF_CACHE").map { String(cString: $0) } ?? "/var/lib/skiff/rootfs"
    }

    /// The directory to use as the root for `path`.
    public static func prepare(_ path: String) throws -> String {
        let abs = absolutePath(path, relativeTo: currentDirectory())
        if isDirectory(abs) { return abs }
        guard fileExists(abs) else { throw SkiffError("--rootfs \(path): \(errnoText())") }
        guard abs.hasSuffix(".tar") || abs.hasSuffix(".tar.gz") || abs.hasSuffix(".tgz") else {
            throw SkiffError("--rootfs \(path): expected a directory, a .tar or a .tar.gz")
        }
        let sum: String = try Explain.step("hash tarball", "sha256(\(abs))", result: { $0 }) {
            guard let s = SHA256.file(abs) else { throw SkiffError("--rootfs \(path): \(errnoText())") }
            return s
        }
        let dest = directory + "/" + sum
        if isDirectory(dest) { Explain.note("cached rootfs", dest); return dest }
        try mkdirAll(directory, mode: 0o700)
        let tmp = dest + ".tmp.\(getpid())"
        removeAll(tmp)
        try sys("mkdir \(tmp)") { mkdir(tmp, 0o755) }
        guard let tar = (["/usr/bin/tar", "/bin/tar"] as [String]).first(where: { access($0, X_OK) == 0 }) else {
            removeAll(tmp)
            throw SkiffError("--rootfs \(path): unpacking needs tar (apt-get install tar)")
        }
        do {
            try Explain.step("unpack rootfs", "tar -xf \(abs) -C \(tmp)") {
                try Subprocess.run(tar, args: ["tar", "--numeric-owner", "-xpf", abs, "-C", tmp], env: ["PATH=/usr/bin:/bin"])
            }
            try sys("rename \(tmp)") { rename(tmp, dest) }
        } catch {
            removeAll(tmp)
            throw SkiffError("--rootfs \(path): unpacking failed: \(error)")
        }
        return dest
    }
}
