// The container's root filesystem: make the mount namespace private, mount what the
// spec lists inside the rootfs, populate /dev, write sysctls, mask and protect paths,
// switch root. Runs in the container's init process, inside its new mount namespace.
//
// The rootfs is untrusted: every path under it is resolved with RootDir (SafePath.swift)
// so no symlink leads out of it, the kernel acts on the fd that was checked
// (/proc/self/fd/N), and the results are verified: proc and sysfs go on real
// directories only and must show up as procfs and sysfs, device nodes must be the
// devices asked for, masks use the host's checked /dev/null. Masking happens before the
// root switch for the same reason: /proc/self/fd is still the host's trusted procfs.
import CShim
import Glibc
import SkiffSpec

struct RootfsSetup {
    let spec: Spec
    let rootfs: String // absolute host path
    let bundle: String
    let noPivot: Bool
    let newNetwork: Bool
    /// When set, `rootfs` is its merged directory, mounted here first.
    let overlay: OverlayLayers?
    /// Runs after the mounts, before the root switch (where the create hooks run).
    var beforeSwitch: () throws -> Void = {}

    /// Everything up to and including the root switch. Afterwards "/" is the rootfs.
    func run() throws {
        try makeMountsPrivate()
        try overlay?.mount()
        // pivot_root needs the new root to be a mount point: bind it onto itself.
        try mountFS(rootfs, rootfs, nil, SK_MS_BIND | SK_MS_REC, nil, what: "root filesystem", shown: rootfs)
        let root = try RootDir(path: rootfs)
        defer { root.close() }
        var devIsBind = false
        for (i, m) in (spec.mounts ?? []).enumerated() {
            do { try mount(m, in: root) } catch {
                throw SkiffError("mounts[\(i)] \(m.destination): \((error as? SkiffError)?.message ?? "\(error)")")
            }
            if m.destination == "/dev" && MountOptions(m.options ?? []).isBind { devIsBind = true }
        }
        if !devIsBind {
            try Devices.create(spec.linux?.devices ?? [], in: root)
        }
        try beforeSwitch()
        // sysctls go through the container's /proc/sys, before readonlyPaths covers it.
        try Sysctl.apply(spec.linux?.sysctl ?? [:], in: root)
        let devNull = try Devices.openHostNull()
        defer { close(devNull) }
        for path in spec.linux?.maskedPaths ?? [] { try mask(path, in: root, devNull: devNull) }
        for path in spec.linux?.readonlyPaths ?? [] { try makeReadonly(path, in: root) }
        try switchRoot()
    }

    /// After the switch: propagation and the read-only root.
    func finish() throws {
        if let p = spec.linux?.rootfsPropagation, let flag = MountOptions.propagationTable[p] {
            try mountFS(nil, "/", nil, flag, nil, what: "root propagation", shown: "/")
        }
        if spec.root?.readonly == true {
            let flags = SK_MS_BIND | SK_MS_REMOUNT | SK_MS_RDONLY | existingMountFlags("/")
            try mountFS(nil, "/", nil, flags, nil, what: "read-only root", shown: "/")
        }
    }

    /// No mount made from here on may reach the host: the whole tree becomes private
    /// (or what rootfsPropagation asks for, applied recursively).
    private func makeMountsPrivate() throws {
        var flag = SK_MS_REC | SK_MS_PRIVATE
        if let p = spec.linux?.rootfsPropagation, p.includes("slave") || p.includes("shared") {
            flag = SK_MS_REC | SK_MS_SLAVE // still never propagate back to the host
        }
        try mountFS(nil, "/", nil, flag, nil, what: "private mounts", shown: "/")
    }

