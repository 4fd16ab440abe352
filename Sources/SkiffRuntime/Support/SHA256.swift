// SHA-256, the digest that names every image blob and cache entry, computed by OpenSSL's
// libcrypto (EVP interface) rather than by hand.
//
// Why libcrypto and not swift-crypto: it is a Debian system library (libssl3), maintained
// with security updates, with SHA-NI/AVX2 code paths, and it adds no Swift package to the
// build.
//
// Why dlopen and not a link: only image and --rootfs tarball work hashes anything, yet a
// linked libcrypto (4.6 MB, 1.4 MB of it resident) is mapped and relocated at every start of
// skiff, twice per `run` (the exe protection re-executes the binary). So it is loaded at the
// first digest, with the six EVP functions looked up by name; a plain `run` never maps it.
// The prototypes below are OpenSSL 3's (<openssl/evp.h>), whose ABI is stable within
// libcrypto.so.3.
//
// A SHA256 value is fed while the bytes go by (a layer is hashed as it is unpacked, not
// read twice): `update` per chunk, `hexDigest()` at the end.
import Glibc

final class SHA256 {
    private let evp: LibCrypto
    private let ctx: OpaquePointer

    /// Fails (one clear line) when libcrypto cannot be loaded.
    init() throws {
        evp = try LibCrypto.load()
        guard let ctx = evp.ctxNew() else { throw SkiffError("sha256: EVP_MD_CTX_new failed") }
        self.ctx = ctx
        guard evp.digestInit(ctx, evp.sha256(), nil) == 1 else {
            evp.ctxFree(ctx)
            throw SkiffError("sha256: EVP_DigestInit_ex failed")
        }
    }

    deinit { evp.ctxFree(ctx) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { _ = evp.digestUpdate(ctx, bytes.baseAddress, bytes.count) }
    }

    func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex digits (call once).
    func hexDigest() -> String {
        var out = [UInt8](repeating: 0, count: 64) // EVP_MAX_MD_SIZE
        var len: UInt32 = 0
        _ = evp.digestFinal(ctx, &out, &len)
        let hex: [Character] = Array("0123456789abcdef")
        return String(out[0..<Int(len)].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
    }

    /// The hex digest of some bytes.
    static func hex(_ bytes: [UInt8]) throws -> String {
        let s = try SHA256()
        s.update(bytes)
        return s.hexDigest()
    }

    /// The hex digest of a file, read in chunks; nil if it cannot be read.
    static func file(_ path: String) throws -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return try file(fd: fd)
    }

    /// The hex digest of what an open file holds from its current offset on; nil if it
    /// cannot be read.
    static func file(fd: Int32) throws -> String? {
        let sha = try SHA256()
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

/// The EVP digest functions of libcrypto.so.3, looked up once per process.
private struct LibCrypto {
    typealias CtxNew = @convention(c) () -> OpaquePointer?
    typealias CtxFree = @convention(c) (OpaquePointer?) -> Void
    typealias MD = @convention(c) () -> OpaquePointer?
    typealias DigestInit = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    typealias DigestUpdate = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> Int32
    typealias DigestFinal =
        @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?)
        -> Int32

    let ctxNew: CtxNew
    let ctxFree: CtxFree
    let sha256: MD
    let digestInit: DigestInit
    let digestUpdate: DigestUpdate
    let digestFinal: DigestFinal

    /// The soname Debian's libssl3 package installs (the ABI these prototypes are for).
    static let soname = "libcrypto.so.3"

    /// Loaded at the first call; the result (or the error) is kept for the process's life.
    private static let loaded: Result<LibCrypto, SkiffError> = Result { try LibCrypto() }.mapError {
        $0 as? SkiffError ?? SkiffError("\($0)")
    }

    static func load() throws -> LibCrypto { try loaded.get() }

    private init() throws {
        // RTLD_LOCAL: its symbols stay out of the global namespace (nothing else uses them).
        guard let handle = dlopen(Self.soname, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            throw SkiffError("sha256 needs OpenSSL's \(Self.soname) (Debian: apt-get install libssl3): \(why)")
        }
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else {
                throw SkiffError("sha256: \(Self.soname) has no \(name)")
            }
            return unsafeBitCast(p, to: T.self)
        }
        ctxNew = try symbol("EVP_MD_CTX_new", CtxNew.self)
        ctxFree = try symbol("EVP_MD_CTX_free", CtxFree.self)
        sha256 = try symbol("EVP_sha256", MD.self)
        digestInit = try symbol("EVP_DigestInit_ex", DigestInit.self)
        digestUpdate = try symbol("EVP_DigestUpdate", DigestUpdate.self)
        digestFinal = try symbol("EVP_DigestFinal_ex", DigestFinal.self)
    }
}
