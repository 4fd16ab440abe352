// `--rootfs DIR|TARBALL`: a directory is used as it is (as the read-only lower layer);
// a .tar or .tar.gz is unpacked once into a cache keyed by its SHA-256.
import Glibc

public enum RootfsCache {
    /// $SKIFF_CACHE, else /var/lib/skiff/rootfs.
    static var directory: String {
        getenv("SKIFF_CACHE").map { String(cString: $0) } ?? "/var/lib/skiff/rootfs"
    }

    /// The directory to use as the root for `path`.
    ///
    /// The tarball is opened once: the bytes hashed are the bytes unpacked (hashing by
    /// path, then unpacking by path again, let a file swapped in between poison the cache
    /// entry of the first one's hash; review L3). tar runs as root on untrusted input; its
    /// own rules refuse `..`, absolute names and links that leave the tree. Device nodes
    /// in the archive are removed before the tree is renamed into place: an image must not
    /// bring the host's disks into the lower layer (the container's device rules are the
    /// other defence). Setuid bits and owners are kept, as Docker keeps them.
    public static func prepare(_ path: String) throws -> String {
        let abs = absolutePath(path, relativeTo: currentDirectory())
        if isDirectory(abs) { return abs }
        guard fileExists(abs) else { throw SkiffError("--rootfs \(path): \(errnoText())") }
        guard abs.hasSuffix(".tar") || abs.hasSuffix(".tar.gz") || abs.hasSuffix(".tgz") else {
            throw SkiffError("--rootfs \(path): expected a directory, a .tar or a .tar.gz")
        }
        let fd = try sys("--rootfs \(path): open") { open(abs, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        let sum: String = try Explain.step("hash tarball", "sha256(\(abs))", result: { $0 }) {
            guard let s = try SHA256.file(fd: fd) else { throw SkiffError("--rootfs \(path): \(errnoText())") }
            return s
        }
        let dest = directory + "/" + sum
        if isDirectory(dest) {
            Explain.note("cached rootfs", dest)
            return dest
        }
        try mkdirAll(directory, mode: 0o700)
        let tmp = dest + ".tmp.\(getpid())"
        removeAll(tmp)
        try sys("mkdir \(tmp)") { mkdir(tmp, 0o755) }
        guard let tar = (["/usr/bin/tar", "/bin/tar"] as [String]).first(where: { access($0, X_OK) == 0 }) else {
            removeAll(tmp)
            throw SkiffError("--rootfs \(path): unpacking needs tar (apt-get install tar)")
        }
        do {
            // tar reads the same open file from its start; from a pipe it cannot guess the
            // compression, so gzip (1f 8b) is named.
            var magic: [UInt8] = [0, 0]
            guard lseek(fd, 0, SEEK_SET) == 0, pread(fd, &magic, 2, 0) >= 0 else {
                throw SkiffError("rewind: \(errnoText())")
            }
            let gzip = magic == [0x1f, 0x8b]
            try Explain.step("unpack rootfs", "tar -x\(gzip ? "z" : "")f - -C \(tmp) < \(abs)") {
                try Subprocess.run(
                    tar, args: ["tar", "--numeric-owner", gzip ? "-xzpf" : "-xpf", "-", "-C", tmp],
                    env: ["PATH=/usr/bin:/bin"], stdinFd: fd)
            }
            let removed = removeDeviceNodes(tmp)
            if !removed.isEmpty {
                Log.warn(
                    "--rootfs \(path): device nodes removed from the unpacked tree: "
                        + "\(removed.prefix(5).joined(separator: ", "))\(removed.count > 5 ? ", ..." : "")"
                )
            }
            try sys("rename \(tmp)") { rename(tmp, dest) }
        } catch {
            removeAll(tmp)
            throw SkiffError("--rootfs \(path): unpacking failed: \(error)")
        }
        return dest
    }

    /// Remove every block and character device under `dir` (walking by fd, never following
    /// symlinks); returns their paths relative to `dir`.
    static func removeDeviceNodes(_ dir: String) -> [String] {
        var removed: [String] = []
        func walk(_ fd: Int32, _ rel: String) {
            guard let d = fdopendir(fd) else {
                close(fd)
                return
            }
            defer { closedir(d) }
            var names: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) {
                    String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
                }
                if n != "." && n != ".." { names.append(n) }
            }
            for n in names {
                var st = stat()
                guard fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let type = st.st_mode & S_IFMT
                if type == S_IFBLK || type == S_IFCHR {
                    if unlinkat(dirfd(d), n, 0) == 0 { removed.append(rel + "/" + n) }
                } else if type == S_IFDIR {
                    let sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if sub >= 0 { walk(sub, rel + "/" + n) }
                }
            }
        }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { walk(fd, "") }
        return removed
    }
}
