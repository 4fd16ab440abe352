// `skiff stats`: the numbers of docker stats' table, read from each container's cgroup v2
// files (the CLI lays out the table: Sources/skiff/StatsTable.swift).
//   CPU %              cpu.stat usage_usec between two samples / the time between them
//                      (100% = one whole CPU, as docker counts)
//   MEM USAGE / LIMIT  memory.current minus inactive_file (page cache the kernel can drop
//                      at once, as docker subtracts it) / memory.max, or the host's RAM
//   PIDS               pids.current
//   BLOCK I/O          io.stat rbytes / wbytes, summed over the devices
import Glibc

public struct StatsSample {
    public let id: String
    /// nil when the container is not running or has no cgroup.
    public let cpuMicros: UInt64?
    public let time: UInt64 // monotonic ns
    public let memory: UInt64?
    public let memoryLimit: UInt64?
    public let pids: UInt64?
    public let readBytes: UInt64?
    public let writeBytes: UInt64?

    public init(
        id: String, cpuMicros: UInt64?, time: UInt64, memory: UInt64?, memoryLimit: UInt64?, pids: UInt64?,
        readBytes: UInt64?, writeBytes: UInt64?
    ) {
        self.id = id
        self.cpuMicros = cpuMicros
        self.time = time
        self.memory = memory
        self.memoryLimit = memoryLimit
        self.pids = pids
        self.readBytes = readBytes
        self.writeBytes = writeBytes
    }
}

extension Runtime {
    public func statsSample(_ id: String) throws -> StatsSample {
        let (record, status) = try state(id: id)
        let now = monotonicNanos()
        guard status != .stopped, Cgroup.available, !record.cgroupPath.isEmpty else {
            return StatsSample(
                id: id, cpuMicros: nil, time: now, memory: nil, memoryLimit: nil, pids: nil, readBytes: nil,
                writeBytes: nil)
        }
        let dir = Cgroup.directory(record.cgroupPath)
        let cpu = CgroupStats.value(dir + "/cpu.stat", key: "usage_usec")
        var memory = CgroupStats.number(dir + "/memory.current")
        if let m = memory, let inactive = CgroupStats.value(dir + "/memory.stat", key: "inactive_file") {
            memory = m > inactive ? m - inactive : 0
        }
        var limit = CgroupStats.number(dir + "/memory.max")
        if limit == UInt64.max || limit == nil { limit = hostMemory() }
        var read: UInt64?
        var write: UInt64?
        if let io = readText(dir + "/io.stat") {
            read = 0
            write = 0
            for kv in io.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let p = kv.split(separator: "=")
                guard p.count == 2, let v = UInt64(p[1]) else { continue }
                if p[0] == "rbytes" { read! += v } else if p[0] == "wbytes" { write! += v }
            }
        }
        return StatsSample(
            id: id, cpuMicros: cpu, time: now, memory: memory, memoryLimit: limit,
            pids: CgroupStats.number(dir + "/pids.current"), readBytes: read, writeBytes: write)
    }

    /// MemTotal of /proc/meminfo, in bytes.
    public func hostMemory() -> UInt64? {
        (readText("/proc/meminfo") ?? "").split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { UInt64($0.split(separator: " ").dropFirst().first ?? "") }.map { $0 * 1024 }
    }
}
