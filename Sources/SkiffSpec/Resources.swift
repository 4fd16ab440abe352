// `linux.resources`: cgroup limits. Memory sizes and quotas are Int64
// because -1 means "unlimited"; weights, periods and shares are unsigned.

/// Cgroup resource limits of the container.
public struct LinuxResources: Codable, Equatable, Sendable {
    /// Device access rules (allow/deny list), applied in order.
    public var devices: [LinuxDeviceCgroup]?
    /// Memory controller.
    public var memory: LinuxMemory?
    /// CPU and cpuset controllers.
    public var cpu: LinuxCPU?
    /// Process number controller.
    public var pids: LinuxPids?
    /// Block I/O controller (blkio on cgroup v1, io on v2).
    public var blockIO: LinuxBlockIO?
    /// HugeTLB limits, per page size.
    public var hugepageLimits: [LinuxHugepageLimit]?
    /// Network class and priorities (net_cls, net_prio; cgroup v1).
    public var network: LinuxNetwork?
    /// RDMA limits, keyed by device name.
    public var rdma: [String: LinuxRdma]?
    /// Raw cgroup v2 files to write, e.g. "memory.high": "1G".
    public var unified: [String: String]?

    public init(
        devices: [LinuxDeviceCgroup]? = nil,
        memory: LinuxMemory? = nil,
        cpu: LinuxCPU? = nil,
        pids: LinuxPids? = nil,
        blockIO: LinuxBlockIO? = nil,
        hugepageLimits: [LinuxHugepageLimit]? = nil,
        network: LinuxNetwork? = nil,
        rdma: [String: LinuxRdma]? = nil,
        unified: [String: String]? = nil
    ) {
        self.devices = devices
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
        self.blockIO = blockIO
        self.hugepageLimits = hugepageLimits
        self.network = network
        self.rdma = rdma
        self.unified = unified
    }
}

/// One rule of the device cgroup: allow or deny access to some devices.
public struct LinuxDeviceCgroup: Codable, Equatable, Sendable {
    /// Allow (true) or deny (false).
    public var allow: Bool
    /// "a" (all), "c" (character) or "b" (block); nil means all.
    public var type: String?
    /// Major number; nil means all.
    public var major: Int64?
    /// Minor number; nil means all.
    public var minor: Int64?
    /// Some of "r" (read), "w" (write), "m" (mknod); nil means all.
    public var access: String?

    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }
}

/// Memory limits, in bytes; -1 means unlimited.
public struct LinuxMemory: Codable, Equatable, Sendable {
    /// Hard limit of memory usage.
    public var limit: Int64?
    /// Soft limit (memory.low / soft_limit_in_bytes).
    public var reservation: Int64?
    /// Limit of memory plus swap.
    public var swap: Int64?
    /// Kernel memory limit (deprecated, cgroup v1 only).
    public var kernel: Int64?
    /// Kernel TCP buffer limit (cgroup v1 only).
    public var kernelTCP: Int64?
    /// Swappiness, 0...100.
    public var swappiness: UInt64?
    /// Disable the OOM killer for the cgroup.
    public var disableOOMKiller: Bool?
    /// Hierarchical accounting (cgroup v1).
    public var useHierarchy: Bool?
    /// On update, refuse a limit below the current usage.
    public var checkBeforeUpdate: Bool?

    public init(
        limit: Int64? = nil,
        reservation: Int64? = nil,
        swap: Int64? = nil,
        kernel: Int64? = nil,
        kernelTCP: Int64? = nil,
        swappiness: UInt64? = nil,
        disableOOMKiller: Bool? = nil,
        useHierarchy: Bool? = nil,
        checkBeforeUpdate: Bool? = nil
    ) {
        self.limit = limit
        self.reservation = reservation
        self.swap = swap
        self.kernel = kernel
        self.kernelTCP = kernelTCP
        self.swappiness = swappiness
        self.disableOOMKiller = disableOOMKiller
        self.useHierarchy = useHierarchy
        self.checkBeforeUpdate = checkBeforeUpdate
    }
}

/// CPU time and placement.
public struct LinuxCPU: Codable, Equatable, Sendable {
    /// Relative weight (cgroup v1 cpu.shares, 2...262144; converted to cpu.weight on v2).
    public var shares: UInt64?
    /// Microseconds of CPU time allowed per period; -1 means unlimited.
    public var quota: Int64?
    /// Microseconds of unused quota that may be accumulated and used in bursts.
    public var burst: UInt64?
    /// The quota period in microseconds.
    public var period: UInt64?
    /// Microseconds of realtime CPU time per realtime period.
    public var realtimeRuntime: Int64?
    /// The realtime period in microseconds.
    public var realtimePeriod: UInt64?
    /// CPUs the container may run on, e.g. "0-3,7".
    public var cpus: String?
    /// Memory nodes the container may use, e.g. "0-1".
    public var mems: String?
    /// 1 gives the cgroup SCHED_IDLE-like minimum weight.
    public var idle: Int64?

