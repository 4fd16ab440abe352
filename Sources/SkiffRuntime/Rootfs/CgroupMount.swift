// The spec's "cgroup" mount (/sys/fs/cgroup) on a host whose cgroups are v1 or hybrid:
// the host's /sys/fs/cgroup is a tmpfs with one cgroup v1 hierarchy per directory
// (cpu, memory, devices, systemd...) and, on a hybrid host, cgroup2 at ./unified.
//
// The container gets the same layout, built the way runc (mountCgroupV1 in
// libcontainer/rootfs_linux.go) and crun (do_mount_cgroup_v1) build it:
//
//   mount("tmpfs", "/sys/fs/cgroup", "tmpfs", nosuid|nodev|noexec, "mode=755")
//   for each v1 hierarchy the host has mounted (and not covered with another mount):
//     mkdir /sys/fs/cgroup/NAME                 NAME: the host mount point's last name
//     without a cgroup namespace: bind the container's own cgroup of that hierarchy
//         (HOST MOUNT POINT + its path in /proc/self/cgroup) onto it
//     with one: mount("cgroup", NAME, "cgroup", flags, "memory"), which shows the
//         namespace's root, i.e. the container's own cgroup again
//   symlinks for co-mounted controllers: cpu -> cpu,cpuacct, cpuacct -> cpu,cpuacct
//   on a hybrid host, ./unified: the own cgroup2 directory bound, or cgroup2 mounted
//   at the end, with the spec's "ro": the tmpfs itself made read-only
//
// Every sub-mount gets the spec's flags (ro, nosuid, nodev, noexec).
//
// Why not one fresh cgroup2 mount, as on a cgroup v2 host: (1) it would show the host's
// whole v2 tree and none of the v1 hierarchies the container really lives in (its
// devices rules, its memory cgroup); (2) mounting cgroup2 in the initial cgroup namespace
// makes the kernel apply the root's flags (apply_cgroup_root_flags ->
// cgroup_favor_dynmods), which takes cgroup_threadgroup_rwsem for writing and waits for
// an RCU grace period: 9-31 ms in about half of the runs on a 6.18 kernel, more than a
// whole `skiff run` takes otherwise. Mounting a v1 hierarchy, or cgroup2 inside a
// cgroup namespace, does not wait.
//
// Which hierarchies the host has is read from skiff's /proc/self/mountinfo before the
// clone (CgroupV1Mount.host); the container's own cgroup in each, from /proc/self/cgroup
// in init, when the mount is made.
//
// As everywhere in RootfsSetup, nothing is mounted on a re-resolved path: the tmpfs goes
// on the fd of the directory resolved inside the rootfs, and each directory in it is made
// and opened relative to the new tmpfs's fd, which nothing outside this mount namespace
// can reach. Each mount is checked afterwards for the filesystem it must be.
import CShim
import Glibc
import SkiffSpec

/// A cgroup v1 hierarchy the host has mounted, as its mountinfo line says.
struct CgroupV1Mount {
    /// The directory under the destination: the last name of the host's mount point
    /// ("memory", "cpu,cpuacct", "systemd").
    let name: String
    let mountPoint: String
    /// The cgroup the mount shows at its top ("/": the hierarchy's root).
    let mountRoot: String
    /// Its super options ("rw", "memory"; "rw", "name=systemd").
    let options: [Substring]

    /// Every v1 hierarchy the host has mounted, from skiff's mountinfo: only mounts one
    /// really reaches count (not covered by another), one per name. DeviceCgroupV1 finds
    /// the devices controller here too.
    static let mounted: [CgroupV1Mount] = find()

    /// The hierarchies the container's /sys/fs/cgroup shows ([] on a cgroup v2 host). Found
    /// in skiff before the clone (InitBox.warmUp), so init finds them made: parsed in init,
    /// with code that runs there for the first time, it took 0.4 ms (0.05 ms for the rest).
    static let host: [CgroupV1Mount] = Cgroup.mountPoint == "/sys/fs/cgroup" ? [] : mounted

