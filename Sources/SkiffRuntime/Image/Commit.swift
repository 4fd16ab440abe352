// `skiff commit ID DIR[:TAG]`: the container's writable (upper) layer becomes a new layer
// on top of the image it was run from (or of its --rootfs tree, as a base layer), written as
// an OCI image layout that skopeo, podman and `skiff run --image` read. The image config is
// the base image's (a run's -e/-w/-u are not recorded; with --rootfs, the container's process
// is). This is what `docker commit` does, and what each RUN of a Dockerfile does: run a
// command, keep what it changed as a layer.
//
// The upper layer speaks overlay (a deletion is a 0:0 character device, a replaced
// directory carries trusted.overlay.opaque=y); a layer tar speaks the image spec (.wh.NAME,
// .wh..wh..opq). A copy of the upper is converted, then tar'd; skiff hashes the tar as
// it streams into the blob file. The layer is an uncompressed tar, so its digest is also
// its diff_id.
import CShim
import Glibc
import SkiffSpec

public enum Commit {
    static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    static let configType = "application/vnd.oci.image.config.v1+json"
    static let layerTar = "application/vnd.oci.image.layer.v1.tar"

    /// "DIR[:TAG]" → the directory and the tag (default "latest").
    static func parseTarget(_ text: String) -> (dir: String, tag: String) {
        let abs = absolutePath(text, relativeTo: currentDirectory())
        if let i = abs.lastIndex(of: ":"), !abs[abs.index(after: i)...].contains("/"),
            !abs[abs.index(after: i)...].isEmpty
        {
            return (String(abs[..<i]), String(abs[abs.index(after: i)...]))
        }
        return (abs, "latest")
    }

