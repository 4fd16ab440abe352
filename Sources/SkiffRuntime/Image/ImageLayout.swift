// `skiff run --image PATH[:TAG]`: read an image from disk, in one of the formats the
// ecosystem writes, without a registry or an image store:
//   - an OCI image layout (index.json, oci-layout, blobs/sha256/…), as a directory or a tar:
//     what `skopeo copy … oci:DIR:TAG`, `podman save --format oci-dir|oci-archive` and
//     `buildah push … oci:DIR` write (and `docker save` since Docker 25);
//   - a `docker save` archive (manifest.json listing Config and Layers), as older Docker,
//     `podman save --format docker-archive` and `skopeo copy … docker-archive:` write.
//
// This file finds the manifest for TAG and this machine's architecture, and checks the
// manifest and config against their digests. The layers are unpacked by LayerCache.swift;
// the config becomes a runtime spec in ImageConfig.swift.
import Glibc
import SkiffSpec

/// Where the image's files are: a directory, or members of a tar archive.
enum ImageSource {
    case directory(String)
    /// The archive and its member names, normalized (no leading "./") to the stored name.
    case archive(String, members: [String: String])

    static func open(_ path: String) throws -> ImageSource {
        if isDirectory(path) { return .directory(path) }
        // GNU tar lists an uncompressed archive by seeking over the members' data.
        let list = try Spawned.output(["tar", "-tf", path])
        guard list.status == 0 else { throw SkiffError("image \(path): not an image directory nor a tar archive") }
        var members: [String: String] = [:]
        for name in list.text.split(separator: "\n").map(String.init) {
            var key = name
            while key.hasPrefix("./") { key.removeFirst(2) }
            members[key] = name
        }
        return .archive(path, members: members)
    }

    func has(_ name: String) -> Bool {
        switch self {
        case .directory(let dir): return fileExists(dir + "/" + name)
        case .archive(_, let members): return members[name] != nil
        }
    }

    /// A reader of one file: an fd, plus the `tar -xO` that feeds it for an archive.
    func open(_ name: String) throws -> (fd: Int32, child: Spawned?) {
        switch self {
        case .directory(let dir):
            let fd = Glibc.open(dir + "/" + name, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SkiffError("\(name): \(errnoText())") }
            return (fd, nil)
        case .archive(let path, let members):
            guard let member = members[name] else { throw SkiffError("\(name): not in the archive") }
            let p = try makePipe()
            // --occurrence: stop at the first match instead of reading to the end.
            let child = try Spawned.start(["tar", "-xOf", path, "--occurrence", member], stdout: p.write)
            close(p.write)
            return (p.read, child)
        }
    }

    /// A small file (index, manifest, config) read whole.
    func read(_ name: String) throws -> [UInt8] {
        let (fd, child) = try open(name)
        let bytes = readAll(fd)
        close(fd)
        if let child, child.wait() != 0 { throw SkiffError("\(name): tar could not read it") }
        return bytes
    }
}

/// One layer of an image, base first.
public struct ImageLayer {
    /// "sha256:…": what the bytes read from `member` must hash to. For an OCI layout that is
    /// the blob's digest; for a docker-archive layer (an uncompressed tar) the config's diff_id.
    public let digest: String
    public let size: Int64?
    public let mediaType: String
    let member: String
    /// The digest of the uncompressed tar (the config's rootfs.diff_ids), checked as well.
    var diffID: String? = nil
}

/// An image found on disk, checked as far as its config.
public struct Image {
    public enum Format: String {
        case oci = "OCI layout"
        case dockerArchive = "docker save archive"
    }
    /// The reference as given, with an absolute path ("/abs/dir:tag").
    public let reference: String
    public let path: String
    public let tag: String?
    public let format: Format
    /// The manifest's digest (for a docker archive: the config's, Docker's image id).
    public let id: String
    public let config: ImageConfig
    public let configJSON: JSON
    public let layers: [ImageLayer]
    let source: ImageSource

    /// "DIR[:TAG]" or "FILE.tar[:TAG]". A path that exists as given has no tag; else the
    /// longest existing prefix before a ':' is the path (a tag may contain ':' and '/', as
    /// podman's "localhost/web:1" does).
    public static func parseReference(_ text: String) throws -> (path: String, tag: String?) {
        let abs = absolutePath(text, relativeTo: currentDirectory())
        if fileExists(abs) { return (abs, nil) }
        var best: (String, String)?
        for i in abs.indices where abs[i] == ":" {
            let p = String(abs[..<i])
            if fileExists(p) { best = (p, String(abs[abs.index(after: i)...])) }
        }
        guard let (p, t) = best, !t.isEmpty else { throw SkiffError("--image \(text): \(errnoText(ENOENT))") }
        return (p, t)
    }