    /// One entry of spec.mounts.
    private func mount(_ m: Mount, in root: RootDir) throws {
        let opts = MountOptions(m.options ?? [])
        let type = m.type ?? (opts.isBind ? "bind" : "")
        let isBind = opts.isBind || type == "bind"
        let shown = m.destination
        var flags = opts.flags
        if isBind {
            guard let rawSource = m.source else { throw SkiffError("bind mount needs a source") }
            let source = absolutePath(rawSource, relativeTo: bundle)
            var st = stat()
            guard stat(source, &st) == 0 else { throw SkiffError("source \(source): \(errnoText())") }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            let target = try isDir ? root.mkdirAll(m.destination) : root.createFile(m.destination)
            defer { close(target) }
            try refuseInsideProc(target, m)
            if cleanPath(m.destination) == "/proc" {
                // Only procfs may be bound on /proc (as runc requires).
                let fd = try sys("open \(source)") { open(source, SK_O_PATH | O_CLOEXEC) }
                defer { close(fd) }
                try requireFilesystem(fd, FSMagic.proc, "bind source \(source) for /proc")
            }
            // ro, nosuid, propagation...: set on the new mount before it is attached, so no
            // path is resolved again (a swapped symlink cannot move them elsewhere, M4).
            try bindMount(
                source, onto: target, flags: flags, propagation: opts.propagation, what: "bind mount", shown: shown)
            return
        } else {
            // proc and sysfs only on a real directory: a symlink there (a rootfs with
            // "/proc -> /") would put the kernel's files somewhere the rest of the setup,
            // and the masks, do not expect (runc refuses it too).
            let strict = type == "proc" || type == "sysfs"
            if strict { try root.mkdirAll(m.destination, noSymlinks: true).closeFd() }
            let target = try root.mkdirAll(m.destination)
            defer { close(target) }
            try refuseInsideProc(target, m)
            var fstype = type
            var source = m.source ?? type
            if type == "cgroup" || type == "cgroup2" {
                // A cgroup v1 or hybrid host: a tmpfs with its hierarchies, as runc does
                // (CgroupMount.swift); only for "cgroup": a spec that names "cgroup2" gets
                // one cgroup2 mount there too, as in runc.
                if type == "cgroup", let hierarchies = RootfsSetup.cgroupV1Hierarchies() {
                    try mountCgroupV1(hierarchies, m, opts, on: target, in: root)
                    return
                }
                fstype = "cgroup2"
                source = "cgroup2"
                if !NamespacePlan(spec).isNew(.cgroup) && Cgroup.available {
                    // Without a cgroup namespace a fresh cgroup2 mount would show the whole
                    // host tree (and mounting one can take milliseconds): bind the
                    // container's own cgroup directory instead, as runc does.
                    let own = Cgroup.directory(Cgroup.ownCgroup())
                    let tree = try bindMount(
                        own, onto: target, flags: flags | SK_MS_REC, propagation: opts.propagation,
                        what: "bind cgroup", shown: shown, keep: true)
                    defer { close(tree) }
                    try requireFilesystem(tree, FSMagic.of("cgroup2")!, "\(m.destination) after binding the cgroup")
                    return
                }
            }
            do {
                try mountFS(
                    source, procFdPath(target), fstype, flags, opts.dataString, what: "mount \(fstype)", shown: shown)
            } catch let e as SkiffError where type == "sysfs" && e.code == EPERM && !newNetwork {
                // sysfs can't be mounted without owning the network namespace: bind the host's,
                // as runc does, with the spec's flags (ro, nosuid, nodev, noexec) on it and on
                // every mount below it: without them the host's /sys, cgroup2 included, would be
                // writable by whatever host uid the container maps (CVE-2023-25809, M5).
                let tree = try bindMount(
                    "/sys", onto: target, flags: flags | SK_MS_REC, propagation: opts.propagation,
                    what: "bind sysfs", shown: shown, keep: true, recursiveAttributes: true)
                defer { close(tree) }
                try requireFilesystem(tree, FSMagic.of("sysfs")!, "\(m.destination) after binding sysfs")
                return
            }
            // What is there now must be the filesystem just mounted, on the directory that
            // was checked (not wherever the path leads now).
            let top = try reopenMounted(m.destination, on: target, in: root, noSymlinks: strict)
            defer { close(top) }
            if let magic = FSMagic.of(fstype) {
                try requireFilesystem(top, magic, "\(m.destination) after mounting \(fstype)")
            }
            for p in opts.propagation {
                try mountFS(nil, procFdPath(top), nil, p, nil, what: "mount propagation", shown: shown)
            }
        }
    }

    /// The spec check (SpecValidator.procMountProblem) reads the destination as written;
    /// a symlink in the rootfs (/foo -> /proc) can still lead a target into procfs. What
    /// the target fd is on decides: nothing but the lxcfs files may cover procfs entries.
    private func refuseInsideProc(_ target: Int32, _ m: Mount) throws {
        guard sk_fstatfs_type(target) == FSMagic.proc else { return }
        let dest = cleanPath(m.destination)
        if lxcfsProcFiles.contains(dest) { return }
        throw SkiffError("cannot be mounted because it is inside /proc")
    }

