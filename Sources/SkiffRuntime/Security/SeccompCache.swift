// The seccomp cache: compiled filters kept in the state root, one file per profile, so
// that libseccomp compiles a profile once rather than at every container start.
//
//   ROOT/@seccomp-cache/            0700, skiff's user's ('@' is never in a container id)
//     NAME.bpf                      0600: a header, the key, then the BPF instructions
//
// The key is everything the program depends on, written out in full: the profile (as
// JSON, without listenerPath and listenerMetadata, which only say where the listener fd
// goes), the machine and kernel release (libseccomp asks the kernel which actions and
// flags it supports), the libseccomp version, skiff's version and `formatVersion`. Bump
// `formatVersion` whenever SeccompFilter translates a profile differently. NAME is a
// 64-bit FNV-1a hash of the key: it only picks the file. The file holds the whole key and
// a lookup compares it byte for byte, so two profiles whose names collide never share a
// program (the second one is recompiled and replaces the file). No cryptographic hash is
// needed, and so a container start never loads libcrypto (SHA256.swift).
//
// The state root is root's alone (0700), so only root can write here; still, a cache file
// is trusted only when it is a regular file owned by skiff's user and not writable by
// group or others, in a directory that is the same; when it holds exactly the key it was
// asked for; and when its length and the checksum of its instructions match the header
// (a guard against a damaged file, not against an attacker: that one would need root).
// Anything else is rejected with a warning, and the filter compiled and stored again. The
// kernel checks the program itself once more when it is loaded (seccomp_check_filter).
// Files are written whole under a temporary name (O_EXCL) and renamed into place, so a
// reader sees the old file or the new one, never half of one.
import Glibc
import SkiffSpec

struct SeccompCache {
    static let directoryName = "@seccomp-cache"
    /// Part of every key: bump it when the translation of a profile changes.
    static let formatVersion = 1
    static let magic = Array("SKIFFBPF".utf8)
    /// magic, then 6 UInt32 (format, rule count, flags, notify, instruction count, key
    /// length), then the FNV-1a of the instructions in 16 hex digits; the key follows.
    static let headerSize = 8 + 6 * 4 + 16
    /// A key longer than this is not read from a file (a profile is a few KB of JSON).
    static let maxKeyLength = 1 << 20

    let directory: String

    init(stateRoot: String) { directory = stateRoot + "/" + Self.directoryName }

    func path(_ key: String) -> String { directory + "/" + Self.fileName(key) }

    /// The file that holds the program for `key`.
    static func fileName(_ key: String) -> String { fnv1a(Array(key.utf8)) + ".bpf" }

    /// 64-bit FNV-1a, as 16 hex digits.
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    enum Lookup: Equatable {
        case hit(SeccompProgram)
        case miss
        case rejected(String)
    }

    /// The key for `config` on this machine: what the program depends on, in full.
    func key(for config: LinuxSeccomp) -> String {
        var profile = config
        profile.listenerPath = nil
        profile.listenerMetadata = nil
        let u = Uname.current()
        let facts = [
            "skiff seccomp cache \(Self.formatVersion)", "skiff \(skiffVersion)", "machine \(u.machine)",
            "kernel \(u.release)", "libseccomp \(libseccompVersion())",
        ]
        return facts.joined(separator: "\n") + "\n" + JSONCodec.encode(profile)
    }