    /// GOARCH names, as image configs spell architectures.
    public static var hostArchitecture: String {
        let machine = Uname.current().machine
        switch machine {
        case "x86_64": return "amd64"
        case "aarch64": return "arm64"
        case "i686", "i386": return "386"
        case "armv7l": return "arm"
        default: return machine
        }
    }

    /// Open `reference` (PATH[:TAG]) and check its manifest and config.
    public static func open(_ reference: String) throws -> Image {
        let (path, tag) = try parseReference(reference)
        let source = try ImageSource.open(path)
        let shown = path + (tag.map { ":" + $0 } ?? "")
        if source.has("index.json") { return try openOCI(source, path: path, tag: tag, shown: shown) }
        if source.has("manifest.json") { return try openDockerArchive(source, path: path, tag: tag, shown: shown) }
        throw SkiffError("image \(path): no index.json (OCI layout) nor manifest.json (docker save archive)")
    }

    // MARK: OCI layout

    static func blobName(_ digest: String, _ shown: String) throws -> String {
        let parts = digest.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].count == 64,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase })
        else {
            throw SkiffError("image \(shown): unsupported digest \"\(digest)\" (expected sha256:<64 hex digits>)")
        }
        return "blobs/sha256/" + parts[1]
    }

    /// A small blob (manifest, config), read and checked against its digest.
    static func readBlob(_ source: ImageSource, _ digest: String, _ what: String, _ shown: String) throws -> [UInt8] {
        let name = try blobName(digest, shown)
        guard source.has(name) else { throw SkiffError("image \(shown): \(what) blob \(digest) is missing") }
        let bytes = try source.read(name)
        let got = try "sha256:" + SHA256.hex(bytes)
        guard got == digest else {
            throw SkiffError("image \(shown): \(what) blob \(digest) does not match its digest (read \(got))")
        }
        return bytes
    }

    static func parse(_ bytes: [UInt8], _ what: String, _ shown: String) throws -> JSON {
        do { return try JSON.parse(bytes) } catch { throw SkiffError("image \(shown): \(what): \(error)") }
    }

    static let refName = "org.opencontainers.image.ref.name"

    /// Whether an image name from a tool ("localhost/web:1") answers to `tag`: the whole
    /// name, its tag ("1"), its short name ("web:1"), or "web" for "web:latest".
    static func tagMatches(_ name: String, _ tag: String) -> Bool {
        name == tag || name.hasSuffix(":" + tag) || name.hasSuffix("/" + tag)
            || (!tag.contains(":") && (name == tag + ":latest" || name.hasSuffix("/" + tag + ":latest")))
    }

    static func openOCI(_ source: ImageSource, path: String, tag: String?, shown: String) throws -> Image {
        let index = try parse(try source.read("index.json"), "index.json", shown)
        var entries = index["manifests"]?.arrayValue ?? []
        let names = entries.compactMap { $0["annotations"]?[refName]?.stringValue }
        if let tag {
            entries = entries.filter { e in e["annotations"]?[refName]?.stringValue.map { tagMatches($0, tag) } ?? false
            }
            guard !entries.isEmpty else {
                throw SkiffError(
                    "image \(path): no tag \"\(tag)\" (tags: \(names.isEmpty ? "none" : names.joined(separator: ", ")))"
                )
            }
        } else if entries.count > 1 {
            let latest = entries.filter { e in
                e["annotations"]?[refName]?.stringValue.map { tagMatches($0, "latest") } ?? false
            }
            guard latest.count == 1 else {
                throw SkiffError(
                    "image \(path) holds several images: name one as \(path):TAG (tags: "
                        + "\(names.joined(separator: ", ")))"
                )
            }
            entries = latest
        }
        guard var entry = entries.first else { throw SkiffError("image \(path): index.json lists no manifest") }
        // An image index (multi-architecture): pick this machine's manifest.
        let arch = hostArchitecture
        var depth = 0
        while entry["mediaType"]?.stringValue == "application/vnd.oci.image.index.v1+json" && depth < 4 {
            let digest = entry["digest"]?.stringValue ?? ""
            let nested = try parse(try readBlob(source, digest, "index", shown), "index \(digest)", shown)
            let list = nested["manifests"]?.arrayValue ?? []
            guard
                let mine = list.first(where: {
                    $0["platform"]?["architecture"]?.stringValue == arch
                        && $0["platform"]?["os"]?.stringValue == "linux"
                })
            else {
                let have = list.compactMap { m in
                    m["platform"].map { "\($0["os"]?.stringValue ?? "?")/\($0["architecture"]?.stringValue ?? "?")" }
                }
                throw SkiffError(
                    "image \(shown) (\(digest)) has no linux/\(arch) image (only \(have.joined(separator: ", ")))")
            }
            entry = mine
            depth += 1
        }
        guard let manifestDigest = entry["digest"]?.stringValue else {
            throw SkiffError("image \(shown): index.json entry without a digest")
        }
        let manifest = try parse(
            try readBlob(source, manifestDigest, "manifest", shown), "manifest \(manifestDigest)", shown)
        guard let configDigest = manifest["config"]?["digest"]?.stringValue else {
            throw SkiffError("image \(shown): manifest \(manifestDigest) has no config")
        }
        let configBytes = try readBlob(source, configDigest, "config", shown)
        var layers: [ImageLayer] = []
        for l in manifest["layers"]?.arrayValue ?? [] {
            guard let d = l["digest"]?.stringValue else {
                throw SkiffError("image \(shown): a layer of manifest \(manifestDigest) has no digest")
            }
            let name = try blobName(d, shown)
            guard source.has(name) else { throw SkiffError("image \(shown): layer blob \(d) is missing") }
            layers.append(
                ImageLayer(
                    digest: d, size: l["size"]?.int64Value, mediaType: l["mediaType"]?.stringValue ?? "", member: name))
        }
        return try finish(
            source, path: path, tag: tag, shown: shown, format: .oci, id: manifestDigest, configBytes: configBytes,
            layers: layers)
    }

    // MARK: docker save archive

    static func openDockerArchive(_ source: ImageSource, path: String, tag: String?, shown: String) throws -> Image {
        let list = try parse(try source.read("manifest.json"), "manifest.json", shown).arrayValue ?? []
        let names = list.flatMap { $0["RepoTags"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        var entries = list
        if let tag {
            entries = list.filter { e in
                (e["RepoTags"]?.arrayValue ?? []).contains { $0.stringValue.map { tagMatches($0, tag) } ?? false }
            }
            guard !entries.isEmpty else {
                throw SkiffError(
                    "image \(path): no tag \"\(tag)\" (tags: \(names.isEmpty ? "none" : names.joined(separator: ", ")))"
                )
            }
        }
        guard entries.count == 1, let entry = entries.first else {
            if entries.isEmpty { throw SkiffError("image \(path): manifest.json lists no image") }
            throw SkiffError(
                "image \(path) holds several images: name one as \(path):TAG (tags: \(names.joined(separator: ", ")))")
        }
        guard let configName = entry["Config"]?.stringValue, source.has(configName) else {
            throw SkiffError("image \(shown): config \(entry["Config"]?.stringValue ?? "(none)") is missing")
        }
        let configBytes = try source.read(configName)
        // The config file is named after its digest (Docker's image id): check it.
        let configHex = try SHA256.hex(configBytes)
        let stem = configName.split(separator: "/").last.map { String($0.split(separator: ".").first ?? $0) } ?? ""
        if stem.count == 64 && stem != configHex {
            throw SkiffError(
                "image \(shown): config sha256:\(stem) does not match its digest (read sha256:\(configHex))")
        }
        let config = try parse(configBytes, "config", shown)
        let diffIDs = config["rootfs"]?["diff_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let members = entry["Layers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard members.count == diffIDs.count else {
            throw SkiffError(
                "image \(shown): manifest.json lists \(members.count) layers but the config has \(diffIDs.count) "
                    + "diff_ids"
            )
        }
        var layers: [ImageLayer] = []
        for (m, d) in zip(members, diffIDs) {
            guard source.has(m) else { throw SkiffError("image \(shown): layer \(d) (\(m)) is missing") }
            layers.append(
                ImageLayer(digest: d, size: nil, mediaType: "application/vnd.oci.image.layer.v1.tar", member: m))
        }
        return try finish(
            source, path: path, tag: tag, shown: shown, format: .dockerArchive, id: "sha256:" + configHex,
            configBytes: configBytes, layers: layers)
    }

    static func finish(
        _ source: ImageSource, path: String, tag: String?, shown: String, format: Format, id: String,
        configBytes: [UInt8], layers: [ImageLayer]
    ) throws -> Image {
        let json = try parse(configBytes, "config", shown)
        let diffIDs = json["rootfs"]?["diff_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard diffIDs.count == layers.count else {
            throw SkiffError(
                "image \(shown): the manifest lists \(layers.count) layers but the config has \(diffIDs.count) diff_ids"
            )
        }
        var layers = layers
        for i in layers.indices { layers[i].diffID = diffIDs[i] }
        let config: ImageConfig
        do { config = try JSONCodec.decode(ImageConfig.self, from: json) } catch {
            throw SkiffError("image \(shown): config: \(error)")
        }
        let arch = hostArchitecture
        if let a = config.architecture, a != arch || (config.os ?? "linux") != "linux" {
            throw SkiffError(
                "image \(shown) (\(id)) is for \(config.os ?? "linux")/\(a); this machine runs linux/\(arch)")
        }
        return Image(
            reference: shown, path: path, tag: tag, format: format, id: id, config: config, configJSON: json,
            layers: layers, source: source)
    }
}
