// An image's config (the OCI image-spec "config" blob) and how it becomes a runtime spec,
// as Docker does it:
//   process.args = Entrypoint + Cmd; a command on the command line replaces Cmd, and
//                  --entrypoint replaces Entrypoint (and drops the image's Cmd);
//   process.env  = PATH (a default when the image has none), HOSTNAME, the image's Env,
//                  then -e/--env-file;
//   process.cwd  = -w, else WorkingDir, else /;
//   process.user = -u, else User (a name is looked up in the image's /etc/passwd, /etc/group);
//   StopSignal and ExposedPorts have no place in a runtime spec: they become annotations
//   (org.opencontainers.image.stopSignal, run.skiff.image.exposedPorts) that `skiff inspect` shows.
import Glibc
import SkiffSpec

public struct ImageConfig: Codable {
    // The members keep the image spec's JSON names (User, Env, Cmd...): Codable maps them 1:1.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public struct Container: Codable {
        public var User: String?
        public var ExposedPorts: [String: JSON]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        public var StopSignal: String?
    }
    public var architecture: String?
    public var os: String?
    public var config: Container?
}

/// The annotations a run from an image carries in its spec (and so in its state record).
public enum ImageAnnotations {
    /// The image reference, "/abs/path[:tag]".
    public static let image = "run.skiff.image"
    /// The manifest digest (docker archive: the config digest) the container was made from.
    public static let id = "run.skiff.image.id"
    /// The lower layers, top first, separated by '\n' (the overlay's lowerdir, in order).
    public static let lowers = "run.skiff.image.lowers"
    public static let exposedPorts = "run.skiff.image.exposedPorts"
    /// The image-spec's own annotation for a stop signal.
    public static let stopSignal = "org.opencontainers.image.stopSignal"

    /// `skiff inspect`'s image section (ExposedPorts, StopSignal: image metadata a runtime
    /// does not act on, shown so that a student sees where they went).
    static func inspectJSON(_ image: String, _ a: [String: String]) -> JSON {
        .object([
            ("reference", .string(image)), ("id", .string(a[id] ?? "")),
            ("layers", .array((a[lowers] ?? "").split(separator: "\n").map { .string(String($0)) })),
            ("exposedPorts", .array((a[exposedPorts] ?? "").split(separator: " ").map { .string(String($0)) })),
            ("stopSignal", a[stopSignal].map { .string($0) } ?? .null),
        ])
    }

    /// The lower layers a spec asks for (top first), nil when it names none.
    static func lowerDirs(_ spec: Spec) -> [String]? {
        guard let text = spec.annotations?[lowers], !text.isEmpty else { return nil }
        return text.split(separator: "\n").map(String.init)
    }
}

public enum ImageRun {
    /// Open the image and make sure each layer is in the cache: (image, layer dirs base first).
    public static func prepare(_ reference: String) throws -> (Image, [String]) {
        let image = try Image.open(reference)
        Explain.note(
            "image", "\(image.reference): \(image.format.rawValue), \(image.id), \(image.layers.count) layer(s)")
        let dirs = try LayerCache.prepare(image)
        Explain.note("overlay", "lowerdir=\(dirs.reversed().joined(separator: ":"))")
        return (image, dirs)
    }