    /// The cached program for `key`, if there is one that can be trusted.
    func lookup(_ key: String) -> Lookup {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if dir < 0 { return errno == ENOENT ? .miss : .rejected("cannot open \(directory): \(errnoText())") }
        defer { close(dir) }
        if let why = Self.untrusted(dir, "the directory") { return .rejected(why) }
        let fd = openat(dir, Self.fileName(key), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { return errno == ENOENT ? .miss : .rejected("cannot open: \(errnoText())") }
        defer { close(fd) }
        if let why = Self.untrusted(fd, "the file") { return .rejected(why) }
        switch Self.decode(readAll(fd), key: key) {
        case .success(let program): return .hit(program)
        case .failure(let error): return .rejected(error.message)
        }
    }

    /// Why an open cache file or directory must not be trusted, or nil.
    static func untrusted(_ fd: Int32, _ what: String) -> String? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "\(what): fstat: \(errnoText())" }
        let isDirectory = what == "the directory"
        let type = st.st_mode & S_IFMT
        if type != (isDirectory ? S_IFDIR : S_IFREG) {
            return "\(what) is not a \(isDirectory ? "directory" : "regular file")"
        }
        if st.st_uid != geteuid() { return "\(what) is owned by uid \(st.st_uid), not \(geteuid())" }
        if st.st_mode & 0o022 != 0 {
            return "\(what) is writable by group or others (mode \(String(st.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }

    /// Write `program` as the cache file for `key`.
    func store(_ program: SeccompProgram, key: String) throws {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw SkiffError("mkdir \(directory): \(errnoText())") }
        let dir = try sys("open \(directory)") { open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(dir) }
        if let why = Self.untrusted(dir, "the directory") { throw SkiffError("\(directory): \(why)") }
        let name = Self.fileName(key)
        let tmp = name + ".tmp.\(getpid())"
        _ = unlinkat(dir, tmp, 0) // left by a skiff killed half-way that had this pid
        let fd = try sys("create \(directory)/\(tmp)") {
            openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        do {
            defer { close(fd) }
            try writeAll(fd, Self.encode(program, key: key))
            try sys("rename \(tmp) to \(name)") { renameat(dir, tmp, dir, name) }
        } catch {
            _ = unlinkat(dir, tmp, 0)
            throw error
        }
    }

    // MARK: - The file format

    static func encode(_ program: SeccompProgram, key: String) -> [UInt8] {
        var out = magic
        for value in [
            UInt32(formatVersion), UInt32(program.ruleCount), program.flags, program.usesNotify ? 1 : 0,
            UInt32(program.instructionCount), UInt32(key.utf8.count),
        ] {
            withUnsafeBytes(of: value.littleEndian) { out += $0 }
        }
        out += Array(fnv1a(program.instructions).utf8) + Array(key.utf8) + program.instructions
        return out
    }

    /// The program in a cache file's bytes, after checking that they are one.
    static func decode(_ bytes: [UInt8], key: String) -> Result<SeccompProgram, SkiffError> {
        func fail(_ why: String) -> Result<SeccompProgram, SkiffError> { .failure(SkiffError(why)) }
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else { return fail("not a skiff BPF cache file") }
        func word(_ i: Int) -> UInt32 {
            UInt32(bytes[8 + 4 * i]) | UInt32(bytes[9 + 4 * i]) << 8 | UInt32(bytes[10 + 4 * i]) << 16
                | UInt32(bytes[11 + 4 * i]) << 24
        }
        guard word(0) == formatVersion else { return fail("format \(word(0)), expected \(formatVersion)") }
        let count = Int(word(4))
        let knownFlags = SeccompProgram.flagLog | SeccompProgram.flagSpecAllow
        let keyLength = Int(word(5))
        guard (1...SeccompProgram.maxInstructions).contains(count), word(2) & ~knownFlags == 0, word(3) <= 1,
            keyLength <= maxKeyLength
        else {
            return fail("corrupt header")
        }
        let expected = headerSize + keyLength + 8 * count
        guard bytes.count == expected else {
            return fail("\(bytes.count) bytes, expected \(expected) for \(count) instructions")
        }
        guard bytes[headerSize..<headerSize + keyLength].elementsEqual(key.utf8) else {
            return fail("made for another profile")
        }
        let instructions = Array(bytes[(headerSize + keyLength)...])
        guard Array(bytes[headerSize - 16..<headerSize]) == Array(fnv1a(instructions).utf8) else {
            return fail("the instructions do not match their checksum (corrupt)")
        }
        return .success(
            SeccompProgram(
                instructions: instructions, ruleCount: Int(word(1)), usesNotify: word(3) == 1, flags: word(2)))
    }
}
