// Overlayfs roots: the image directory stays a read-only lower layer; each container
// writes to its own upper layer in its state directory, and `skiff diff` reads it.
//
// A config asks for this with the annotation `run.skiff.overlay: "true"`; root.path is
// then the lower layer (runc, which ignores the annotation, would use it directly).
import CShim
import Glibc
import SkiffSpec

public struct OverlayLayers: Codable {
    public var lower: String
    public var upper: String
    public var work: String
    public var merged: String
    /// An image's layers, top first, when there are several (`--image`); `lower` is then
    /// the top one. Nil: `lower` alone.
    public var lowers: [String]?

    public static let annotation = "run.skiff.overlay"

    /// Every lower layer, top first (the order of overlay's lowerdir).
    public var lowerDirs: [String] { lowers ?? [lower] }

    /// The layers of the container whose data directory is `dir` over `lower`.
    init(lower: String, dataDir dir: String) {
        self.lower = lower
        upper = dir + "/upper"
        work = dir + "/work"
        merged = dir + "/merged"
    }

    /// The directory holding the layers (StateStore.dataDirectory).
    var dataDir: String { dirname(of: upper) }

    /// Create the directories (skiff, on the host). The data directory is 0700 (and its
    /// parent too): the upper layer holds whatever the container wrote, setuid files and
    /// device nodes included, which no host user may reach (review M6). `reuse`: start
    /// again (Detached.swift), the layers of the container's last run are kept.
    func create(reuse: Bool = false) throws {
        let containers = dirname(of: dataDir)
        try mkdirAll(containers, mode: 0o700)
        _ = chmod(containers, 0o700)
        if reuse && isDirectory(upper) && isDirectory(work) && isDirectory(merged) { return }
        if mkdir(dataDir, 0o700) != 0 {
            throw SkiffError(
                errno == EEXIST
                    ? "\(dataDir) already exists (a container of that name was not deleted)"
                    : "mkdir \(dataDir): \(errnoText())")
        }
        for d in [upper, work, merged] { try sys("mkdir \(d)") { mkdir(d, 0o755) } }
    }

    /// The characters overlayfs reads as separators in its options: a lower directory
    /// whose path holds one would add layers or options (`--rootfs "/x:/"` would stack the
    /// host's /). Such a path is refused (review L5).
    static func checkLowerPath(_ path: String) throws {
        if let c = path.first(where: { $0 == ":" || $0 == "," || $0 == "\\" }) {
            throw SkiffError(
                "rootfs \(path): the overlay root cannot use a path containing \"\(c)\" (overlayfs reads it as a "
                    + "separator)"
            )
        }
    }

    /// Mount the overlay on `merged` (the container's init, inside its private mount
    /// namespace, so the mount disappears with the container).
    func mount() throws {
        for l in lowerDirs { try OverlayLayers.checkLowerPath(l) }
        let data = "lowerdir=\(lowerDirs.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
        try mountFS("overlay", merged, "overlay", 0, data, what: "root filesystem", shown: merged)
    }
}

/// One line of `skiff diff`, as `docker diff` prints it: A added, C changed, D deleted.
public struct Change: Equatable, CustomStringConvertible {
    public enum Kind: String {
        case added = "A"
        case changed = "C"
        case deleted = "D"
    }
    public let kind: Kind
    public let path: String
    public var description: String { "\(kind.rawValue) \(path)" }
}

extension OverlayLayers {
    /// What the container changed: walk the upper layer. A whiteout (a 0:0 character
    /// device) is a deletion; a path that also exists below is a change; else an addition.
    public func changes() -> [Change] {
        var out: [Change] = []
        walk("", into: &out)
        return out
    }

    private func walk(_ rel: String, into out: inout [Change]) {
        for name in listDirectory(upper + rel) {
            let path = rel + "/" + name
            var st = stat()
            guard lstat(upper + path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0 {
                out.append(Change(kind: .deleted, path: path))
                continue
            }
            var below = stat()
            let existed = lowerDirs.contains { lstat($0 + path, &below) == 0 }
            out.append(Change(kind: existed ? .changed : .added, path: path))
            if (st.st_mode & S_IFMT) == S_IFDIR { walk(path, into: &out) }
        }
    }
}
