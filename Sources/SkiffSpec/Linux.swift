// `linux`: namespaces, ID mappings, devices, masking, and the other
// Linux-only settings. Cgroup resources are in Resources.swift and seccomp
// in Seccomp.swift.

/// Linux-specific configuration.
public struct Linux: Codable, Equatable, Sendable {
    /// User ID mappings of a new user namespace (host -> container).
    public var uidMappings: [LinuxIDMapping]?
    /// Group ID mappings of a new user namespace.
    public var gidMappings: [LinuxIDMapping]?
    /// Kernel parameters to set in the container, e.g. "net.ipv4.ip_forward": "1".
    public var sysctl: [String: String]?
    /// Cgroup resource limits.
    public var resources: LinuxResources?
    /// The container's cgroup: "/absolute" (below the cgroup root), "relative",
    /// or systemd's "slice:prefix:name".
    public var cgroupsPath: String?
    /// Namespaces to create (no path) or join (path).
    public var namespaces: [LinuxNamespace]?
    /// Device nodes to create in the container.
    public var devices: [LinuxDevice]?
    /// Host network devices to move into the container, by host name.
    public var netDevices: [String: LinuxNetDevice]?
    /// The seccomp system call filter.
    public var seccomp: LinuxSeccomp?
    /// Mount propagation of the root filesystem: shared, slave, private,
    /// unbindable, or the recursive r-variants.
    public var rootfsPropagation: String?
    /// Paths to hide in the container (a /dev/null or empty tmpfs is mounted over them).
    public var maskedPaths: [String]?
    /// Paths to make read-only in the container.
    public var readonlyPaths: [String]?
    /// SELinux context for the container's mounts.
    public var mountLabel: String?
    /// Intel RDT (resctrl) cache and memory bandwidth allocation.
    public var intelRdt: LinuxIntelRdt?
    /// Execution domain (personality(2)).
    public var personality: LinuxPersonality?
    /// Clock offsets of a new time namespace, keyed by clock ("monotonic", "boottime").
    public var timeOffsets: [String: LinuxTimeOffset]?

    public init(
        uidMappings: [LinuxIDMapping]? = nil,
        gidMappings: [LinuxIDMapping]? = nil,
        sysctl: [String: String]? = nil,
        resources: LinuxResources? = nil,
        cgroupsPath: String? = nil,
        namespaces: [LinuxNamespace]? = nil,
        devices: [LinuxDevice]? = nil,
        netDevices: [String: LinuxNetDevice]? = nil,
        seccomp: LinuxSeccomp? = nil,
        rootfsPropagation: String? = nil,
        maskedPaths: [String]? = nil,
        readonlyPaths: [String]? = nil,
        mountLabel: String? = nil,
        intelRdt: LinuxIntelRdt? = nil,
        personality: LinuxPersonality? = nil,
        timeOffsets: [String: LinuxTimeOffset]? = nil
    ) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.sysctl = sysctl
        self.resources = resources
        self.cgroupsPath = cgroupsPath
        self.namespaces = namespaces
        self.devices = devices
        self.netDevices = netDevices
        self.seccomp = seccomp
        self.rootfsPropagation = rootfsPropagation
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.mountLabel = mountLabel
        self.intelRdt = intelRdt
        self.personality = personality
        self.timeOffsets = timeOffsets
    }
}

extension Linux {
    /// The namespace entry of `type`, if any.
    public func namespace(_ type: LinuxNamespaceType) -> LinuxNamespace? {
        namespaces?.first(where: { $0.type == type })
    }

    /// True if the container gets a new namespace of `type` (listed, without a path).
    public func createsNamespace(_ type: LinuxNamespaceType) -> Bool {
        guard let ns = namespace(type) else { return false }
        return ns.path?.isEmpty ?? true
    }
}

/// A namespace to create or join.
public struct LinuxNamespace: Codable, Equatable, Sendable {
    /// The kind of namespace.
    public var type: LinuxNamespaceType
    /// An existing namespace to join (e.g. "/proc/1234/ns/net"); nil or empty creates a new one.
    public var path: String?