    /// After a mount(2) on the fd `below`: open what `path` leads to now and check it is
    /// the new mount on that very directory (same path, another mount), as runc's
    /// reopenAfterMount does: a rename or symlink swap in between is an error, never a
    /// flag applied to the wrong mount.
    func reopenMounted(_ path: String, on below: Int32, in root: RootDir, noSymlinks: Bool) throws -> Int32 {
        let top = try root.open(path, noSymlinks: noSymlinks)
        let wanted = readLinkText(procFdPath(below))
        let got = readLinkText(procFdPath(top))
        if wanted == nil || wanted != got || sk_mount_id(top) == sk_mount_id(below) {
            close(top)
            throw SkiffError(
                "mountpoint was moved or replaced while it was being mounted (\(got ?? "?") is not \(wanted ?? "?"))")
        }
        return top
    }

    /// pivot_root into the rootfs and detach the old root; or, for --no-pivot (a rootfs
    /// on ramfs, where pivot_root is refused), move the mount onto / and chroot.
    private func switchRoot() throws {
        try sys("chdir \(rootfs)") { chdir(rootfs) }
        if noPivot {
            try mountFS(rootfs, "/", nil, SK_MS_MOVE, nil, what: "switch root", shown: "/")
            try Explain.step("switch root", "chroot(\".\")") { try sys("chroot \(rootfs)") { chroot(".") } }
        } else {
            try Explain.step("switch root", "pivot_root(\".\", \".\")") {
                try sys("pivot_root \(rootfs)") { sk_pivot_root(".", ".") }
            }
            // The old root now sits on top of the new one. Keep its unmount from
            // propagating anywhere, then detach it: the host's mounts vanish from view.
            try sys("make old root slave") { sk_mount(nil, ".", nil, SK_MS_SLAVE | SK_MS_REC, nil) }
            try Explain.step("hide host mounts", "umount2(old root, MNT_DETACH)") {
                try sys("unmount old root") { sk_umount2(".", SK_MNT_DETACH) }
            }
        }
        try sys("chdir /") { chdir("/") }
    }

    /// maskedPaths: a directory gets an empty read-only tmpfs, anything else the host's
    /// /dev/null (opened and checked by the caller). A path that does not exist has
    /// nothing to hide.
    private func mask(_ path: String, in root: RootDir, devNull: Int32) throws {
        guard let target = try root.openIfExists(path) else { return }
        defer { close(target) }
        if isDirectory(fd: target) {
            try mountFS("tmpfs", procFdPath(target), "tmpfs", SK_MS_RDONLY, nil, what: "mask path", shown: path)
        } else {
            try mountFS(procFdPath(devNull), procFdPath(target), nil, SK_MS_BIND, nil, what: "mask path", shown: path)
        }
    }

    /// readonlyPaths: a read-only copy of the path's mount, attached over it. The copy is
    /// made from the fd that was checked and made read-only before anyone can see it; the
    /// flags it already has (nosuid, nodev...: locked in a user namespace) stay.
    private func makeReadonly(_ path: String, in root: RootDir) throws {
        guard let target = try root.openIfExists(path) else { return }
        defer { close(target) }
        try bindMount(
            nil, from: target, onto: target, flags: SK_MS_REC | SK_MS_RDONLY, propagation: [],
            what: "read-only path", shown: path)
    }

