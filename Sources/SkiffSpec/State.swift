// The OCI state of a container: what `state` prints and what hooks read
// on their stdin (runtime-spec runtime.md, specs-go/state.go).

/// The state of a container.
public struct State: Codable, Equatable, Sendable {
    /// Runtime-spec version of this document.
    public var ociVersion: String
    /// The container ID.
    public var id: String
    /// Where the container is in its lifecycle.
    public var status: ContainerState
    /// PID of the container process as seen from the host (absent once stopped).
    public var pid: Int?
    /// Absolute path of the bundle directory.
    public var bundle: String
    /// The annotations of the container's config.
    public var annotations: [String: String]?

    public init(
        ociVersion: String = Spec.currentVersion,
        id: String,
        status: ContainerState,
        pid: Int? = nil,
        bundle: String,
        annotations: [String: String]? = nil
    ) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}

/// A step of the container lifecycle.
public enum ContainerState: String, SpecEnum {
    /// `create` is running.
    case creating
    /// `create` finished; the user program has not started.
    case created
    /// The user program is running.
    case running
    /// The user program has exited.
    case stopped

    public static var kind: String { "status" }
}

/// What the runtime sends to a seccomp agent on `linux.seccomp.listenerPath`,
/// along with the listener file descriptor.
public struct ContainerProcessState: Codable, Equatable, Sendable {
    /// Runtime-spec version of this document.
    public var ociVersion: String
    /// Names of the file descriptors sent with SCM_RIGHTS, in order (e.g. "seccompFd").
    public var fds: [String]?
    /// PID of the container process as seen by the runtime.
    public var pid: Int
    /// `linux.seccomp.listenerMetadata`.
    public var metadata: String?
    /// The container's state.
    public var state: State

    public init(
        ociVersion: String = Spec.currentVersion,
        fds: [String]? = nil,
        pid: Int,
        metadata: String? = nil,
        state: State
    ) {
        self.ociVersion = ociVersion
        self.fds = fds
        self.pid = pid
        self.metadata = metadata
        self.state = state
    }
}