    private static func find() -> [CgroupV1Mount] {
        var found: [CgroupV1Mount] = []
        for line in (readText("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            // "35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,relatime shared:15 - cgroup cgroup rw,memory"
            let f = line.split(separator: " ")
            guard let dash = f.firstIndex(of: "-"), dash >= 5, dash + 3 < f.count, f[dash + 1] == "cgroup",
                let id = Int64(f[0])
            else { continue }
            let point = Cgroup.unescapeOctal(String(f[4]))
            guard let name = point.split(separator: "/").last, name != "unified",
                !found.contains(where: { $0.name == name }),
                isTopMount(point, id: id)
            else { continue }
            found.append(
                CgroupV1Mount(
                    name: String(name), mountPoint: point, mountRoot: Cgroup.unescapeOctal(String(f[3])),
                    options: f[dash + 3].split(separator: ",")))
        }
        return found
    }

    /// Is the mount with this mountinfo id what one reaches at `path` (not covered)?
    private static func isTopMount(_ path: String, id: Int64) -> Bool {
        let fd = open(path, SK_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return false }
        defer { close(fd) }
        return sk_mount_id(fd) == id
    }
}

/// A host hierarchy with this process's cgroup in it.
struct CgroupV1Hierarchy {
    let mount: CgroupV1Mount
    var name: String { mount.name }
    /// Its controllers as /proc/self/cgroup names them ("memory", "cpu,cpuacct",
    /// "name=systemd"): the data string that mounts the same hierarchy again.
    let controllers: String
    /// This process's own cgroup in it (as /proc/self/cgroup says: "/skiff/ID").
    let ownPath: String