    /// Write the new image; returns its manifest digest and the reference to run it by.
    public static func commit(_ record: ContainerRecord, to target: String) throws -> (
        digest: String, reference: String
    ) {
        let id = record.id
        guard let overlay = record.overlay else {
            throw SkiffError(
                "container \"\(id)\" has no overlay root: nothing to commit (run it with --image or --rootfs)")
        }
        let (dir, tag) = parseTarget(target)
        let blobs = dir + "/blobs/sha256"
        try mkdirAll(blobs)
        if !fileExists(dir + "/oci-layout") {
            try writeFileAtomic(dir + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}")
        }

        var descriptors: [JSON] = []
        var diffIDs: [JSON] = []
        var baseConfig: JSON
        if let ref = record.config.annotations?[ImageAnnotations.image] {
            // Run from an image: its layers, copied (and checked again on the way), and its config.
            let base = try Image.open(ref)
            if let made = record.config.annotations?[ImageAnnotations.id], made != base.id {
                throw SkiffError("image \(ref) is now \(base.id); container \"\(id)\" was made from \(made)")
            }
            diffIDs = base.configJSON["rootfs"]?["diff_ids"]?.arrayValue ?? []
            for layer in base.layers {
                let size = try copyBlob(layer, from: base, into: blobs)
                var type = layer.mediaType
                if type.hasPrefix("application/vnd.docker.image.rootfs.diff.tar") || type.isEmpty {
                    type = type.hasSuffix("gzip") ? layerTar + "+gzip" : layerTar
                }
                descriptors.append(
                    .object([("mediaType", .string(type)), ("digest", .string(layer.digest)), ("size", .integer(size))])
                )
            }
            baseConfig = base.configJSON
        } else {
            // Run from --rootfs: that tree becomes the base layer, and the container's
            // process (args, env, cwd) the config, as `docker commit` records it.
            // swift-format-ignore: OnlyOneTrailingClosureArgument
            let (digest, size) = try Explain.step(
                "base layer", "tar -c \(overlay.lower)", result: { "\($0.0) (\($0.1) bytes)" }
            ) {
                try tarToBlob(overlay.lower, blobs: blobs)
            }
            descriptors.append(
                .object([("mediaType", .string(layerTar)), ("digest", .string(digest)), ("size", .integer(size))]))
            diffIDs = [.string(digest)]
            let p = record.config.process
            var c: [(key: String, value: JSON)] = []
            if let env = p?.env {
                c.append(("Env", .array(env.filter { !$0.hasPrefix("HOSTNAME=") }.map { .string($0) })))
            }
            if let args = p?.args { c.append(("Cmd", .array(args.map { .string($0) }))) }
            if let cwd = p?.cwd, cwd != "/" { c.append(("WorkingDir", .string(cwd))) }
            baseConfig = .object([
                ("architecture", .string(Image.hostArchitecture)), ("os", .string("linux")), ("config", .object(c)),
                (
                    "history",
                    .array([.object([("created_by", .string("skiff commit \(id): --rootfs \(overlay.lower)"))])])
                ),
            ])
        }

        // The new layer.
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        let (layerDigest, layerSize) = try Explain.step(
            "commit layer", "tar -c \(overlay.upper) (whiteouts as .wh. files)",
            result: { "\($0.0) (\($0.1) bytes)" }
        ) {
            try writeLayer(upper: overlay.upper, dir: dir)
        }
        descriptors.append(
            .object([("mediaType", .string(layerTar)), ("digest", .string(layerDigest)), ("size", .integer(layerSize))])
        )
        diffIDs.append(.string(layerDigest))

        // The config: the base's, with one more diff_id and a history line.
        let now = rfc3339Now()
        var history = baseConfig["history"]?.arrayValue ?? []
        history.append(.object([("created", .string(now)), ("created_by", .string("skiff commit \(id)"))]))
        var config = baseConfig
        config = setting(config, "created", .string(now))
        config = setting(config, "rootfs", .object([("type", .string("layers")), ("diff_ids", .array(diffIDs))]))
        config = setting(config, "history", .array(history))
        let configDesc = try writeBlob(Array(config.serialized().utf8), type: configType, blobs: blobs)

        let manifest: JSON = .object([
            ("schemaVersion", .integer(2)), ("mediaType", .string(manifestType)),
            ("config", configDesc), ("layers", .array(descriptors)),
        ])
        let manifestDesc = try writeBlob(Array(manifest.serialized().utf8), type: manifestType, blobs: blobs)
        let digest = manifestDesc["digest"]!.stringValue!

        // index.json: this tag now names the new manifest.
        var entries: [JSON] = []
        if let bytes = readFile(dir + "/index.json"), let old = try? JSON.parse(bytes) {
            entries = (old["manifests"]?.arrayValue ?? []).filter {
                $0["annotations"]?[Image.refName]?.stringValue != tag
            }
        }
        guard case .object(var entry) = manifestDesc else { fatalError("a descriptor is an object") }
        entry.append(("annotations", .object([(Image.refName, .string(tag))])))
        entries.append(.object(entry))
        let index: JSON = .object([("schemaVersion", .integer(2)), ("manifests", .array(entries))])
        try writeFileAtomic(dir + "/index.json", index.serialized() + "\n")
        return (digest, dir + ":" + tag)
    }

    static func setting(_ object: JSON, _ key: String, _ value: JSON) -> JSON {
        guard case .object(var members) = object else { return .object([(key, value)]) }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }

    /// A small blob, written under its digest; returns its descriptor.
    static func writeBlob(_ bytes: [UInt8], type: String, blobs: String) throws -> JSON {
        let hex = try SHA256.hex(bytes)
        let path = blobs + "/" + hex
        if !fileExists(path) { try writeFileAtomic(path, String(decoding: bytes, as: UTF8.self)) }
        return .object([
            ("mediaType", .string(type)), ("digest", .string("sha256:" + hex)), ("size", .integer(bytes.count)),
        ])
    }