    /// Bind `source` (a host path, or the fd `from`) onto the fd `target` with the new
    /// mount API: open_tree(OPEN_TREE_CLONE) makes a detached copy, mount_setattr gives it
    /// `flags` (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, atime) and `propagation` while
    /// nothing can see it, move_mount attaches it onto the target fd. Nothing is resolved
    /// twice, so a symlink swapped in meanwhile cannot make a "ro" volume writable
    /// (CVE-2021-30465 class, review finding M4). MS_REC clones the whole subtree; the
    /// flags apply to its top only, as a bind remount does, unless `recursiveAttributes`.
    /// With `keep` the attached mount's fd is returned (the caller closes it).
    @discardableResult
    func bindMount(
        _ source: String?, from: Int32 = AT_FDCWD, onto target: Int32, flags: UInt, propagation: [UInt],
        what: String, shown: String, keep: Bool = false, recursiveAttributes: Bool = false
    ) throws -> Int32 {
        let recursive = flags & SK_MS_REC != 0
        let (set, rest) = RootfsSetup.mountAttributes(flags & ~(SK_MS_BIND | SK_MS_REC | SK_MS_REMOUNT))
        // Only built for --explain (as in mountFS).
        func call() -> String {
            "open_tree(\"\(source ?? shown)\", OPEN_TREE_CLONE\(recursive ? "|AT_RECURSIVE" : "")) + "
                + "mount_setattr(\(MountOptions.describe(flags & ~(SK_MS_BIND | SK_MS_REC)))) + move_mount(→ "
                + "\"\(shown)\")"
        }
        return try Explain.step(what, call()) {
            let tree = try sys("open_tree \(source ?? shown)") {
                sk_open_tree(
                    from, source ?? "",
                    SK_OPEN_TREE_CLONE | (recursive ? SK_AT_RECURSIVE : 0) | (source == nil ? SK_AT_EMPTY_PATH : 0))
            }
            var done = false
            defer { if !done || !keep { close(tree) } }
            if set != 0 || flags & SK_MS_RELATIME != 0 {
                // An atime mode replaces the old one: the kernel wants the whole field cleared.
                let atime = flags & (SK_MS_NOATIME | SK_MS_STRICTATIME | SK_MS_RELATIME) != 0 ? SK_MOUNT_ATTR__ATIME : 0
                try sys("mount_setattr \(shown)") {
                    sk_mount_setattr(tree, recursiveAttributes ? SK_AT_RECURSIVE : 0, set, atime, 0)
                }
            }
            for p in propagation {
                let type = p & ~SK_MS_REC
                try sys("mount propagation \(shown)") {
                    sk_mount_setattr(tree, p & SK_MS_REC != 0 ? SK_AT_RECURSIVE : 0, 0, 0, UInt64(type))
                }
            }
            try sys("move_mount onto \(shown)") { sk_move_mount_fds(tree, target) }
            if rest != 0 {
                // Flags mount_setattr cannot set (sync, dirsync, mand...): a remount of the
                // mount just attached, through its own fd (still no path lookup).
                let flags = rest | set.msFlags | SK_MS_BIND | SK_MS_REMOUNT | existingMountFlags(procFdPath(tree))
                try sys("remount \(shown)") { sk_mount(nil, procFdPath(tree), nil, flags, nil) }
            }
            done = true
            return tree
        }
    }

    /// mount(2) flags as mount_setattr attributes; what has no attribute is returned apart.
    static func mountAttributes(_ flags: UInt) -> (set: UInt64, rest: UInt) {
        let table: [(UInt, UInt64)] = [
            (SK_MS_RDONLY, SK_MOUNT_ATTR_RDONLY), (SK_MS_NOSUID, SK_MOUNT_ATTR_NOSUID),
            (SK_MS_NODEV, SK_MOUNT_ATTR_NODEV),
            (SK_MS_NOEXEC, SK_MOUNT_ATTR_NOEXEC), (SK_MS_NOATIME, SK_MOUNT_ATTR_NOATIME),
            (SK_MS_STRICTATIME, SK_MOUNT_ATTR_STRICTATIME), (SK_MS_NODIRATIME, SK_MOUNT_ATTR_NODIRATIME),
            (SK_MS_NOSYMFOLLOW, SK_MOUNT_ATTR_NOSYMFOLLOW), (SK_MS_RELATIME, SK_MOUNT_ATTR_RELATIME),
        ]
        var set: UInt64 = 0
        var rest = flags
        for (ms, attr) in table where flags & ms != 0 {
            set |= attr
            rest &= ~ms
        }
        return (set, rest)
    }
}

extension UInt64 {
    /// The mount(2) flags of mount_setattr attributes (for a remount that must keep them).
    fileprivate var msFlags: UInt {
        var f: UInt = 0
        if self & SK_MOUNT_ATTR_RDONLY != 0 { f |= SK_MS_RDONLY }
        if self & SK_MOUNT_ATTR_NOSUID != 0 { f |= SK_MS_NOSUID }
        if self & SK_MOUNT_ATTR_NODEV != 0 { f |= SK_MS_NODEV }
        if self & SK_MOUNT_ATTR_NOEXEC != 0 { f |= SK_MS_NOEXEC }
        return f
    }
}

/// readlink(2) of a path, or nil.
func readLinkText(_ path: String) -> String? {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink(path, &buf, buf.count - 1)
    guard n >= 0 else { return nil }
    return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