    public init(type: LinuxNamespaceType, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

/// A kind of Linux namespace.
public enum LinuxNamespaceType: String, SpecEnum {
    case pid
    case network
    case mount
    case ipc
    case uts
    case user
    case cgroup
    case time

    public static var kind: String { "namespace" }
}

/// A range of user or group IDs mapped into a user namespace.
public struct LinuxIDMapping: Codable, Equatable, Sendable {
    /// First ID inside the container.
    public var containerID: UInt32
    /// First ID on the host that `containerID` maps to.
    public var hostID: UInt32
    /// How many IDs are mapped.
    public var size: UInt32

    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

/// The offset of one clock in a time namespace.
public struct LinuxTimeOffset: Codable, Equatable, Sendable {
    /// Whole seconds.
    public var secs: Int64?
    /// Additional nanoseconds, below 1_000_000_000.
    public var nanosecs: UInt32?

    public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
        self.secs = secs
        self.nanosecs = nanosecs
    }
}

/// A device node to create in the container.
public struct LinuxDevice: Codable, Equatable, Sendable {
    /// Absolute path of the node inside the container.
    public var path: String
    /// "c" (character), "b" (block), "u" (unbuffered character) or "p" (FIFO).
    public var type: String
    /// Major number (not needed for "p").
    public var major: Int64
    /// Minor number (not needed for "p").
    public var minor: Int64
    /// Permission bits of the node.
    public var fileMode: UInt32?
    /// Owner, in the container's user namespace.
    public var uid: UInt32?
    /// Group, in the container's user namespace.
    public var gid: UInt32?

    public init(
        path: String,
        type: String,
        major: Int64 = 0,
        minor: Int64 = 0,
        fileMode: UInt32? = nil,
        uid: UInt32? = nil,
        gid: UInt32? = nil
    ) {
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }

    private enum CodingKeys: String, CodingKey {
        case path, type, major, minor, fileMode, uid, gid
    }

    /// Written out because `major` and `minor` may be left out for FIFOs ("p").
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        type = try c.decode(String.self, forKey: .type)
        major = try c.decodeIfPresent(Int64.self, forKey: .major) ?? 0
        minor = try c.decodeIfPresent(Int64.self, forKey: .minor) ?? 0
        fileMode = try c.decodeIfPresent(UInt32.self, forKey: .fileMode)
        uid = try c.decodeIfPresent(UInt32.self, forKey: .uid)
        gid = try c.decodeIfPresent(UInt32.self, forKey: .gid)
    }
}

/// A host network device moved into the container's network namespace.
public struct LinuxNetDevice: Codable, Equatable, Sendable {
    /// The device's name inside the container; nil keeps the host name.
    public var name: String?

    public init(name: String? = nil) {
        self.name = name
    }
}

/// The execution domain of the process (personality(2)).
public struct LinuxPersonality: Codable, Equatable, Sendable {
    /// The execution domain.
    public var domain: LinuxPersonalityDomain
    /// Additional flags; the spec defines none yet.
    public var flags: [String]?

    public init(domain: LinuxPersonalityDomain, flags: [String]? = nil) {
        self.domain = domain
        self.flags = flags
    }
}

/// An execution domain.
public enum LinuxPersonalityDomain: String, SpecEnum {
    /// The standard Linux personality.
    case linux = "LINUX"
    /// 32-bit: `uname` reports a 32-bit machine such as i686.
    case linux32 = "LINUX32"

    public static var kind: String { "domain" }
}

/// Intel Resource Director Technology settings (the resctrl filesystem).
public struct LinuxIntelRdt: Codable, Equatable, Sendable {
    /// The resctrl group (class of service); defaults to the container ID.
    public var closID: String?
    /// The whole schemata to write, e.g. "L3:0=7f0;1=1f\nMB:0=20".
    public var schemata: String?
    /// L3 cache allocation, e.g. "L3:0=ffff0;1=3ff".
    public var l3CacheSchema: String?
    /// Memory bandwidth allocation, e.g. "MB:0=20;1=70".
    public var memBwSchema: String?
    /// Enable cache monitoring (CMT).
    public var enableCMT: Bool?
    /// Enable memory bandwidth monitoring (MBM).
    public var enableMBM: Bool?

    public init(
        closID: String? = nil,
        schemata: String? = nil,
        l3CacheSchema: String? = nil,
        memBwSchema: String? = nil,
        enableCMT: Bool? = nil,
        enableMBM: Bool? = nil
    ) {
        self.closID = closID
        self.schemata = schemata
        self.l3CacheSchema = l3CacheSchema
        self.memBwSchema = memBwSchema
        self.enableCMT = enableCMT
        self.enableMBM = enableMBM
    }
}