    /// Copy one base layer into `blobs` (unless there), checking its digest; returns its size.
    static func copyBlob(_ layer: ImageLayer, from image: Image, into blobs: String) throws -> Int64 {
        let path = blobs + "/" + LayerCache.hex(layer.digest)
        var st = stat()
        if stat(path, &st) == 0 { return Int64(st.st_size) }
        let (fd, reader) = try image.source.open(layer.member)
        defer { close(fd) }
        let (digest, size) = try streamToBlob(fd, blobs: blobs)
        if let reader, reader.wait() != 0 {
            throw SkiffError("image \(image.reference): layer \(layer.digest) could not be read")
        }
        guard digest == layer.digest else {
            unlink(blobs + "/" + LayerCache.hex(digest))
            throw SkiffError(
                "image \(image.reference): layer \(layer.digest) does not match its digest (read \(digest))")
        }
        return size
    }

    /// Read `fd` to its end into blobs/<digest>, hashing on the way; (digest, size).
    static func streamToBlob(_ fd: Int32, blobs: String) throws -> (String, Int64) {
        let tmp = blobs + "/.tmp.\(getpid())"
        let out = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        if out < 0 { throw SkiffError("open \(tmp): \(errnoText())") }
        let sha = try SHA256()
        var total: Int64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw SkiffError("read: \(errnoText())") }
                if n == 0 { break }
                buf.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                try writeAll(out, Array(buf[0..<n]))
                total += Int64(n)
            }
            try sys("fsync \(tmp)") { fsync(out) }
        } catch {
            close(out)
            unlink(tmp)
            throw error
        }
        close(out)
        let hex = sha.hexDigest()
        try sys("rename \(tmp)") { rename(tmp, blobs + "/" + hex) }
        return ("sha256:" + hex, total)
    }

    /// The upper layer as an image-spec layer tar in `dir`'s blobs; (digest, size).
    static func writeLayer(upper: String, dir: String) throws -> (String, Int64) {
        let staging = dir + "/.skiff-commit.\(getpid())"
        removeAll(staging)
        defer { removeAll(staging) }
        // cp -a keeps owners, modes, times, links and the overlay markers (as root).
        let cp = try Spawned.start(["cp", "-a", upper + "/.", staging])
        guard cp.wait() == 0 else { throw SkiffError("cp -a \(upper) \(staging) failed") }
        try overlayToImageWhiteouts(staging)
        return try tarToBlob(staging, blobs: dir + "/blobs/sha256")
    }

    /// `tar -c` of a directory, hashed as it streams into a blob; (digest, size).
    static func tarToBlob(_ tree: String, blobs: String) throws -> (String, Int64) {
        let p = try makePipe()
        let tar: Spawned
        do {
            tar = try Spawned.start(
                ["tar", "--numeric-owner", "--sort=name", "-C", tree, "-cf", "-", "."], stdout: p.write)
        } catch {
            close(p.read)
            close(p.write)
            throw error
        }
        close(p.write)
        defer { close(p.read) }
        let result = try streamToBlob(p.read, blobs: blobs)
        guard tar.wait() == 0 else {
            unlink(blobs + "/" + LayerCache.hex(result.0))
            throw SkiffError("tar -c \(tree) failed")
        }
        return result
    }

    /// 0:0 character device NAME → empty file .wh.NAME; opaque directory → .wh..wh..opq in it.
    static func overlayToImageWhiteouts(_ dir: String) throws {
        var value = [UInt8](repeating: 0, count: 8)
        let n = getxattr(dir, "trusted.overlay.opaque", &value, value.count)
        if n == 1 && value[0] == UInt8(ascii: "y") {
            removexattr(dir, "trusted.overlay.opaque")
            try writeFile(dir + "/.wh..wh..opq", "", mode: 0o644)
        }
        for name in listDirectory(dir) where name != ".wh..wh..opq" {
            let path = dir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFCHR where st.st_rdev == 0:
                unlink(path)
                try writeFile(dir + "/.wh." + name, "", mode: 0o644)
            case S_IFDIR:
                try overlayToImageWhiteouts(path)
            default: break
            }
        }
    }
}
