// Named volumes: `-v NAME:/path` mounts DATA/volumes/NAME, a directory Skiff manages.
// It is made on first use and outlives the containers that use it, so two containers
// (at the same time or one after the other) share its files. There is nothing more to
// a Docker "local" volume: a host directory bind-mounted into each container.
import Glibc
import SkiffSpec

public struct Volumes {
    public let dataRoot: String
    public init(dataRoot: String) { self.dataRoot = dataRoot }

    public var directory: String { dataRoot + "/volumes" }
    public func path(_ name: String) -> String { directory + "/" + name }

    /// Docker's rule for volume names: a letter or digit, then letters, digits, _ . -
    /// (so never "/" or ".."). One character is enough here.
    public static func validate(_ name: String) throws {
        let scalars = Array(name.unicodeScalars)
        func alnum(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
        }
        guard let first = scalars.first, alnum(first), scalars.count <= 255,
            scalars.allSatisfy({ alnum($0) || "_.-".unicodeScalars.contains($0) })
        else {
            throw SkiffError(
                "invalid volume name \"\(name)\": use letters, digits, '_', '.' and '-', starting with a letter "
                    + "or digit"
            )
        }
    }

    /// Make the volume if it does not exist; true when it was made.
    @discardableResult
    public func create(_ name: String) throws -> Bool {
        try Volumes.validate(name)
        try mkdirAll(directory, mode: 0o700)
        if mkdir(path(name), 0o755) == 0 { return true }
        if errno == EEXIST && isDirectory(path(name)) { return false }
        throw SkiffError("volume \(name): mkdir \(path(name)): \(errnoText())")
    }

    public func exists(_ name: String) -> Bool {
        (try? Volumes.validate(name)) != nil && isDirectory(path(name))
    }

    public func names() -> [String] {
        listDirectory(directory).filter { isDirectory(path($0)) }
    }

    /// Creation time (the directory's), RFC 3339 in UTC.
    public func created(_ name: String) -> String {
        var st = stat()
        guard stat(path(name), &st) == 0 else { return "" }
        var t = st.st_mtim.tv_sec
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tmv)
        return String(cString: buf)
    }

    /// Remove a volume and its files. Refused while a container (running or stopped) uses it.
    public func remove(_ name: String, runtime: Runtime) throws {
        try Volumes.validate(name)
        guard isDirectory(path(name)) else { throw SkiffError("volume \"\(name)\" does not exist") }
        let users = runtime.store.ids().filter { id in
            ((try? runtime.store.load(id))?.config.mounts ?? []).contains { $0.source == path(name) }
        }
        if !users.isEmpty {
            throw SkiffError(
                "volume \"\(name)\" is in use by container\(users.count == 1 ? "" : "s") "
                    + "\(users.joined(separator: ", ")) (delete \(users.count == 1 ? "it" : "them") first)"
            )
        }
        removeAll(path(name))
    }

    /// `-v NAME:/path[:ro|rw]` → (a bind mount of the volume, NAME); nil when the source is
    /// a host path (it starts with "/"). The volume is not made here (see QuickRun.spec).
    static func namedVolumeMount(_ v: String, dataRoot: String) throws -> (Mount, String)? {
        let parts = v.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let source = parts.first, !source.hasPrefix("/") else { return nil }
        guard parts.count == 2 || parts.count == 3, parts[1].hasPrefix("/") else {
            throw SkiffError("--volume \(v): expected /host/path:/container/path[:ro] or NAME:/container/path[:ro]")
        }
        do { try validate(source) } catch let e as SkiffError { throw SkiffError("--volume \(v): \(e.message)") }
        var options = ["rbind"]
        if parts.count == 3 {
            guard parts[2] == "ro" || parts[2] == "rw" else {
                throw SkiffError("--volume \(v): unknown mode \"\(parts[2])\" (ro or rw)")
            }
            options.append(parts[2])
        }
        return (
            Mount(
                destination: parts[1], type: "bind", source: Volumes(dataRoot: dataRoot).path(source),
                options: options),
            source
        )
    }
}
