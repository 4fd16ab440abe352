// `skiff stats`: docker stats' table, read from each container's cgroup v2 files.
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
    func hostMemory() -> UInt64? {
        (readText("/proc/meminfo") ?? "").split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { UInt64($0.split(separator: " ").dropFirst().first ?? "") }.map { $0 * 1024 }
    }
}

public enum StatsTable {
    public static let header = ["ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS", "BLOCK I/O"]

    /// One row from two samples of the same container.
    public static func row(_ before: StatsSample?, _ now: StatsSample) -> [String] {
        var cpu = "--"
        if let b = before, let u0 = b.cpuMicros, let u1 = now.cpuMicros, now.time > b.time {
            let percent = Double(u1 >= u0 ? u1 - u0 : 0) * 1000 / Double(now.time - b.time) * 100
            cpu = format(percent) + "%"
        }
        let mem = now.memory.map { size($0) + " / " + (now.memoryLimit.map(size) ?? "--") } ?? "-- / --"
        var memPercent = "--"
        if let m = now.memory, let l = now.memoryLimit, l > 0 { memPercent = format(Double(m) / Double(l) * 100) + "%" }
        let io = now.readBytes.map { size($0) + " / " + size(now.writeBytes ?? 0) } ?? "-- / --"
        return [now.id, cpu, mem, memPercent, now.pids.map(String.init) ?? "--", io]
    }

    static func format(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    /// docker's units: 1.5MiB, 512KiB, 0B.
    public static func size(_ n: UInt64) -> String {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (u, s) in units where Double(n) >= s {
            let v = Double(n) / s
            let tenths = Int((v * 10).rounded())
            return tenths % 10 == 0 ? "\(tenths / 10)\(u)" : "\(tenths / 10).\(tenths % 10)\(u)"
        }
        return "\(n)B"
    }
}
