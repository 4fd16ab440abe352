// `skiff export ID -o FILE.tar`: the container's whole file tree (its image's layers with
// its own changes on top) as one tar, what `docker export` writes. Layers, whiteouts and
// the image config are gone: `skiff run --rootfs FILE.tar` runs it again, as one layer.
//
// The tree is a read-only overlay whose lowest layers are the image's and whose top layer
// is the container's upper directory (an upper layer is a valid lower layer: its whiteouts
// hide what they deleted). It is mounted in a private mount namespace of this skiff
// process, so it disappears with the process whatever happens.
import CShim
import Glibc

public enum Export {
    public static func export(_ record: ContainerRecord, to file: String) throws {
        guard let overlay = record.overlay else {
            throw SkiffError("container \"\(record.id)\" has no overlay root (run it with --rootfs or --image)")
        }
        let out = absolutePath(file, relativeTo: currentDirectory())
        try Explain.step("private mounts", "unshare(CLONE_NEWNS)") {
            try sys("unshare(CLONE_NEWNS)") { sk_unshare(Int32(SK_CLONE_NEWNS)) }
            try sys("make / private") { sk_mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) }
        }
        // The state directory's merged/ is empty on the host (the container's own mount
        // lives in its namespace): mount the read-only view there, in ours.
        let data = "lowerdir=" + ([overlay.upper] + overlay.lowerDirs).joined(separator: ":")
        try mountFS(
            "overlay", overlay.merged, "overlay", UInt(MS_RDONLY), data, what: "merged tree", shown: overlay.merged)
        defer { umount2(overlay.merged, Int32(MNT_DETACH)) }
        do {
            try Explain.step("write tar", "tar -cf \(out) -C \(overlay.merged) .") {
                let tar = try Spawned.start([
                    "tar", "--numeric-owner", "--sort=name", "-C", overlay.merged, "-cf", out, ".",
                ])
                let status = tar.wait()
                guard status == 0 else { throw SkiffError("export \(record.id): tar exit status \(status)") }
            }
        } catch {
            unlink(out)
            throw error
        }
    }
}
