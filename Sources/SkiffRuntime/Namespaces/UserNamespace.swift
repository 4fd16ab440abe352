// User namespaces: the container's uids and gids are the host's, shifted by
// linux.uidMappings / gidMappings ("0 100000 65536": container uid 0 is host uid 100000,
// and so on for 65536 ids). Skiff writes the maps from outside (`writeIDMappings`, right
// after the clone, Launcher.swift) while init waits; init then becomes uid 0 of the
// namespace (Init.swift). The host side also asks which host ids the container's root
// has, so that host files it must open (exec.fifo) can be given to it.
import Glibc
import SkiffSpec

enum UserNamespace {
    /// The host uid and gid that the container's root maps to, or nil when the
    /// container has no new user namespace (or 0 is unmapped).
    static func hostRoot(of spec: Spec) -> (uid: uid_t, gid: gid_t)? {
        guard let linux = spec.linux, linux.createsNamespace(.user),
            let uid = hostID(of: 0, in: linux.uidMappings), let gid = hostID(of: 0, in: linux.gidMappings)
        else { return nil }
        return (uid_t(uid), gid_t(gid))
    }

    /// The host id that container id `id` maps to.
    static func hostID(of id: UInt32, in maps: [LinuxIDMapping]?) -> UInt32? {
        for m in maps ?? [] where id >= m.containerID && UInt64(id) < UInt64(m.containerID) + UInt64(m.size) {
            return m.hostID + (id - m.containerID)
        }
        return nil
    }

    /// uid_map and gid_map of a new user namespace, written from outside it.
    static func writeIDMappings(pid: Int32, linux: Linux?) throws {
        func lines(_ maps: [LinuxIDMapping]?) -> String {
            (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        let uid = lines(linux?.uidMappings)
        let gid = lines(linux?.gidMappings)
        if !uid.isEmpty {
            try Explain.step(
                "map users", "write /proc/\(pid)/uid_map = \(uid.split(separator: "\n").joined(separator: ", "))"
            ) {
                try writeKernelFile("/proc/\(pid)/uid_map", uid)
            }
        }
        if !gid.isEmpty {
            try Explain.step(
                "map groups", "write /proc/\(pid)/gid_map = \(gid.split(separator: "\n").joined(separator: ", "))"
            ) {
                try writeKernelFile("/proc/\(pid)/gid_map", gid)
            }
        }
    }

    /// Hand a host file skiff created to the container's root (no-op without a user
    /// namespace), as runc does with exec.fifo.
    static func giveToContainerRoot(_ path: String, spec: Spec) throws {
        guard let (uid, gid) = hostRoot(of: spec) else { return }
        try sys("chown \(path) to the container's root (\(uid):\(gid))") { chown(path, uid, gid) }
    }
}
