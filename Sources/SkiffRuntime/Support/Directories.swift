// Directories: is it one, mkdir -p, a symlink-safe rm -r, and listing.
import Glibc

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// mkdir -p.
func mkdirAll(_ path: String, mode: mode_t = 0o755) throws {
    if isDirectory(path) { return }
    let parent = dirname(of: path)
    if parent != path && !parent.isEmpty { try mkdirAll(parent, mode: mode) }
    if mkdir(path, mode) != 0 && errno != EEXIST { throw SkiffError("mkdir \(path): \(errnoText())") }
}

/// rm -rf for the runtime's own directories (state dirs, overlay layers). It walks by
/// file descriptor (openat O_NOFOLLOW, unlinkat) and never follows a symlink nor crosses
/// into another mount: a container may still write to its upper layer while it is removed
/// and swap a directory for a symlink to the host's files; a path-based walk would follow
/// it (security review, L6).
func removeAll(_ path: String) {
    let parent = open(dirname(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if parent < 0 { return }
    defer { close(parent) }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    removeEntry(name, in: parent, device: nil)
}

private func removeEntry(_ name: String, in dir: Int32, device: UInt64?) {
    if unlinkat(dir, name, 0) == 0 || errno == ENOENT { return }
    guard errno == EISDIR || errno == EPERM else { return }
    let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 { return }
    var st = stat()
    guard fstat(fd, &st) == 0, device == nil || UInt64(st.st_dev) == device else {
        close(fd)
        return
    } // another mount
    guard let d = fdopendir(fd) else {
        close(fd)
        return
    }
    var names: [String] = []
    while let e = readdir(d) {
        let n = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if n != "." && n != ".." { names.append(n) }
    }
    for n in names { removeEntry(n, in: dirfd(d), device: UInt64(st.st_dev)) }
    closedir(d)
    unlinkat(dir, name, AT_REMOVEDIR)
}

/// Names in a directory, without "." and "..".
func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