    public init(
        shares: UInt64? = nil,
        quota: Int64? = nil,
        burst: UInt64? = nil,
        period: UInt64? = nil,
        realtimeRuntime: Int64? = nil,
        realtimePeriod: UInt64? = nil,
        cpus: String? = nil,
        mems: String? = nil,
        idle: Int64? = nil
    ) {
        self.shares = shares
        self.quota = quota
        self.burst = burst
        self.period = period
        self.realtimeRuntime = realtimeRuntime
        self.realtimePeriod = realtimePeriod
        self.cpus = cpus
        self.mems = mems
        self.idle = idle
    }
}

/// Limit on the number of tasks.
public struct LinuxPids: Codable, Equatable, Sendable {
    /// Maximum number of tasks; -1 (or 0) means no limit.
    public var limit: Int64

    public init(limit: Int64) {
        self.limit = limit
    }
}

/// Block I/O weights and throttling.
public struct LinuxBlockIO: Codable, Equatable, Sendable {
    /// Default weight of the cgroup on all devices.
    public var weight: UInt16?
    /// Weight against the cgroup's own children (CFQ, cgroup v1).
    public var leafWeight: UInt16?
    /// Per-device weights.
    public var weightDevice: [LinuxWeightDevice]?
    /// Read limits in bytes per second, per device.
    public var throttleReadBpsDevice: [LinuxThrottleDevice]?
    /// Write limits in bytes per second, per device.
    public var throttleWriteBpsDevice: [LinuxThrottleDevice]?
    /// Read limits in operations per second, per device.
    public var throttleReadIOPSDevice: [LinuxThrottleDevice]?
    /// Write limits in operations per second, per device.
    public var throttleWriteIOPSDevice: [LinuxThrottleDevice]?

    public init(
        weight: UInt16? = nil,
        leafWeight: UInt16? = nil,
        weightDevice: [LinuxWeightDevice]? = nil,
        throttleReadBpsDevice: [LinuxThrottleDevice]? = nil,
        throttleWriteBpsDevice: [LinuxThrottleDevice]? = nil,
        throttleReadIOPSDevice: [LinuxThrottleDevice]? = nil,
        throttleWriteIOPSDevice: [LinuxThrottleDevice]? = nil
    ) {
        self.weight = weight
        self.leafWeight = leafWeight
        self.weightDevice = weightDevice
        self.throttleReadBpsDevice = throttleReadBpsDevice
        self.throttleWriteBpsDevice = throttleWriteBpsDevice
        self.throttleReadIOPSDevice = throttleReadIOPSDevice
        self.throttleWriteIOPSDevice = throttleWriteIOPSDevice
    }
}

/// The weight of one block device (Go embeds LinuxBlockIODevice for major/minor).
public struct LinuxWeightDevice: Codable, Equatable, Sendable {
    /// Major number of the device.
    public var major: Int64
    /// Minor number of the device.
    public var minor: Int64
    /// Weight on this device.
    public var weight: UInt16?
    /// Weight against the cgroup's children on this device (CFQ).
    public var leafWeight: UInt16?

    public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
        self.major = major
        self.minor = minor
        self.weight = weight
        self.leafWeight = leafWeight
    }
}

/// A rate limit on one block device.
public struct LinuxThrottleDevice: Codable, Equatable, Sendable {
    /// Major number of the device.
    public var major: Int64
    /// Minor number of the device.
    public var minor: Int64
    /// Bytes or operations per second.
    public var rate: UInt64

    public init(major: Int64, minor: Int64, rate: UInt64) {
        self.major = major
        self.minor = minor
        self.rate = rate
    }
}

/// A HugeTLB limit for one page size.
public struct LinuxHugepageLimit: Codable, Equatable, Sendable {
    /// Page size as "<size><unit>B", e.g. "2MB", "1GB", "64KB".
    public var pageSize: String
    /// Limit in bytes.
    public var limit: UInt64

    public init(pageSize: String, limit: UInt64) {
        self.pageSize = pageSize
        self.limit = limit
    }
}

/// Network class ID and interface priorities (cgroup v1 net_cls/net_prio).
public struct LinuxNetwork: Codable, Equatable, Sendable {
    /// Class identifier put on the container's packets.
    public var classID: UInt32?
    /// Priorities of traffic per interface.
    public var priorities: [LinuxInterfacePriority]?

    public init(classID: UInt32? = nil, priorities: [LinuxInterfacePriority]? = nil) {
        self.classID = classID
        self.priorities = priorities
    }
}

/// The priority of traffic on one network interface.
public struct LinuxInterfacePriority: Codable, Equatable, Sendable {
    /// Interface name (in the runtime's network namespace).
    public var name: String
    /// Priority.
    public var priority: UInt32

    public init(name: String, priority: UInt32) {
        self.name = name
        self.priority = priority
    }
}

/// RDMA limits of one device.
public struct LinuxRdma: Codable, Equatable, Sendable {
    /// Maximum number of HCA handles.
    public var hcaHandles: UInt32?
    /// Maximum number of HCA objects.
    public var hcaObjects: UInt32?

    public init(hcaHandles: UInt32? = nil, hcaObjects: UInt32? = nil) {
        self.hcaHandles = hcaHandles
        self.hcaObjects = hcaObjects
    }
}
