// The container's root filesystem: make the mount namespace private, mount what the
// spec lists inside the rootfs, populate /dev, switch root, then mask and protect paths.
// Runs in the container's init process, inside its new mount namespace.
import CShim
import Glibc
import SkiffSpec

struct RootfsSetup {
    let spec: Spec
    let rootfs: String      // absolute host path
    let bundle: String
    let noPivot: Bool
    let newNetwork: Bool
    /// Runs after the mounts, before the root switch (where the create hooks run).
    var beforeSwitch: () throws -> Void = {}

    /// Everything up to and including the root switch. Afterwards "/" is the rootfs.
    func run() throws {
        try makeMountsPrivate()
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
        try switchRoot()
    }

    /// After the switch: masked and read-only paths, read-only root, propagation.
    func finish() throws {
        for path in spec.linux?.maskedPaths ?? [] { try mask(path) }
        for path in spec.linux?.readonlyPaths ?? [] { try makeReadonly(path) }
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
            let target = try root.mkdirAll(m.destination)
            defer { close(target) }
            var fstype = type
            var source = m.source ?? type
            if type == "cgroup" || type == "cgroup2" { fstype = "cgroup2"; source = "cgroup2" }
            do {
                try mountFS(source, procFdPath(target), fstype, flags, opts.dataString, what: "mount \(fstype)", shown: shown)
            } catch let e as SkiffError where type == "sysfs" && e.code == EPERM && !newNetwork {
                // sysfs can't be mounted without owning the network namespace: bind the host's, as runc does.
                flags = SK_MS_BIND | SK_MS_REC
                try mountFS("/sys", procFdPath(target), nil, flags, nil, what: "bind sysfs", shown: shown)
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

    /// maskedPaths: a directory gets an empty read-only tmpfs, a file gets /dev/null.
    private func mask(_ path: String) throws {
        var st = stat()
        if stat(path, &st) != 0 { return } // nothing there to hide
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try mountFS("tmpfs", path, "tmpfs", SK_MS_RDONLY, nil, what: "mask path", shown: path)
        } else {
            try mountFS("/dev/null", path, nil, SK_MS_BIND, nil, what: "mask path", shown: path)
        }
    }

    /// readonlyPaths: bind the path onto itself, then remount it read-only.
    private func makeReadonly(_ path: String) throws {
        if access(path, F_OK) != 0 { return }
        try mountFS(path, path, nil, SK_MS_BIND | SK_MS_REC, nil, what: "read-only path", shown: path)
        let flags = SK_MS_BIND | SK_MS_REMOUNT | SK_MS_RDONLY | SK_MS_REC | existingMountFlags(path)
        try mountFS(nil, path, nil, flags, nil, what: "read-only path", shown: path)
    }
}
