// skiff update: change a running container's cgroup limits, with runc's flags or a
// LinuxResources JSON document (--resources FILE, or - for stdin). Only what is given is
// written; the container's saved config keeps the new values.
import Glibc
import SkiffRuntime
import SkiffSpec

enum UpdateCommand: Command {
    static let name = "update"
    static let summary = "update container resource constraints"
    static let arguments = "[options] <container-id>"
    static let flags = [
        Flag(names: ["resources", "r"], takesValue: true, help: "path to a LinuxResources JSON file, or - for stdin"),
        Flag(
            names: ["memory", "m"], takesValue: true,
            help: "memory limit in bytes, or with a unit (4m, 1g); -1 for none"),
        Flag(names: ["memory-reservation"], takesValue: true, help: "memory soft limit (memory.low)"),
        Flag(names: ["memory-swap"], takesValue: true, help: "memory plus swap limit; -1 for none"),
        Flag(names: ["cpu-quota"], takesValue: true, help: "CPU time in microseconds per period; -1 for none"),
        Flag(names: ["cpu-period"], takesValue: true, help: "CPU quota period in microseconds"),
        Flag(
            names: ["cpus"], takesValue: true,
            help: "CPUs the container may use, as docker --cpus (0.5: half of one CPU)"),
        Flag(names: ["cpu-share"], takesValue: true, help: "CPU shares (relative weight, 2-262144)"),
        Flag(names: ["cpuset-cpus"], takesValue: true, help: "CPUs the container may use (0-3, 0,1)"),
        Flag(names: ["cpuset-mems"], takesValue: true, help: "memory nodes the container may use (0-3, 0,1)"),
        Flag(names: ["pids-limit"], takesValue: true, help: "maximum number of processes; -1 for none"),
        Flag(names: ["blkio-weight"], takesValue: true, help: "block I/O weight (10-1000)"),
    ]

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        let id = try requireID(args, name)
        let resources: LinuxResources
        if let source = args.value("resources") {
            if let other = flags.dropFirst().first(where: { args.has($0.names[0]) }) {
                throw SkiffError("--resources cannot be combined with --\(other.names[0])")
            }
            resources = try readResources(source)
        } else {
            resources = try fromFlags(args)
        }
        try global.runtime.update(id: id, resources: resources)
        return 0
    }

    static func readResources(_ source: String) throws -> LinuxResources {
        let bytes: [UInt8]
        if source == "-" {
            bytes = readStdin()
        } else {
            guard let b = readFile(source) else {
                throw SkiffError(
                    "--resources \(source): "
                        + "\(String(cString: strerror(errno)))")
            }
            bytes = b
        }
        do { return try JSONCodec.decode(LinuxResources.self, from: bytes) } catch {
            throw SkiffError("--resources: \(error)")
        }
    }

    static func readStdin() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    static func fromFlags(_ args: ParsedArgs) throws -> LinuxResources {
        var r = LinuxResources()
        func int<T: FixedWidthInteger>(_ flag: String, _: T.Type) throws -> T? {
            guard let text = args.value(flag) else { return nil }
            guard let v = T(text) else { throw SkiffError("--\(flag): invalid value \"\(text)\"") }
            return v
        }
        func bytes(_ flag: String) throws -> Int64? {
            guard let text = args.value(flag) else { return nil }
            return try ByteSize.parse(text, flag: "--" + flag, unlimited: true)
        }
        let limit = try bytes("memory")
        let reservation = try bytes("memory-reservation")
        let swap = try bytes("memory-swap")
        if limit != nil || reservation != nil || swap != nil {
            r.memory = LinuxMemory(limit: limit, reservation: reservation, swap: swap)
        }
        var quota = try int("cpu-quota", Int64.self)
        var period = try int("cpu-period", UInt64.self)
        if let text = args.value("cpus") {
            // Docker's --cpus: a quota of cpus × a 100 ms period.
            guard quota == nil, period == nil else {
                throw SkiffError(
                    "--cpus cannot be combined with --cpu-quota "
                        + "or --cpu-period")
            }
            guard let cpus = Double(text), cpus > 0, cpus <= 1_000_000 else {
                throw SkiffError(
                    "--cpus \(text): "
                        + "expected a positive number such as 0.5")
            }
            period = 100_000
            quota = Int64(cpus * 100_000)
        }
        let shares = try int("cpu-share", UInt64.self)
        let cpus = args.value("cpuset-cpus")
        let mems = args.value("cpuset-mems")
        if quota != nil || period != nil || shares != nil || cpus != nil || mems != nil {
            r.cpu = LinuxCPU(shares: shares, quota: quota, period: period, cpus: cpus, mems: mems)
        }
        if let pids = try int("pids-limit", Int64.self) { r.pids = LinuxPids(limit: pids) }
        if let weight = try int("blkio-weight", UInt16.self) { r.blockIO = LinuxBlockIO(weight: weight) }
        return r
    }
}
