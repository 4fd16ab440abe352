// `skiff stats`' table, docker's columns, from the runtime's samples (StatsSample,
// SkiffRuntime's Cgroups/Stats.swift): CPU % between two samples, memory against its
// limit, pids, block I/O, in docker's units.
import SkiffRuntime

enum StatsTable {
    static let header = ["ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS", "BLOCK I/O"]

    /// One row from two samples of the same container.
    static func row(_ before: StatsSample?, _ now: StatsSample) -> [String] {
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
    static func size(_ n: UInt64) -> String {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (u, s) in units where Double(n) >= s {
            let v = Double(n) / s
            let tenths = Int((v * 10).rounded())
            return tenths % 10 == 0 ? "\(tenths / 10)\(u)" : "\(tenths / 10).\(tenths % 10)\(u)"
        }
        return "\(n)B"
    }
}
