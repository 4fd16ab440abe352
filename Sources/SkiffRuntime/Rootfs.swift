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
    let rootfs: String      // absolute host path
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
        if let p = spec.linux?.rootfsPropagation, p.contains("slave") || p.contains("shared") {
            flag = SK_MS_REC | SK_MS_SLAVE   // still never propagate back to the host
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
            try mountFS(source, procFdPath(target), nil, SK_MS_BIND | (flags & SK_MS_REC), nil, what: "bind mount", shown: shown)
            close(target)
            // A bind mount ignores other flags: they take a remount of the new mount.
            let rest = flags & ~(SK_MS_BIND | SK_MS_REC | SK_MS_REMOUNT)
            if rest != 0 {
                let top = try root.open(m.destination)
                defer { close(top) }
                try mountFS(nil, procFdPath(top), nil, rest | SK_MS_BIND | SK_MS_REMOUNT | existingMountFlags(procFdPath(top)),
                            nil, what: "bind remount", shown: shown)
            }
        } else {
            // proc and sysfs only on a real directory: a symlink there (a rootfs with
            // "/proc -> /") would put the kernel's files somewhere the rest of the setup,
            // and the masks, do not expect (runc refuses it too).
            let strict = type == "proc" || type == "sysfs"
            if strict { try root.mkdirAll(m.destination, noSymlinks: true).closeFd() }
            let target = try root.mkdirAll(m.destination)
            defer { close(target) }
            var fstype = type
            var source = m.source ?? type
            if type == "cgroup" || type == "cgroup2" {
                fstype = "cgroup2"; source = "cgroup2"
                if !NamespacePlan(spec).isNew(.cgroup) && Cgroup.available {
                    // Without a cgroup namespace a fresh cgroup2 mount would show the whole
                    // host tree (and mounting one can take milliseconds): bind the
                    // container's own cgroup directory instead, as runc does.
                    let own = Cgroup.directory(Cgroup.ownCgroup())
                    try mountFS(own, procFdPath(target), nil, SK_MS_BIND | SK_MS_REC, nil, what: "bind cgroup", shown: shown)
                    let top = try root.open(m.destination)
                    defer { close(top) }
                    try mountFS(nil, procFdPath(top), nil, flags | SK_MS_BIND | SK_MS_REMOUNT, nil, what: "bind remount", shown: shown)
                    try requireFilesystem(top, FSMagic.of("cgroup2")!, "\(m.destination) after binding the cgroup")
                    return
                }
            }
            do {
                try mountFS(source, procFdPath(target), fstype, flags, opts.dataString, what: "mount \(fstype)", shown: shown)
            } catch let e as SkiffError where type == "sysfs" && e.code == EPERM && !newNetwork {
                // sysfs can't be mounted without owning the network namespace: bind the host's, as runc does.
                flags = SK_MS_BIND | SK_MS_REC
                try mountFS("/sys", procFdPath(target), nil, flags, nil, what: "bind sysfs", shown: shown)
            }
            // What is there now must be the filesystem just mounted.
            if let magic = FSMagic.of(fstype) {
                let top = try root.open(m.destination, noSymlinks: strict)
                defer { close(top) }
                try requireFilesystem(top, magic, "\(m.destination) after mounting \(fstype)")
            }
        }
        for p in opts.propagation {
            let top = try root.open(m.destination)
            defer { close(top) }
            try mountFS(nil, procFdPath(top), nil, p, nil, what: "mount propagation", shown: shown)
        }
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

    /// readonlyPaths: bind the path onto itself, then remount that new mount read-only,
    /// keeping the flags it already has (nosuid, nodev...: the kernel refuses to drop
    /// them in a user namespace).
    private func makeReadonly(_ path: String, in root: RootDir) throws {
        guard let target = try root.openIfExists(path) else { return }
        defer { close(target) }
        try mountFS(procFdPath(target), procFdPath(target), nil, SK_MS_BIND | SK_MS_REC, nil, what: "read-only path", shown: path)
        // The old fd still names the covered mount: reopen to reach the new one.
        let top = try root.open(path)
        defer { close(top) }
        let flags = SK_MS_BIND | SK_MS_REMOUNT | SK_MS_RDONLY | existingMountFlags(procFdPath(top))
        try mountFS(nil, procFdPath(top), nil, flags, nil, what: "read-only path", shown: path)
    }
}
