// The layer cache: each image layer unpacked once, in a directory named by its digest,
// ready to be an overlay lower layer. Layout ($SKIFF_IMAGE_CACHE, else /var/lib/skiff/images):
//   layers/sha256/<hex>/        an unpacked layer (whiteouts already in overlay form)
//   layers/sha256/<hex>.lock    flock'd while the layer is checked or unpacked
//   images/<hex>.json           which images used which layers (for `skiff image ls`)
//
// Unpacking: skiff reads the blob, hashes every chunk (OpenSSL SHA-256) and passes it on
// (through gzip -dc for a compressed layer, hashing its output as well: the config's diff_id)
// to GNU tar on a pipe, so the digests are checked in the same pass that unpacks. tar writes
// into "<hex>.tmp.<pid>"; only a layer whose size, digest and diff_id match, and that tar
// unpacked without error, is renamed to "<hex>". Anything else is removed: no half layer stays.
//
// Whiteouts: image layers mark deletions with files (the AUFS convention, kept by the OCI
// image spec); overlayfs wants other markers. After tar, a walk converts them:
//   .wh.NAME       →  NAME as a character device 0:0 (overlay's whiteout)
//   .wh..wh..opq   →  the directory gets the xattr trusted.overlay.opaque=y
//
// Device nodes: tar runs without CAP_MKNOD (dropped from its bounding set), so a layer
// cannot plant a device node (say, a copy of the host's disk) in the lower layer; the
// runtime creates the container's /dev itself. tar reports those entries and skips them.
import CShim
import Glibc
import SkiffSpec

public enum LayerCache {
    /// $SKIFF_IMAGE_CACHE, else /var/lib/skiff/images.
    public static var root: String {
        getenv("SKIFF_IMAGE_CACHE").map { String(cString: $0) } ?? "/var/lib/skiff/images"
    }
    static var layersDir: String { root + "/layers/sha256" }
    static var recordsDir: String { root + "/images" }

    static func hex(_ digest: String) -> String { String(digest.dropFirst("sha256:".count)) }

    /// The unpacked layers of `image`, base first, unpacking those not cached yet.
    public static func prepare(_ image: Image) throws -> [String] {
        guard !root.contains(":") && !root.contains(",") else {
            throw SkiffError("SKIFF_IMAGE_CACHE \(root): ':' and ',' cannot appear in an overlay lowerdir")
        }
        try mkdirAll(layersDir, mode: 0o700)
        var dirs: [String] = []
        for layer in image.layers {
            guard layer.digest.hasPrefix("sha256:"), hex(layer.digest).count == 64,
                hex(layer.digest).allSatisfy(\.isHexDigit)
            else {
                throw SkiffError("image \(image.reference): unsupported layer digest \"\(layer.digest)\"")
            }
            dirs.append(try unpackOnce(layer, image))
        }
        try? mkdirAll(recordsDir, mode: 0o700)
        let record: JSON = .object([
            ("reference", .string(image.reference)), ("id", .string(image.id)),
            ("format", .string(image.format.rawValue)),
            ("layers", .array(image.layers.map { .string($0.digest) })), ("lastUsed", .string(rfc3339Now())),
        ])
        try? writeFileAtomic(
            recordsDir + "/" + hex(image.id) + ".json", record.serialized(indent: "  ") + "\n", mode: 0o600)
        return dirs
    }

    /// Take the layer's lock; use the cached directory, or unpack it.
    static func unpackOnce(_ layer: ImageLayer, _ image: Image) throws -> String {
        let h = hex(layer.digest)
        let dest = layersDir + "/" + h
        let lock = try lockLayer(h)
        defer { close(lock) }
        if isDirectory(dest) {
            Explain.note("layer", "\(layer.digest) (cached)")
            return dest
        }
        // A run that died while unpacking left its temporary directory: remove it.
        for name in listDirectory(layersDir) where name.hasPrefix(h + ".tmp.") {
            if let pid = Int32(name.dropFirst(h.count + 5)), kill(pid, 0) == 0 || errno == EPERM { continue }
            removeAll(layersDir + "/" + name)
        }
        let tmp = dest + ".tmp.\(getpid())"
        try sys("mkdir \(tmp)") { mkdir(tmp, 0o755) }
        do {
            var pipeline = "tar -x"
            try Explain.step("layer", "\(layer.digest) | \(pipeline) -C \(tmp)") {
                pipeline = try extract(layer, image, into: tmp)
            }
            do { try convertWhiteouts(tmp) } catch {
                throw SkiffError("image \(image.reference): layer \(layer.digest): \(error)")
            }
            if rename(tmp, dest) != 0 {
                // Another skiff that did not see our lock (prune removed the lock file) won.
                guard errno == EEXIST || errno == ENOTEMPTY else { throw SkiffError("rename \(tmp): \(errnoText())") }
                removeAll(tmp)
            }
        } catch {
            removeAll(tmp)
            throw error
        }
        return dest
    }

