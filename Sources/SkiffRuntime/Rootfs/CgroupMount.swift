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
// As everywhere in RootfsSetup, nothing is mounted on a re-resolved path: the tmpfs goes
// on the fd of the directory resolved inside the rootfs, and each directory in it is made
// and opened relative to the new tmpfs's fd, which nothing outside this mount namespace
// can reach. Each mount is checked afterwards for the filesystem it must be.
import CShim
import Glibc
import SkiffSpec

/// One cgroup v1 hierarchy of the host, as init sees it.
struct CgroupV1Hierarchy {
    /// The directory under the destination: the last name of the host's mount point
    /// ("memory", "cpu,cpuacct", "systemd").
    let name: String
    /// Its controllers as /proc/self/cgroup names them ("memory", "cpu,cpuacct",
    /// "name=systemd"): the data string that mounts the same hierarchy again.
    let controllers: String
    /// The host's mount of it, and the cgroup that mount shows at its top (as mountinfo
    /// says: in a cgroup namespace, relative to the namespace's root, e.g. "/../..").
    let mountPoint: String
    let mountRoot: String
    /// This process's own cgroup in it (as /proc/self/cgroup says, relative to the same root).
    let ownPath: String

    /// The host directory of the own cgroup; nil when the host's mount does not show it.
    var ownDirectory: String? {
        if mountRoot == "/" { return ownPath == "/" ? mountPoint : mountPoint + ownPath }
        if ownPath == mountRoot { return mountPoint }
        return ownPath.hasPrefix(mountRoot + "/") ? mountPoint + ownPath.dropFirst(mountRoot.count) : nil
    }
}

extension RootfsSetup {
    /// The host's cgroup v1 hierarchies, in mountinfo order; nil when the host's
    /// /sys/fs/cgroup is cgroup2 or there is no v1 hierarchy (a pure cgroup v2 host).
    /// Read in init when the mount is made: init has joined its v1 devices cgroup by then,
    /// so /proc/self/cgroup names the container's own cgroups. Mounts made under the
    /// rootfs itself (a bind of some cgroup directory) are not the host's hierarchies.
    static func cgroupV1Hierarchies(excluding rootfs: String) -> [CgroupV1Hierarchy]? {
        if Cgroup.mountPoint == "/sys/fs/cgroup" { return nil }
        // "4:memory:/skiff/ID", "1:cpu,cpuacct:/", "9:name=systemd:/"; "0::/..." is v2.
        var own: [(controllers: [Substring], path: Substring)] = []
        for line in (readText("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if f.count == 3, !f[1].isEmpty { own.append((f[1].split(separator: ","), f[2])) }
        }
        var found: [CgroupV1Hierarchy] = []
        for line in (readText("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            // "35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,relatime shared:15 - cgroup cgroup rw,memory"
            // (after init's unshare(CLONE_NEWCGROUP) the root field reads "/../.." and so on)
            let f = line.split(separator: " ")
            guard let dash = f.firstIndex(of: "-"), dash >= 5, dash + 3 < f.count, f[dash + 1] == "cgroup",
                let id = Int64(f[0])
            else { continue }
            let point = Cgroup.unescapeOctal(String(f[4]))
            guard point != rootfs, !point.hasPrefix(rootfs + "/"), let name = point.split(separator: "/").last else {
                continue
            }
            // The /proc/self/cgroup line whose controllers this mount has (its super options).
            let options = f[dash + 3].split(separator: ",")
            guard let mine = own.first(where: { $0.controllers.allSatisfy(options.contains) }) else { continue }
            let controllers = mine.controllers.joined(separator: ",")
            let taken = found.contains { $0.controllers == controllers || $0.name == name }
            guard !taken, name != "unified", isTopMount(point, id: id) else { continue }
            found.append(
                CgroupV1Hierarchy(
                    name: String(name), controllers: controllers, mountPoint: point,
                    mountRoot: Cgroup.unescapeOctal(String(f[3])), ownPath: String(mine.path)))
        }
        return found.isEmpty ? nil : found
    }

    /// Is the mount with this mountinfo id what one reaches at `path` (not covered)?
    private static func isTopMount(_ path: String, id: Int64) -> Bool {
        let fd = open(path, SK_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return false }
        defer { close(fd) }
        return sk_mount_id(fd) == id
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
                try Self.checkMounted(h.name, in: top, on: dir, FSMagic.cgroup, shown: shown)
            } else {
                guard let own = h.ownDirectory else {
                    throw SkiffError(
                        "\(shown): this process's cgroup \(h.ownPath) is not visible in the host's mount at "
                            + "\(h.mountPoint) (which shows \(h.mountRoot))")
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
                try Self.checkMounted("unified", in: top, on: dir, FSMagic.cgroup2, shown: shown)
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
    private static func checkMounted(_ name: String, in top: Int32, on dir: Int32, _ magic: Int, shown: String) throws {
        let now = try sys("open \(shown)") { openat(top, name, SK_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(now) }
        if sk_mount_id(now) == sk_mount_id(dir) { throw SkiffError("\(shown): the mount did not take place") }
        try requireFilesystem(now, magic, "\(shown) after mounting \(FSMagic.name(magic))")
    }
}
