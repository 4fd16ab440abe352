// Cgroup v2: where the hierarchy is mounted, where a container's cgroup goes, making and
// removing it, and the core files every non-root cgroup has whatever the controllers:
// cgroup.procs (members), cgroup.freeze (pause), cgroup.kill, cgroup.events (populated).
//
// Paths called "cgroup path" here are relative to the hierarchy's root and start with
// "/", as in /proc/PID/cgroup ("/skiff/ID"); `Cgroup.directory` turns one into a file
// system path under the mount point.
import CShim
import Glibc
import SkiffSpec

public enum Cgroup {
    /// Where the cgroup2 hierarchy is mounted ("" when there is none): /sys/fs/cgroup on a
    /// pure v2 host, /sys/fs/cgroup/unified on a hybrid one. Found in /proc/self/mountinfo.
    public static let mountPoint: String = findMountPoint() ?? ""

    /// Is there a cgroup2 hierarchy at all?
    static var available: Bool { !mountPoint.isEmpty }

    /// The directory of a cgroup path.
    static func directory(_ path: String) -> String {
        path == "/" ? mountPoint : mountPoint + path
    }

    static func findMountPoint() -> String? {
        guard let text = readText("/proc/self/mountinfo") else { return nil }
        var found: [String] = []
        for line in text.split(separator: "\n") {
            // "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw"
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2",
                dash >= 5, fields[3] == "/"
            else { continue }
            found.append(unescapeOctal(String(fields[4])))
        }
        // A mount can be covered by a later one (a tmpfs over it): keep only paths where
        // cgroup2 is really what one reaches (CGROUP2_SUPER_MAGIC).
        found = found.filter { path in
            let fd = open(path, SK_O_PATH | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { return false }
            defer { close(fd) }
            return sk_fstatfs_type(fd) == 0x6367_7270
        }
        // Several mounts of the same hierarchy: prefer the usual places.
        return found.first { $0 == "/sys/fs/cgroup" } ?? found.first { $0 == "/sys/fs/cgroup/unified" } ?? found.first
    }

    /// mountinfo writes space, tab, newline and backslash as \040 etc.
    static func unescapeOctal(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
                let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Skiff's own cgroup in the v2 hierarchy: the "0::" line of /proc/self/cgroup.
    static func ownCgroup() -> String {
        for line in (readText("/proc/self/cgroup") ?? "").split(separator: "\n") where line.hasPrefix("0::") {
            let path = String(line.dropFirst(3))
            return path.hasPrefix("/") ? path : "/" + path
        }
        return "/"
    }

    /// Where a container's cgroup goes, as runc's cgroupfs driver does it: an absolute
    /// linux.cgroupsPath is under the hierarchy's root; a relative one under the parent of
    /// skiff's own cgroup (skiff's own has a process in it, skiff, so no controllers can be
    /// enabled for its children); none at all gives /skiff/ID, or /skiff/TAG-ID with a
    /// --root other than /run/skiff (TAG: 8 hex digits of a hash of the root), so that two
    /// state roots may use the same ids. Returns the path and the cgroup it hangs from
    /// (where controllers are first enabled).
    static func containerPath(_ cgroupsPath: String?, id: String, root: String = defaultRoot) throws -> (
        path: String, base: String
    ) {
        let requested = cgroupsPath ?? ""
        let parts = requested.split(separator: "/").filter { $0 != "." }
        if parts.contains("..") { throw SkiffError("linux.cgroupsPath: must not contain \"..\" components") }
        if requested.isEmpty {
            let absRoot = absolutePath(root, relativeTo: currentDirectory())
            return (absRoot == defaultRoot ? "/skiff/" + id : "/skiff/" + rootTag(absRoot) + "-" + id, "/")
        }
        if parts.isEmpty { throw SkiffError("linux.cgroupsPath: \"\(requested)\" is the root of the cgroup hierarchy") }
        if requested.hasPrefix("/") { return ("/" + parts.joined(separator: "/"), "/") }
        let own = ownCgroup()
        let base = own == "/" ? "/" : dirname(of: own)
        return ((base == "/" ? "" : base) + "/" + parts.joined(separator: "/"), base)
    }

    static let defaultRoot = "/run/skiff"

    /// 32-bit FNV-1a of the state root, as 8 hex digits.
    static func rootTag(_ root: String) -> String {
        var h: UInt32 = 2_166_136_261
        for byte in root.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    // MARK: controllers

    /// The controllers a cgroup can give its children (its cgroup.controllers).
    static func controllers(of path: String) -> [String] {
        (readText(directory(path) + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
            .map(String.init)
    }

    static func subtreeControl(of path: String) -> Set<String> {
        Set(
            (readText(directory(path) + "/cgroup.subtree_control") ?? "").split(whereSeparator: {
                $0 == " " || $0 == "\n"
            }).map(String.init))
    }

    /// Enable controllers for the children of `path`, writing only those not on yet.
    static func enableControllers(_ wanted: [String], in path: String) throws {
        let on = subtreeControl(of: path)
        let missing = wanted.filter { !on.contains($0) }
        if missing.isEmpty { return }
        let file = directory(path) + "/cgroup.subtree_control"
        let value = missing.map { "+" + $0 }.joined(separator: " ")
        try Explain.step("enable controllers", "write \(file) = \(value)") {
            let code = writeValue(file, value)
            if code != 0 {
                let why = code == EBUSY ? " (the cgroup has processes of its own)" : ""
                throw SkiffError(
                    "cgroup \(path): cannot enable the \(missing.joined(separator: ", ")) "
                        + "controller\(missing.count > 1 ? "s" : "") in cgroup.subtree_control: "
                        + "\(errnoText(code))\(why)",
                    code: code)
            }
        }
    }

    /// Write a value to a kernel file in one write(2); 0 or the errno.
    static func writeValue(_ file: String, _ value: String) -> Int32 {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        if fd < 0 { return errno }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        while true {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) }
            if n >= 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// writeValue that throws "write FILE = VALUE: reason".
    static func put(_ file: String, _ value: String) throws {
        let code = writeValue(file, value)
        if code != 0 { throw SkiffError("write \(file) = \(value): \(errnoText(code))", code: code) }
    }

    // MARK: make and remove

    /// Make the cgroup `path` below `base`: each missing directory, with `enable` switched
    /// on in every parent's cgroup.subtree_control on the way down. An existing leaf is
    /// reused only when it has no processes. Returns the directories made (outermost
    /// first), which is what to remove if a later step fails. Nothing is left behind when
    /// this throws.
    static func make(_ path: String, base: String, enable: [String]) throws -> [String] {
        let below = String(path.dropFirst(base == "/" ? 1 : base.count + 1)).split(separator: "/").map(String.init)
        var attempt = 0
        while true {
            var made: [String] = []
            do {
                var current = base
                for (i, name) in below.enumerated() {
                    if !enable.isEmpty { try enableControllers(enable, in: current) }
                    current = (current == "/" ? "" : current) + "/" + name
                    let dir = directory(current)
                    let (rc, code) = Explain.step("new cgroup", "mkdir \(dir)") { (mkdir(dir, 0o755), errno) }
                    if rc == 0 {
                        made.append(current)
                        continue
                    }
                    if code == EEXIST && isDirectory(dir) {
                        if i == below.count - 1, !processes(current).isEmpty {
                            throw SkiffError("cgroup \(current) already exists and has processes in it")
                        }
                        continue
                    }
                    throw SkiffError("mkdir \(dir): \(errnoText(code))", code: code)
                }
                return made
            } catch let error as SkiffError {
                for dir in made.reversed() { rmdir(directory(dir)) }
                // A delete of the last container may remove a shared parent (/skiff) between
                // two of our steps: start over.
                attempt += 1
                if error.code == ENOENT && attempt < 5 { continue }
                throw error
            }
        }
    }

    /// Remove a container's cgroup: its own sub-cgroups first (the container may have
    /// made some), retrying while the last killed processes leave; then the default
    /// parent /skiff when it is empty.
    static func remove(_ path: String) throws {
        guard path != "/", !path.isEmpty else { return }
        try removeTree(path)
        if dirname(of: path) == "/skiff" { _ = rmdir(directory("/skiff")) } // EBUSY: others still use it
    }

    private static func removeTree(_ path: String) throws {
        let dir = directory(path)
        guard isDirectory(dir) else { return }
        for name in listDirectory(dir) where isDirectory(dir + "/" + name) { try removeTree(path + "/" + name) }
        for i in 0..<500 {
            let (rc, code) =
                i == 0 ? Explain.step("remove cgroup", "rmdir \(dir)") { (rmdir(dir), errno) } : (rmdir(dir), errno)
            if rc == 0 || code == ENOENT { return }
            if code != EBUSY || i == 499 { throw SkiffError("cannot remove cgroup \(dir): \(errnoText(code))") }
            sleepMillis(10)
        }
    }

    // MARK: processes

    /// The pids in a cgroup and (with `recursive`) in its descendants.
    static func processes(_ path: String, recursive: Bool = false) -> [Int32] {
        let dir = directory(path)
        var pids = (readText(dir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
        if recursive {
            for name in listDirectory(dir) where isDirectory(dir + "/" + name) {
                pids += processes(path + "/" + name, recursive: true)
            }
        }
        return pids
    }

    /// Does the cgroup (or a descendant) still hold a live process? (cgroup.events)
    static func isPopulated(_ path: String) -> Bool {
        guard let text = readText(directory(path) + "/cgroup.events") else { return false }
        return text.split(separator: "\n").contains("populated 1")
    }

    /// Send a signal to every process of the cgroup tree. SIGKILL goes through cgroup.kill
    /// (Linux 5.14+), which also catches processes forked meanwhile.
    static func signalAll(_ path: String, _ signal: Int32) {
        let dir = directory(path)
        if signal == SIGKILL, fileExists(dir + "/cgroup.kill") {
            let ok =
                (try? Explain.step("kill all", "write \(dir)/cgroup.kill = 1") { try put(dir + "/cgroup.kill", "1") })
                != nil
            if ok { return }
        }
        for pid in processes(path, recursive: true) { Glibc.kill(pid, signal) }
    }

    /// Kill everything in the cgroup and wait (up to 10 s) until it is empty.
    static func killAndWait(_ path: String) throws {
        guard isDirectory(directory(path)) else { return }
        var first = true
        for i in 0..<1000 {
            if !isPopulated(path) { return }
            if first || i % 50 == 0 {
                signalAll(path, SIGKILL)
                first = false
            }
            // A frozen cgroup's processes die of SIGKILL too, but thaw it anyway.
            if i == 0 && isFrozen(path) { try? setFrozen(path, false, wait: false) }
            sleepMillis(10)
        }
        throw SkiffError("cgroup \(path) still has processes after SIGKILL")
    }

    /// Put a process into a cgroup (when clone3 could not place it there).
    static func addProcess(_ pid: Int32, to path: String) throws {
        let file = directory(path) + "/cgroup.procs"
        try Explain.step("join cgroup", "write \(file) = \(pid)") { try put(file, "\(pid)") }
    }

    /// An fd on the cgroup's directory for clone3(CLONE_INTO_CGROUP), or -1.
    static func openDirectory(_ path: String) -> Int32 {
        guard available, !path.isEmpty else { return -1 }
        return open(directory(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    /// clone3 straight into a cgroup (`cgroupFd` >= 0); on kernels without
    /// CLONE_INTO_CGROUP (before 5.7) a plain clone3, and the parent moves the child by
    /// writing cgroup.procs before it lets the child go on. Returns like fork().
    static func clone3(_ flags: UInt64, cgroupFd: Int32, path: String) -> pid_t {
        if cgroupFd < 0 { return sk_clone3(flags, -1) }
        let pid = sk_clone3(flags, cgroupFd)
        guard pid < 0, errno == ENOSYS || errno == E2BIG || errno == EINVAL else { return pid }
        let child = sk_clone3(flags, -1)
        if child > 0 {
            do { try addProcess(child, to: path) } catch {
                let code = (error as? SkiffError)?.code ?? EINVAL
                Glibc.kill(child, SIGKILL)
                var status: Int32 = 0
                waitpid(child, &status, 0)
                errno = code
                return -1
            }
        }
        return child
    }

    // MARK: freezer

    /// Is the container's cgroup frozen (paused)? `path` is relative to the cgroup2 root.
    static func isFrozen(_ path: String) -> Bool {
        guard available, !path.isEmpty, let text = readText(directory(path) + "/cgroup.freeze") else { return false }
        return text.hasPrefix("1")
    }

    /// Freeze or thaw through cgroup.freeze; with `wait`, until cgroup.events says so.
    static func setFrozen(_ path: String, _ frozen: Bool, wait: Bool = true) throws {
        let dir = directory(path)
        guard fileExists(dir + "/cgroup.freeze") else {
            throw SkiffError("cgroup \(path) has no cgroup.freeze (the cgroup v2 freezer needs Linux 5.2)")
        }
        try Explain.step(frozen ? "freeze" : "thaw", "write \(dir)/cgroup.freeze = \(frozen ? 1 : 0)") {
            try put(dir + "/cgroup.freeze", frozen ? "1" : "0")
        }
        guard wait else { return }
        let want = "frozen \(frozen ? 1 : 0)"
        for _ in 0..<1000 {
            guard let events = readText(dir + "/cgroup.events") else { return }
            if events.split(separator: "\n").contains(Substring(want)) { return }
            sleepMillis(5)
        }
        throw SkiffError("cgroup \(path) did not become \(frozen ? "frozen" : "thawed") within 5 s")
    }
}