    /// The spec for quick-run options `o` on `image`, whose layers are unpacked at
    /// `layerDirs` (base first).
    public static func spec(_ o: QuickRunOptions, image: Image, layerDirs: [String], id: String) throws -> Spec {
        let lowers = Array(layerDirs.reversed())
        guard let top = lowers.first else { throw SkiffError("image \(image.reference) has no layers") }
        let c = image.config.config ?? ImageConfig.Container()

        // QuickRun builds everything else (Docker's defaults, flags); the image fills in the
        // process. The user is resolved below, against all the layers.
        var base = o
        base.rootfs = top
        base.user = nil
        var spec = try QuickRun.spec(base, id: id)
        var process = spec.process!

        let entrypoint = o.entrypoint.map { $0.isEmpty ? [] : [$0] } ?? (c.Entrypoint ?? [])
        let cmd = !o.command.isEmpty ? o.command : (o.entrypoint != nil ? [] : (c.Cmd ?? []))
        let args = entrypoint + cmd
        guard !args.isEmpty else {
            throw SkiffError("image \(image.reference) has no Entrypoint nor Cmd: give a command after the image")
        }
        process.args = args
        let from = (o.entrypoint != nil ? "--entrypoint" : (c.Entrypoint?.isEmpty == false ? "Entrypoint" : ""))
        let then = (!o.command.isEmpty ? "command line" : (cmd.isEmpty ? "" : "Cmd"))
        Explain.note("process.args", "from \([from, then].filter { !$0.isEmpty }.joined(separator: "+")): \(args)")

        var env: [String] = []
        func set(_ kv: String) {
            let key = kv.split(separator: "=", maxSplits: 1).first.map(String.init) ?? kv
            env.removeAll { $0.hasPrefix(key + "=") || $0 == key }
            env.append(kv)
        }
        set("PATH=" + ProcessSetup.defaultPath)
        set("HOSTNAME=" + (spec.hostname ?? id))
        for kv in c.Env ?? [] { set(kv) }
        if o.tty { set("TERM=xterm") }
        for kv in o.env { set(kv) }
        process.env = env
        if let e = c.Env, !e.isEmpty { Explain.note("process.env", "from Env: \(e.joined(separator: " "))") }

        process.cwd = o.workdir ?? ((c.WorkingDir ?? "").isEmpty ? "/" : c.WorkingDir!)
        if o.workdir == nil, let w = c.WorkingDir, !w.isEmpty { Explain.note("process.cwd", "from WorkingDir: \(w)") }

        if let u = o.user ?? ((c.User ?? "").isEmpty ? nil : c.User) {
            process.user = try resolveUser(u, layers: lowers, flag: o.user != nil ? "--user" : "image User")
            if o.user == nil {
                Explain.note("process.user", "from User: \(u) = \(process.user.uid):\(process.user.gid)")
            }
        }
        spec.process = process

        var annotations = spec.annotations ?? [:]
        annotations[ImageAnnotations.image] = image.reference
        annotations[ImageAnnotations.id] = image.id
        annotations[ImageAnnotations.lowers] = lowers.joined(separator: "\n")
        if let s = c.StopSignal, !s.isEmpty { annotations[ImageAnnotations.stopSignal] = s }
        if let p = c.ExposedPorts, !p.isEmpty {
            annotations[ImageAnnotations.exposedPorts] = p.keys.sorted().joined(separator: " ")
        }
        spec.annotations = annotations
        do { try spec.validate() } catch {
            throw SkiffError("image \(image.reference) makes an invalid config: \(error)")
        }
        return spec
    }

    /// `path` in the topmost layer that has it, as the merged tree would show it (a whiteout
    /// there answers "not found"), read the way QuickRun reads an image's files: resolved
    /// inside that layer, a regular file of at most 1 MiB.
    static func file(_ path: String, in lowers: [String]) -> String? {
        for dir in lowers {
            var st = stat()
            guard lstat(dir + path, &st) == 0 else { continue }
            return QuickRun.imageFile(dir, path)
        }
        return nil
    }

    /// "name", "uid", "name:group", "uid:gid" (Docker's USER forms) → numeric ids.
    static func resolveUser(_ text: String, layers: [String], flag: String) throws -> User {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func lookup(_ file: String, _ name: String) -> [Substring]? {
            for line in (self.file(file, in: layers) ?? "").split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count >= 4, f[0] == name { return f }
            }
            return nil
        }
        var uid: UInt32
        var gid: UInt32
        if let n = UInt32(parts[0]) {
            uid = n
            gid = n
            // A numeric uid with a passwd entry gets that entry's group, as Docker does.
            for line in (file("/etc/passwd", in: layers) ?? "").split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count >= 4, UInt32(f[2]) == n, let g = UInt32(f[3]) {
                    gid = g
                    break
                }
            }
        } else {
            guard let f = lookup("/etc/passwd", parts[0]), let u = UInt32(f[2]), let g = UInt32(f[3]) else {
                throw SkiffError("\(flag) \(text): no user \"\(parts[0])\" in the image's /etc/passwd")
            }
            uid = u
            gid = g
        }
        if parts.count == 2 {
            if let g = UInt32(parts[1]) {
                gid = g
            } else {
                guard let f = lookup("/etc/group", parts[1]), let g = UInt32(f[2]) else {
                    throw SkiffError("\(flag) \(text): no group \"\(parts[1])\" in the image's /etc/group")
                }
                gid = g
            }
        }
        return User(uid: uid, gid: gid)
    }
}
