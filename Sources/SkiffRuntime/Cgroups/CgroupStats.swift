// Reading a container's cgroup: the statistics `events` prints, in runc's JSON schema
// (types.Stats of runc 1.1: cpu, cpuset, memory, pids, blkio, hugetlb, intel_rdt), and
// the OOM kill counter behind the "oom" event and run's OOM message.
import Glibc
import SkiffSpec

enum CgroupStats {
    /// "key value" lines (cpu.stat, memory.stat, memory.events, pids.events) as a dictionary.
    static func keyValues(_ file: String) -> [(String, UInt64)] {
        (readText(file) ?? "").split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 2, let v = UInt64(f[1]) else { return nil }
            return (String(f[0]), v)
        }
    }

    static func value(_ file: String, key: String) -> UInt64? {
        keyValues(file).first { $0.0 == key }?.1
    }

    /// A single number, with "max" as UInt64.max (as runc reports it).
    static func number(_ file: String) -> UInt64? {
        guard let text = readText(file)?.split(separator: "\n").first else { return nil }
        return text == "max" ? UInt64.max : UInt64(text)
    }

    /// How many processes the OOM killer has killed in the cgroup (memory.events oom_kill).
    static func oomKills(_ path: String) -> UInt64 {
        value(Cgroup.directory(path) + "/memory.events", key: "oom_kill") ?? 0
    }

    /// "4 MiB", "512 KiB", "1 GiB", or bytes.
    static func humanBytes(_ n: UInt64) -> String {
        if n == UInt64.max { return "unlimited" }
        for (unit, size) in [("GiB", UInt64(1) << 30), ("MiB", UInt64(1) << 20), ("KiB", UInt64(1) << 10)]
        where n >= size && n % size == 0 {
            return "\(n / size) \(unit)"
        }
        return "\(n) bytes"
    }

    /// "0-2,5" -> [0, 1, 2, 5].
    static func cpuList(_ text: String?) -> [UInt64] {
        var out: [UInt64] = []
        for part in (text ?? "").split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == " " }) {
            let b = part.split(separator: "-").compactMap { UInt64($0) }
            if b.count == 1 { out.append(b[0]) } else if b.count == 2, b[0] <= b[1] { out += Array(b[0]...b[1]) }
        }
        return out
    }

    // MARK: runc's stats document

    /// Every field of runc's Stats for the cgroup; a controller that is not enabled gives
    /// zeroes, as with runc.
    static func stats(_ path: String) -> JSON {
        let dir = Cgroup.directory(path)
        func n(_ v: UInt64) -> JSON { .integer(v) }
        /// Go's omitempty: leave out zero numbers and empty lists.
        func obj(_ members: [(String, JSON?)]) -> JSON {
            .object(members.compactMap { k, v in v.map { (key: k, value: $0) } })
        }
        func nz(_ v: UInt64) -> JSON? {
            if v == 0 { return Optional<JSON>.none } // (a bare nil would be JSON.null)
            return n(v)
        }

        // cpu.stat: microseconds; runc reports nanoseconds.
        let cpu = Dictionary(keyValues(dir + "/cpu.stat"), uniquingKeysWith: { a, _ in a })
        let cpuJSON = obj([
            (
                "usage",
                obj([
                    ("total", nz((cpu["usage_usec"] ?? 0) * 1000)),
                    ("kernel", n((cpu["system_usec"] ?? 0) * 1000)), ("user", n((cpu["user_usec"] ?? 0) * 1000)),
                ])
            ),
            (
                "throttling",
                obj([
                    ("periods", nz(cpu["nr_periods"] ?? 0)), ("throttledPeriods", nz(cpu["nr_throttled"] ?? 0)),
                    ("throttledTime", nz((cpu["throttled_usec"] ?? 0) * 1000)),
                ])
            ),
        ])

        let cpus = cpuList(readText(dir + "/cpuset.cpus.effective"))
        let mems = cpuList(readText(dir + "/cpuset.mems.effective"))
        let cpusetJSON = obj([
            ("cpus", cpus.isEmpty ? Optional<JSON>.none : .array(cpus.map(n))), ("cpu_exclusive", 0),
            ("mems", mems.isEmpty ? Optional<JSON>.none : .array(mems.map(n))), ("mem_hardwall", 0),
            ("mem_exclusive", 0),
            ("memory_migrate", 0), ("memory_spread_page", 0), ("memory_spread_slab", 0), ("memory_pressure", 0),
            ("sched_load_balance", 0), ("sched_relax_domain_level", 0),
        ])

        // Memory: v1's swap figures were memory+swap; runc keeps that meaning.
        let raw = keyValues(dir + "/memory.stat")
        let usage = number(dir + "/memory.current") ?? 0
        let limit = fileExists(dir + "/memory.max") ? (number(dir + "/memory.max") ?? 0) : 0
        var swapUsage = number(dir + "/memory.swap.current") ?? 0
        var swapLimit = number(dir + "/memory.swap.max") ?? 0
        if fileExists(dir + "/memory.current") {
            swapUsage += usage
            if swapLimit != UInt64.max { swapLimit = swapLimit &+ limit }
        }
        func entry(_ limit: UInt64, _ usage: UInt64) -> JSON {
            obj([("limit", n(limit)), ("usage", nz(usage)), ("max", nil), ("failcnt", 0)])
        }
        let memoryJSON = obj([
            ("cache", nz(raw.first { $0.0 == "file" }?.1 ?? 0)),
            ("usage", entry(limit, usage)),
            ("swap", entry(swapLimit, swapUsage)),
            ("kernel", entry(0, 0)),
            ("kernelTCP", entry(0, 0)),
            ("raw", raw.isEmpty ? Optional<JSON>.none : .object(raw.map { (key: $0.0, value: n($0.1)) })),
        ])

        let pidsMax = number(dir + "/pids.max") ?? 0
        let pidsJSON = obj([
            ("current", nz(number(dir + "/pids.current") ?? 0)), ("limit", nz(pidsMax == UInt64.max ? 0 : pidsMax)),
        ])

        // io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=.."
        var bytes: [JSON] = []
        var ios: [JSON] = []
        for line in (readText(dir + "/io.stat") ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            guard let dev = f.first else { continue }
            let mm = dev.split(separator: ":").compactMap { UInt64($0) }
            guard mm.count == 2 else { continue }
            for kv in f.dropFirst() {
                let p = kv.split(separator: "=")
                guard p.count == 2, let v = UInt64(p[1]) else { continue }
                let e = { (op: String) in
                    obj([("major", nz(mm[0])), ("minor", nz(mm[1])), ("op", .string(op)), ("value", nz(v))])
                }
                switch p[0] {
                case "rbytes": bytes.append(e("Read"))
                case "wbytes": bytes.append(e("Write"))
                case "rios": ios.append(e("Read"))
                case "wios": ios.append(e("Write"))
                default: break
                }
            }
        }
        let blkioJSON = obj([
            ("ioServiceBytesRecursive", bytes.isEmpty ? Optional<JSON>.none : .array(bytes)),
            ("ioServicedRecursive", ios.isEmpty ? Optional<JSON>.none : .array(ios)),
        ])

        // hugetlb.<size>.current for every page size the kernel offers.
        var huge: [(key: String, value: JSON)] = []
        for name in listDirectory(dir)
        where name.hasPrefix("hugetlb.") && name.hasSuffix(".current") && !name.includes(".rsvd.") {
            let size = String(name.dropFirst(8).dropLast(8))
            huge.append(
                (
                    key: size,
                    value: obj([
                        ("usage", nz(number(dir + "/" + name) ?? 0)), ("max", nil),
                        ("failcnt", n(value(dir + "/hugetlb.\(size).events", key: "max") ?? 0)),
                    ])
                ))
        }

        return obj([
            ("cpu", cpuJSON), ("cpuset", cpusetJSON), ("memory", memoryJSON), ("pids", pidsJSON),
            ("blkio", blkioJSON), ("hugetlb", .object(huge)), ("intel_rdt", .object([])), ("network_interfaces", .null),
        ])
    }

    /// One line of `events` output: {"type":..,"id":..,"data":..}.
    static func event(_ type: String, id: String, data: JSON? = nil) -> String {
        var members: [(key: String, value: JSON)] = [
            (key: "type", value: .string(type)), (key: "id", value: .string(id)),
        ]
        if let data { members.append((key: "data", value: data)) }
        return JSON.object(members).serialized(indent: nil)
    }
}
