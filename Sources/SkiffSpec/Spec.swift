// The top of config.json: the OCI runtime-spec `Spec` and the small types
// it uses directly (Root, Mount, Hooks). Type and property names follow the
// Go bindings (opencontainers/runtime-spec specs-go/config.go) and the JSON
// keys, so `spec.linux?.namespaces` reads like the document.
//
// Conventions used by every model file:
//  * a field that Go marks `omitempty` is an Optional here: nil means
//    "absent", and absent fields are left out when encoding;
//  * a field the spec requires is non-optional: decoding fails without it
//    ("root.path: missing required field");
//  * every type has a public memberwise init with nil defaults, so the
//    runtime can build specs in code;
//  * only the Linux parts of the spec are modelled (no Windows, Solaris,
//    VM or z/OS sections; such keys are ignored when decoding).

/// The container configuration: the contents of a bundle's config.json.
public struct Spec: Codable, Equatable, Sendable {
    /// Version of the runtime spec the bundle follows (SemVer), e.g. "1.0.2-dev".
    public var ociVersion: String
    /// The process to run in the container.
    public var process: Process?
    /// The container's root filesystem.
    public var root: Root?
    /// The hostname inside the container (needs a new UTS namespace).
    public var hostname: String?
    /// The NIS domain name inside the container (needs a new UTS namespace).
    public var domainname: String?
    /// Extra mounts, performed in order, on top of the root filesystem.
    public var mounts: [Mount]?
    /// Programs run at points of the container's lifecycle.
    public var hooks: Hooks?
    /// Arbitrary metadata.
    public var annotations: [String: String]?
    /// Linux-specific configuration.
    public var linux: Linux?

    /// The runtime-spec version this model follows.
    public static let currentVersion = "1.2.1"

    public init(
        ociVersion: String = Spec.currentVersion,
        process: Process? = nil,
        root: Root? = nil,
        hostname: String? = nil,
        domainname: String? = nil,
        mounts: [Mount]? = nil,
        hooks: Hooks? = nil,
        annotations: [String: String]? = nil,
        linux: Linux? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }
}

extension Spec {
    /// Decodes and validates a config.json. Throws the first `SpecError` found.
    public static func parse(_ bytes: [UInt8]) throws -> Spec {
        let spec = try JSONCodec.decode(Spec.self, from: bytes)
        try spec.validate()
        return spec
    }

    /// The spec as JSON text; by default indented with tabs, as `runc spec` writes it.
    public func json(indent: String? = "\t") -> String {
        JSONCodec.encode(self, indent: indent)
    }
}

/// The container's root filesystem.
public struct Root: Codable, Equatable, Sendable {
    /// Path to the root filesystem, absolute or relative to the bundle.
    public var path: String
    /// Make the root filesystem read-only inside the container.
    public var readonly: Bool?

    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }
}

/// A mount to perform inside the container.
public struct Mount: Codable, Equatable, Sendable {
    /// Absolute path inside the container where the mount is placed.
    public var destination: String
    /// Filesystem type (e.g. "proc", "tmpfs"; "bind" or none for bind mounts).
    public var type: String?
    /// What to mount: a device, a directory for bind mounts, or a dummy name.
    public var source: String?
    /// fstab-style options (e.g. "nosuid", "ro", "rbind", "mode=755").
    public var options: [String]?
    /// User ID mapping for an ID-mapped mount.
    public var uidMappings: [LinuxIDMapping]?
    /// Group ID mapping for an ID-mapped mount.
    public var gidMappings: [LinuxIDMapping]?

    public init(
        destination: String,
        type: String? = nil,
        source: String? = nil,
        options: [String]? = nil,
        uidMappings: [LinuxIDMapping]? = nil,
        gidMappings: [LinuxIDMapping]? = nil
    ) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }
}

/// A program run at a lifecycle event. It gets the container `State` on stdin.
public struct Hook: Codable, Equatable, Sendable {
    /// Absolute path of the executable (in the runtime's mount namespace).
    public var path: String
    /// Arguments, including argv[0].
    public var args: [String]?
    /// Environment, as KEY=VALUE strings.
    public var env: [String]?
    /// Seconds after which the hook is aborted; must be positive.
    public var timeout: Int?

    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}

/// The hooks of each lifecycle event, each list run in order.
public struct Hooks: Codable, Equatable, Sendable {
    /// Deprecated: after the container is created, before pivot_root (runtime namespace).
    public var prestart: [Hook]?
    /// After the container is created, before pivot_root (runtime namespace).
    public var createRuntime: [Hook]?
    /// After the container is created, before pivot_root (container namespace).
    public var createContainer: [Hook]?
    /// At start, before the user process is executed (container namespace).
    public var startContainer: [Hook]?
    /// After the user process has started (runtime namespace).
    public var poststart: [Hook]?
    /// After the container is deleted (runtime namespace).
    public var poststop: [Hook]?

    public init(
        prestart: [Hook]? = nil,
        createRuntime: [Hook]? = nil,
        createContainer: [Hook]? = nil,
        startContainer: [Hook]? = nil,
        poststart: [Hook]? = nil,
        poststop: [Hook]? = nil
    ) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }
}