    static func lockLayer(_ h: String) throws -> Int32 {
        let path = layersDir + "/" + h + ".lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 { throw SkiffError("open \(path): \(errnoText())") }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            close(fd)
            throw SkiffError("flock \(path): \(errnoText())")
        }
        return fd
    }

    /// Stream the blob through SHA-256 into `tar -x` (through `gzip -dc` or `zstd -dc` for a
    /// compressed layer, hashing what comes out too), then check the blob's size and digest,
    /// the uncompressed tar's digest (the config's diff_id) and tar's exit. Returns the
    /// pipeline, for --explain.
    static func extract(_ layer: ImageLayer, _ image: Image, into dir: String) throws -> String {
        let what = "image \(image.reference): layer \(layer.digest)"
        let (src, reader) = try image.source.open(layer.member)
        defer { close(src) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        func readChunk() -> Int {
            while true {
                let n = buf.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        var n = readChunk()
        // The compression, from the first bytes (media types are not always right).
        var decompressor: [String]?
        if n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b { decompressor = ["gzip", "-dc"] }
        if n >= 4 && buf[0] == 0x28 && buf[1] == 0xb5 && buf[2] == 0x2f && buf[3] == 0xfd {
            decompressor = ["zstd", "-dcq"]
        }
        let errPath = dir + ".err"
        let errFd = open(errPath, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0o600)
        if errFd < 0 { throw SkiffError("open \(errPath): \(errnoText())") }
        defer {
            close(errFd)
            unlink(errPath)
        }
        let toTar = try makePipe()
        let tar: Spawned
        do {
            tar = try Spawned.start(
                [
                    "tar", "--numeric-owner", "-xp", "--xattrs", "--xattrs-include=security.capability", "-f", "-",
                    "-C", dir,
                ],
                stdin: toTar.read, stderr: errFd, dropMknod: true)
        } catch {
            close(toTar.read)
            close(toTar.write)
            throw error
        }
        close(toTar.read)

        let blobSHA = try SHA256()
        let tarSHA = try SHA256()
        var total: Int64 = 0
        var tarReading = true
        var readError: String?
        var unzipStatus: Int32 = 0
        // tar (or the decompressor) may stop reading a broken layer: keep hashing, so the
        // error names the digest. Never die of SIGPIPE over it.
        let oldPipe = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, oldPipe) }
        func toTarWrite(_ bytes: ArraySlice<UInt8>) {
            bytes.withUnsafeBytes { tarSHA.update($0) }
            if tarReading { tarReading = (try? writeAll(toTar.write, Array(bytes))) != nil }
        }
        func hashBlob(_ count: Int) {
            buf.withUnsafeBytes { blobSHA.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += Int64(count)
        }

        if let decompressor {
            // skiff → decompressor → skiff → tar: a poll loop, so that neither pipe can fill
            // up while skiff waits on the other.
            let a = try makePipe()
            let b = try makePipe()
            let unzip: Spawned
            do { unzip = try Spawned.start(decompressor, stdin: a.read, stdout: b.write, stderr: errFd) } catch {
                for fd in [a.read, a.write, b.read, b.write, toTar.write] { close(fd) }
                _ = tar.wait()
                throw error
            }
            close(a.read)
            close(b.write)
            _ = fcntl(a.write, F_SETFL, fcntl(a.write, F_GETFL) | O_NONBLOCK)
            var pending: [UInt8] = []
            var offset = 0
            if n > 0 {
                hashBlob(n)
                pending = Array(buf[0..<n])
            }
            var srcDone = n <= 0
            var toUnzipOpen = true
            var fromUnzipOpen = true
            if n < 0 { readError = errnoText() }
            var out = [UInt8](repeating: 0, count: 1 << 16)
            while fromUnzipOpen {
                if offset == pending.count && !srcDone {
                    n = readChunk()
                    if n > 0 {
                        hashBlob(n)
                        pending = Array(buf[0..<n])
                        offset = 0
                    } else {
                        srcDone = true
                        if n < 0 { readError = errnoText() }
                    }
                }
                if offset == pending.count && srcDone && toUnzipOpen {
                    close(a.write)
                    toUnzipOpen = false
                }
                var fds = [pollfd(fd: b.read, events: Int16(POLLIN), revents: 0)]
                if toUnzipOpen && offset < pending.count {
                    fds.append(pollfd(fd: a.write, events: Int16(POLLOUT), revents: 0))
                }
                if poll(&fds, nfds_t(fds.count), -1) < 0 {
                    if errno == EINTR { continue }
                    readError = "poll: \(errnoText())"
                    break
                }
                if fds.count > 1 && fds[1].revents != 0 {
                    let w = pending.withUnsafeBytes { write(a.write, $0.baseAddress! + offset, pending.count - offset) }
                    if w > 0 {
                        offset += w
                    } else if w < 0 && errno != EAGAIN && errno != EINTR {
                        // The decompressor gave up (not gzip after all, a cut stream).
                        close(a.write)
                        toUnzipOpen = false
                        offset = pending.count
                    }
                }
                if fds[0].revents != 0 {
                    let m = out.withUnsafeMutableBytes { read(b.read, $0.baseAddress, $0.count) }
                    if m > 0 {
                        toTarWrite(out[0..<m])
                    } else if m == 0 || (errno != EINTR && errno != EAGAIN) {
                        fromUnzipOpen = false
                    }
                }
            }
            close(b.read)
            if toUnzipOpen { close(a.write) }
            while !srcDone { // the rest of the blob, hashed
                n = readChunk()
                if n > 0 {
                    hashBlob(n)
                } else {
                    srcDone = true
                    if n < 0 { readError = errnoText() }
                }
            }
            unzipStatus = unzip.wait()
        } else {
            while n > 0 {
                hashBlob(n)
                toTarWrite(buf[0..<n])
                n = readChunk()
            }
            if n < 0 { readError = errnoText() }
        }
        close(toTar.write)
        let tarStatus = tar.wait()
        let readerStatus = reader?.wait() ?? 0
        let got = "sha256:" + blobSHA.hexDigest()
        let tarDigest = "sha256:" + tarSHA.hexDigest()

        if let readError { throw SkiffError("\(what): read: \(readError)") }
        if readerStatus != 0 { throw SkiffError("\(what): tar could not read it from \(image.path)") }
        if let size = layer.size, total != size {
            throw SkiffError(
                total < size
                    ? "\(what) is truncated (read \(total) of \(size) bytes)"
                    : "\(what) is bigger than its descriptor says (\(total) bytes, not \(size))")
        }
        guard got == layer.digest else { throw SkiffError("\(what) does not match its digest (read \(got))") }
        // gzip exits 2 for a warning (trailing garbage); the diff_id below still checks the content.
        if unzipStatus != 0 && unzipStatus != 2 {
            throw SkiffError("\(what): \(decompressor![0]) could not decompress it")
        }
        if let diffID = layer.diffID, diffID != tarDigest {
            throw SkiffError("\(what): its content does not match the config's diff_id \(diffID) (read \(tarDigest))")
        }
        if tarStatus != 0 {
            _ = lseek(errFd, 0, SEEK_SET)
            let lines = String(decoding: readAll(errFd), as: UTF8.self).split(separator: "\n").map(String.init)
            let devices = lines.filter { $0.includes("Cannot mknod") }
            let others = lines.filter { !$0.includes("Cannot mknod") && !$0.includes("Exiting with failure status") }
            guard !others.isEmpty || devices.isEmpty else {
                Explain.note(
                    "skipped devices", "\(devices.count) device node(s) in \(layer.digest) (not created: no CAP_MKNOD)")
                return (decompressor.map { $0.joined(separator: " ") + " | " } ?? "") + "tar -x"
            }
            throw SkiffError("\(what): unpacking failed: \(others.first ?? "tar exit status \(tarStatus)")")
        }
        return (decompressor.map { $0.joined(separator: " ") + " | " } ?? "") + "tar -x"
    }

    /// .wh.NAME → whiteout device NAME; .wh..wh..opq → opaque directory. Returns nothing;
    /// throws if the file system cannot hold them (trusted xattrs need a real fs).
    static func convertWhiteouts(_ dir: String) throws {
        for name in listDirectory(dir) {
            let path = dir + "/" + name
            if name == ".wh..wh..opq" {
                unlink(path)
                try sys("setxattr \(dir) trusted.overlay.opaque=y") {
                    setxattr(dir, "trusted.overlay.opaque", "y", 1, 0)
                }
            } else if name.hasPrefix(".wh..wh.") {
                removeAll(path) // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): no meaning to overlay
            } else if name.hasPrefix(".wh.") {
                // ".wh.." or ".wh..." would name this directory or its parent (outside the layer).
                let hidden = name.dropFirst(4)
                guard hidden != "." && hidden != ".." && !hidden.isEmpty else {
                    throw SkiffError("whiteout \(path) names no file (a broken or hostile layer)")
                }
                let target = dir + "/" + hidden
                unlink(path)
                removeAll(target)
                try sys("mknod \(target) c 0 0") { mknod(target, S_IFCHR | 0o000, 0) }
            } else {
                var st = stat()
                if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { try convertWhiteouts(path) }
            }
        }
    }

    // MARK: ls and prune

    public struct CachedLayer {
        public let digest: String
        public let path: String
        public let bytes: Int64
        /// The references of the images (from records) that use it.
        public let images: [String]
    }

    public struct ImageRecord {
        public let reference: String
        public let id: String
        public let layers: [String]
    }

    public static func images() -> [ImageRecord] {
        listDirectory(recordsDir).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let bytes = readFile(recordsDir + "/" + name), let j = try? JSON.parse(bytes),
                let ref = j["reference"]?.stringValue, let id = j["id"]?.stringValue
            else { return nil }
            return ImageRecord(reference: ref, id: id, layers: j["layers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    public static func layers() -> [CachedLayer] {
        let records = images()
        return listDirectory(layersDir).filter { $0.count == 64 && isDirectory(layersDir + "/" + $0) }.sorted().map {
            h in
            let d = "sha256:" + h
            var seen = Set<UInt64>()
            return CachedLayer(
                digest: d, path: layersDir + "/" + h, bytes: diskUsage(layersDir + "/" + h, &seen),
                images: records.filter { $0.layers.contains(d) }.map(\.reference))
        }
    }

    /// What `du` counts: allocated blocks, each inode once.
    public static func diskUsage(_ path: String, _ seen: inout Set<UInt64>) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0, seen.insert(UInt64(st.st_ino)).inserted else { return 0 }
        var total = Int64(st.st_blocks) * 512
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in listDirectory(path) { total += diskUsage(path + "/" + name, &seen) }
        }
        return total
    }

    /// Remove every cached layer not in `inUse` (layer directories that containers use),
    /// each under its lock; then the image records none of whose layers remain.
    public static func prune(inUse: Set<String>) -> [CachedLayer] {
        var removed: [CachedLayer] = []
        for layer in layers() where !inUse.contains(layer.path) {
            let h = hex(layer.digest)
            guard let lock = try? lockLayer(h) else { continue }
            removeAll(layer.path)
            unlink(layersDir + "/" + h + ".lock")
            close(lock)
            Explain.note("remove layer", "\(layer.digest) rm -r \(layer.path)")
            removed.append(layer)
        }
        let left = Set(layers().map(\.digest))
        for name in listDirectory(recordsDir) where name.hasSuffix(".json") {
            let bytes = readFile(recordsDir + "/" + name) ?? []
            let ls = (try? JSON.parse(bytes))?["layers"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if !ls.contains(where: left.contains) { unlink(recordsDir + "/" + name) }
        }
        return removed
    }
}
