// SHA-256, the digest that names every image blob and cache entry, computed by OpenSSL's
// libcrypto (EVP interface) rather than by hand.
//
// Why libcrypto and not swift-crypto: it is a Debian system library (libssl-dev), used the
// way libseccomp and libcap already are (a module map, Sources/CCrypto), so it adds no
// Swift package and seconds, not a minute, to a clean build; it is what sha256sum-grade
// tools use, maintained with security updates, with SHA-NI/AVX2 code paths; and it links
// statically as well as dynamically.
//
// A SHA256 value is fed while the bytes go by (a layer is hashed as it is unpacked, not
// read twice): `update` per chunk, `hexDigest()` at the end.
import CCrypto
import Glibc

final class SHA256 {
    private let ctx: OpaquePointer

    init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) }
    }

    func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex digits (call once).
    func hexDigest() -> String {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &out, &len)
        let hex: [Character] = Array("0123456789abcdef")
        return String(out[0..<Int(len)].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
    }

    /// The hex digest of some bytes.
    static func hex(_ bytes: [UInt8]) -> String {
        let s = SHA256()
        s.update(bytes)
        return s.hexDigest()
    }

    /// The hex digest of a file, read in chunks; nil if it cannot be read.
    static func file(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return file(fd: fd)
    }

    /// The hex digest of what an open file holds from its current offset on.
    static func file(fd: Int32) -> String? {
        let sha = SHA256()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            buf.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return sha.hexDigest()
    }
}