    /// The host directory of the own cgroup; nil when the host's mount does not show it.
    var ownDirectory: String? {
        let (point, root) = (mount.mountPoint, mount.mountRoot)
        if root == "/" { return ownPath == "/" ? point : point + ownPath }
        if ownPath == root { return point }
        return ownPath.hasPrefix(root + "/") ? point + ownPath.dropFirst(root.count) : nil
    }
}

extension RootfsSetup {
    /// The host's cgroup v1 hierarchies with this process's cgroups in them; nil on a
    /// pure cgroup v2 host (the host's /sys/fs/cgroup is cgroup2, or there is no v1
    /// hierarchy). /proc/self/cgroup is read in init when the mount is made: init has
    /// joined its v1 devices cgroup by then, so it names the container's own cgroups.
    static func cgroupV1Hierarchies() -> [CgroupV1Hierarchy]? {
        if CgroupV1Mount.host.isEmpty { return nil }
        var found: [CgroupV1Hierarchy] = []
        // "4:memory:/skiff/ID", "1:cpu,cpuacct:/", "9:name=systemd:/"; "0::/..." is v2.
        for line in (readText("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3, !f[1].isEmpty else { continue }
            // The host's mount of this hierarchy: the one whose super options hold its controllers.
            let controllers = f[1].split(separator: ",")
            if let m = CgroupV1Mount.host.first(where: { m in controllers.allSatisfy(m.options.contains) }),
                !found.contains(where: { $0.name == m.name })
            {
                found.append(CgroupV1Hierarchy(mount: m, controllers: String(f[1]), ownPath: String(f[2])))
            }
        }
        return found.isEmpty ? nil : found
    }

    /// The v1 layout described at the top of this file, on `target` (the destination's
    /// directory fd, resolved in the rootfs).
    func mountCgroupV1(
        _ hierarchies: [CgroupV1Hierarchy], _ m: Mount, _ opts: MountOptions, on target: Int32, in root: RootDir
    )
        throws
    {
        let dest = cleanPath(m.destination)
        // A joined cgroup namespace too: /proc/self/cgroup is relative to its root then.
        let cgroupns = NamespacePlan(spec).has(.cgroup)
        let flags = opts.flags & (SK_MS_RDONLY | SK_MS_NOSUID | SK_MS_NODEV | SK_MS_NOEXEC | SK_MS_RELATIME)
        try mountFS(
            "tmpfs", procFdPath(target), "tmpfs", flags & ~SK_MS_RDONLY, "mode=755", what: "mount tmpfs", shown: dest)
        let top = try reopenMounted(m.destination, on: target, in: root, noSymlinks: false)
        defer { close(top) }
        try requireFilesystem(top, FSMagic.tmpfs, "\(dest) after mounting tmpfs")

        for h in hierarchies {
            let shown = dest + "/" + h.name
            let dir = try Self.subdirectory(h.name, in: top, shown: shown)
            defer { close(dir) }
            if cgroupns {
                try mountFS(
                    "cgroup", procFdPath(dir), "cgroup", flags, h.controllers, what: "mount cgroup", shown: shown)
                try Self.checkMounted(h.name, in: top, on: dir, FSMagic.cgroup, "cgroup", shown: shown)
            } else {
                guard let own = h.ownDirectory else {
                    throw SkiffError(
                        "\(shown): this process's cgroup \(h.ownPath) is not visible in the host's mount at "
                            + "\(h.mount.mountPoint) (which shows \(h.mount.mountRoot))")
                }
                let tree = try bindMount(
                    own, onto: dir, flags: flags, propagation: [], what: "bind cgroup", shown: shown,
                    keep: true)
                defer { close(tree) }
                try requireFilesystem(tree, FSMagic.cgroup, "\(shown) after binding the cgroup")
            }
        }
        // Co-mounted controllers: "cpu,cpuacct" is also reachable as cpu and cpuacct.
        for h in hierarchies where h.name.contains(",") {
            for part in h.name.split(separator: ",") where !hierarchies.contains(where: { $0.name == part }) {
                try Explain.step("cgroup symlink", "symlink(\"\(h.name)\", \"\(dest)/\(part)\")") {
                    try sys("symlink \(dest)/\(part)") { symlinkat(h.name, top, String(part)) }
                }
            }
        }
        // A hybrid host's cgroup2 hierarchy (not on a v1-only host, nor where it is covered).
        if Cgroup.available {
            let shown = dest + "/unified"
            let dir = try Self.subdirectory("unified", in: top, shown: shown)
            defer { close(dir) }
            if cgroupns {
                // Not the initial cgroup namespace: this mount does not wait (see the top).
                try mountFS("cgroup2", procFdPath(dir), "cgroup2", flags, nil, what: "mount cgroup2", shown: shown)
                try Self.checkMounted("unified", in: top, on: dir, FSMagic.cgroup2, "cgroup2", shown: shown)
            } else {
                let tree = try bindMount(
                    Cgroup.directory(Cgroup.ownCgroup()), onto: dir, flags: flags, propagation: [],
                    what: "bind cgroup", shown: shown, keep: true)
                defer { close(tree) }
                try requireFilesystem(tree, FSMagic.cgroup2, "\(shown) after binding the cgroup")
            }
        }
        if flags & SK_MS_RDONLY != 0 {
            let remount = SK_MS_BIND | SK_MS_REMOUNT | SK_MS_RDONLY | existingMountFlags(procFdPath(top))
            try mountFS(nil, procFdPath(top), nil, remount, nil, what: "read-only tmpfs", shown: dest)
        }
        for p in opts.propagation {
            try mountFS(nil, procFdPath(top), nil, p, nil, what: "mount propagation", shown: dest)
        }
    }

    /// mkdir NAME in the new tmpfs (fd `top`) and an SK_O_PATH fd on it, never through a symlink.
    private static func subdirectory(_ name: String, in top: Int32, shown: String) throws -> Int32 {
        try sys("mkdir \(shown)") { mkdirat(top, name, 0o755) }
        return try sys("open \(shown)") { openat(top, name, SK_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    }

    /// After mount(2) on `dir`: NAME in the tmpfs must now be a new mount of the type `magic`.
    private static func checkMounted(
        _ name: String, in top: Int32, on dir: Int32, _ magic: Int, _ fstype: String, shown: String
    ) throws {
        let now = try sys("open \(shown)") { openat(top, name, SK_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(now) }
        if sk_mount_id(now) == sk_mount_id(dir) { throw SkiffError("\(shown): the mount did not take place") }
        try requireFilesystem(now, magic, "\(shown) after mounting \(fstype)")
    }
}
