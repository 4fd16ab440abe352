// linux.resources -> cgroup v2 files, with the conversions runc (1.1) uses, so a config
// gives the same kernel settings under either runtime:
//
//   memory.limit        -> memory.max            (-1 -> "max", 0 -> unset)
//   memory.reservation  -> memory.low
//   memory.swap         -> memory.swap.max       (swap counts memory+swap, as on v1:
//                                                  swap.max = swap - limit)
//   cpu.shares          -> cpu.weight            (1 + (shares-2) * 9999 / 262142)
//   cpu.quota/period    -> cpu.max               ("QUOTA PERIOD", quota <= 0 -> "max")
//   cpu.burst, cpu.idle -> cpu.max.burst, cpu.idle
//   cpu.cpus/mems       -> cpuset.cpus/mems
//   pids.limit          -> pids.max              (< 0 -> "max", 0 -> unset)
//   blockIO.weight      -> io.bfq.weight as is, or io.weight (1 + (w-10) * 9999 / 990)
//   blockIO.throttle*   -> io.max                ("MAJ:MIN rbps=N" ...)
//   hugepageLimits      -> hugetlb.SIZE.max (and .rsvd.max)
//   rdma                -> rdma.max
//   unified             -> the named file, last, so it can override the rest
// Device rules are not files: DeviceFilter.swift turns them into a BPF program.
import Glibc
import SkiffSpec

/// One write of a cgroup file.
struct CgroupWrite: Equatable {
    /// Plain words for --explain ("memory limit").
    let what: String
    /// The spec field it comes from, for error messages.
    let field: String
    let file: String
    let value: String
    /// A missing file is fine (memory.swap.max without swap accounting, set to max or 0).
    var optionalFile = false
    /// EINVAL may just mean "too early": try again after the other writes (cpu.max.burst
    /// above the current quota is rejected until cpu.max is raised).
    var retryAfterOthers = false
}

enum CgroupResources {
    static let prefix = "linux.resources"

    // MARK: what is needed

    /// The controllers the resources need, in a fixed order, each with the first field
    /// that needs it (for the error when the controller is missing). Throws for settings
    /// cgroup v2 cannot express.
    static func requirements(_ r: LinuxResources?) throws -> [(controller: String, field: String)] {
        guard let r else { return [] }
        var out: [(controller: String, field: String)] = []
        func need(_ controller: String, _ field: String) {
            if !out.contains(where: { $0.controller == controller }) { out.append((controller, prefix + "." + field)) }
        }
        if let m = r.memory {
            if (m.limit ?? 0) != 0 { need("memory", "memory.limit") }
            if (m.reservation ?? 0) != 0 { need("memory", "memory.reservation") }
            if (m.swap ?? 0) != 0 { need("memory", "memory.swap") }
        }
        if let c = r.cpu {
            if (c.realtimeRuntime ?? 0) != 0 || (c.realtimePeriod ?? 0) != 0 {
                let field = (c.realtimeRuntime ?? 0) != 0 ? "realtimeRuntime" : "realtimePeriod"
                throw SkiffError(
                    "\(prefix).cpu.\(field): realtime CPU limits are a cgroup v1 feature; cgroup v2 has none")
            }
            if (c.shares ?? 0) != 0 { need("cpu", "cpu.shares") }
            if (c.quota ?? 0) != 0 { need("cpu", "cpu.quota") }
            if (c.period ?? 0) != 0 { need("cpu", "cpu.period") }
            if c.burst != nil { need("cpu", "cpu.burst") }
            if c.idle != nil { need("cpu", "cpu.idle") }
            if !(c.cpus ?? "").isEmpty { need("cpuset", "cpu.cpus") }
            if !(c.mems ?? "").isEmpty { need("cpuset", "cpu.mems") }
        }
        if let p = r.pids, p.limit != 0 { need("pids", "pids.limit") }
        if let b = r.blockIO {
            if (b.weight ?? 0) != 0 { need("io", "blockIO.weight") }
            if !(b.weightDevice ?? []).isEmpty { need("io", "blockIO.weightDevice") }
            for (name, list) in [
                ("throttleReadBpsDevice", b.throttleReadBpsDevice),
                ("throttleWriteBpsDevice", b.throttleWriteBpsDevice),
                ("throttleReadIOPSDevice", b.throttleReadIOPSDevice),
                ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice),
            ]
            where !(list ?? []).isEmpty { need("io", "blockIO." + name) }
        }
        if !(r.hugepageLimits ?? []).isEmpty { need("hugetlb", "hugepageLimits") }
        if !(r.rdma ?? [:]).isEmpty { need("rdma", "rdma") }
        for key in (r.unified ?? [:]).keys.sorted() {
            let parts = key.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, !key.contains("/") else {
                throw SkiffError("\(prefix).unified[\"\(key)\"]: must be a file name of the form CONTROLLER.PARAMETER")
            }
            if parts[0] != "cgroup" { need(String(parts[0]), "unified[\"\(key)\"]") }
        }
        return out
    }

    // MARK: conversions (runc's)

    /// cpu.shares (v1, 2...262144) -> cpu.weight (v2, 1...10000).
    static func cpuWeight(shares: UInt64) -> UInt64 {
        shares == 0 ? 0 : 1 + ((shares - 2) * 9999) / 262_142
    }

    /// blkio.weight (v1, 10...1000) -> io.weight (v2, 1...10000).
    static func ioWeight(blkioWeight: UInt16) -> UInt64 {
        blkioWeight == 0 ? 0 : 1 + (UInt64(blkioWeight) - 10) * 9999 / 990
    }

    /// memory.swap in the spec is memory+swap (v1's memsw); v2's memory.swap.max is swap
    /// alone. Returns nil for "leave it".
    static func swapMax(swap: Int64, limit: Int64) throws -> String? {
        if limit == -1 && swap == 0 { return "max" } // unlimited memory: unlimited swap too
        if swap == -1 { return "max" }
        if swap == 0 { return nil }
        if limit == 0 || limit == -1 {
            throw SkiffError("\(prefix).memory.swap: a swap limit needs a memory limit")
        }
        if swap < limit {
            throw SkiffError(
                "\(prefix).memory.swap: must not be less than the memory limit (it counts memory plus swap)")
        }
        return String(swap - limit) // swap == limit gives "0": no swap at all
    }

    /// -1 -> "max", 0 -> unset, else the number.
    static func limitText(_ v: Int64?) -> String? {
        guard let v, v != 0 else { return nil }
        return v < 0 ? "max" : String(v)
    }

    // MARK: the writes

    /// Every write for `r`, in order. `bfq` says whether the cgroup has io.bfq.weight;
    /// `exists` whether an optional file (hugetlb rsvd) is there.
    static func writes(_ r: LinuxResources, bfq: Bool, exists: (String) -> Bool = { _ in false }) throws
        -> [CgroupWrite]
    {
        var out: [CgroupWrite] = []
        let p = prefix
        if let m = r.memory {
            if let swap = try swapMax(swap: m.swap ?? 0, limit: m.limit ?? 0) {
                out.append(
                    CgroupWrite(
                        what: "swap limit", field: "\(p).memory.swap", file: "memory.swap.max", value: swap,
                        optionalFile: swap == "max" || swap == "0"))
            }
            if let v = limitText(m.limit) {
                out.append(CgroupWrite(what: "memory limit", field: "\(p).memory.limit", file: "memory.max", value: v))
            }
            if let v = limitText(m.reservation) {
                out.append(
                    CgroupWrite(
                        what: "memory reservation", field: "\(p).memory.reservation", file: "memory.low", value: v))
            }
        }
        if let c = r.cpu {
            if let shares = c.shares, shares != 0 {
                out.append(
                    CgroupWrite(
                        what: "cpu weight", field: "\(p).cpu.shares", file: "cpu.weight",
                        value: String(cpuWeight(shares: shares))))
            }
            if let idle = c.idle {
                out.append(CgroupWrite(what: "cpu idle", field: "\(p).cpu.idle", file: "cpu.idle", value: String(idle)))
            }
            let quota = c.quota ?? 0
            let period = c.period ?? 0
            if let burst = c.burst {
                out.append(
                    CgroupWrite(
                        what: "cpu burst", field: "\(p).cpu.burst", file: "cpu.max.burst", value: String(burst),
                        retryAfterOthers: quota != 0))
            }
            if quota != 0 || period != 0 {
                var v = quota > 0 ? String(quota) : "max"
                if period != 0 { v += " \(period)" }
                out.append(
                    CgroupWrite(
                        what: "cpu quota", field: "\(p).cpu.\(quota != 0 ? "quota" : "period")", file: "cpu.max",
                        value: v))
            }
            if let cpus = c.cpus, !cpus.isEmpty {
                out.append(CgroupWrite(what: "cpuset", field: "\(p).cpu.cpus", file: "cpuset.cpus", value: cpus))
            }
            if let mems = c.mems, !mems.isEmpty {
                out.append(CgroupWrite(what: "cpuset mems", field: "\(p).cpu.mems", file: "cpuset.mems", value: mems))
            }
        }
        if let pids = r.pids, let v = limitText(pids.limit) {
            out.append(CgroupWrite(what: "pids limit", field: "\(p).pids.limit", file: "pids.max", value: v))
        }
        if let b = r.blockIO {
            if let w = b.weight, w != 0 {
                if bfq {
                    out.append(
                        CgroupWrite(
                            what: "io weight", field: "\(p).blockIO.weight", file: "io.bfq.weight", value: String(w)))
                } else {
                    out.append(
                        CgroupWrite(
                            what: "io weight", field: "\(p).blockIO.weight", file: "io.weight",
                            value: "default \(ioWeight(blkioWeight: w))"))
                }
            }
            // Per-device weights exist with BFQ only (as in runc; io.weight's per-device
            // form needs iocost enabled on the device).
            if bfq {
                for (i, d) in (b.weightDevice ?? []).enumerated() {
                    guard let w = d.weight else { continue }
                    out.append(
                        CgroupWrite(
                            what: "io weight", field: "\(p).blockIO.weightDevice[\(i)]", file: "io.bfq.weight",
                            value: "\(d.major):\(d.minor) \(w)"))
                }
            }
            let throttles: [(String, String, [LinuxThrottleDevice]?)] = [
                ("throttleReadBpsDevice", "rbps", b.throttleReadBpsDevice),
                ("throttleWriteBpsDevice", "wbps", b.throttleWriteBpsDevice),
                ("throttleReadIOPSDevice", "riops", b.throttleReadIOPSDevice),
                ("throttleWriteIOPSDevice", "wiops", b.throttleWriteIOPSDevice),
            ]
            for (name, key, list) in throttles {
                for (i, t) in (list ?? []).enumerated() {
                    out.append(
                        CgroupWrite(
                            what: "io limit", field: "\(p).blockIO.\(name)[\(i)]", file: "io.max",
                            value: "\(t.major):\(t.minor) \(key)=\(t.rate)"))
                }
            }
        }
        for (i, h) in (r.hugepageLimits ?? []).enumerated() {
            out.append(
                CgroupWrite(
                    what: "hugetlb limit", field: "\(p).hugepageLimits[\(i)]", file: "hugetlb.\(h.pageSize).max",
                    value: String(h.limit)))
            if exists("hugetlb.\(h.pageSize).rsvd.max") {
                out.append(
                    CgroupWrite(
                        what: "hugetlb limit", field: "\(p).hugepageLimits[\(i)]",
                        file: "hugetlb.\(h.pageSize).rsvd.max", value: String(h.limit)))
            }
        }
        for (device, l) in (r.rdma ?? [:]).sorted(by: { $0.key < $1.key }) {
            var v = device
            if let h = l.hcaHandles { v += " hca_handle=\(h)" }
            if let o = l.hcaObjects { v += " hca_object=\(o)" }
            out.append(CgroupWrite(what: "rdma limit", field: "\(p).rdma[\"\(device)\"]", file: "rdma.max", value: v))
        }
        for (key, value) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            // Several lines (io.max for two devices, say) are several writes.
            let lines = value.split(separator: "\n").map(String.init)
            for line in lines.isEmpty ? [value] : lines {
                out.append(CgroupWrite(what: "unified", field: "\(p).unified[\"\(key)\"]", file: key, value: line))
            }
        }
        return out
    }

    // MARK: applying

    /// Write `r` into the cgroup `path` (which must have the controllers).
    static func apply(_ r: LinuxResources?, to path: String) throws {
        guard let r else { return }
        let dir = Cgroup.directory(path)
        let list = try writes(r, bfq: fileExists(dir + "/io.bfq.weight"), exists: { fileExists(dir + "/" + $0) })
        var later: [CgroupWrite] = []
        for w in list {
            let code = Explain.step(w.what, "write \(dir)/\(w.file) = \(w.value)") {
                Cgroup.writeValue(dir + "/" + w.file, w.value)
            }
            if code == 0 { continue }
            if code == ENOENT && w.optionalFile { continue }
            if code == EINVAL && w.retryAfterOthers {
                later.append(w)
                continue
            }
            throw failure(w, dir, code)
        }
        for w in later {
            let code = Explain.step(w.what, "write \(dir)/\(w.file) = \(w.value)") {
                Cgroup.writeValue(dir + "/" + w.file, w.value)
            }
            if code != 0 { throw failure(w, dir, code) }
        }
    }

    static func failure(_ w: CgroupWrite, _ dir: String, _ code: Int32) -> SkiffError {
        SkiffError("\(w.field): write \(dir)/\(w.file) = \(w.value): \(errnoText(code))", code: code)
    }

    // MARK: update

    /// `update` semantics: the fields given replace those of `base`; the rest stay.
    static func merge(_ base: LinuxResources?, _ u: LinuxResources) -> LinuxResources {
        var r = base ?? LinuxResources()
        if let m = u.memory {
            var x = r.memory ?? LinuxMemory()
            if let v = m.limit { x.limit = v }
            if let v = m.reservation { x.reservation = v }
            if let v = m.swap { x.swap = v }
            if let v = m.kernel { x.kernel = v }
            if let v = m.kernelTCP { x.kernelTCP = v }
            if let v = m.swappiness { x.swappiness = v }
            if let v = m.disableOOMKiller { x.disableOOMKiller = v }
            if let v = m.checkBeforeUpdate { x.checkBeforeUpdate = v }
            r.memory = x
        }
        if let c = u.cpu {
            var x = r.cpu ?? LinuxCPU()
            if let v = c.shares { x.shares = v }
            if let v = c.quota { x.quota = v }
            if let v = c.burst { x.burst = v }
            if let v = c.period { x.period = v }
            if let v = c.realtimeRuntime { x.realtimeRuntime = v }
            if let v = c.realtimePeriod { x.realtimePeriod = v }
            if let v = c.cpus { x.cpus = v }
            if let v = c.mems { x.mems = v }
            if let v = c.idle { x.idle = v }
            r.cpu = x
        }
        if let p = u.pids { r.pids = p }
        if let b = u.blockIO {
            var x = r.blockIO ?? LinuxBlockIO()
            if let v = b.weight { x.weight = v }
            if let v = b.leafWeight { x.leafWeight = v }
            if let v = b.weightDevice { x.weightDevice = v }
            if let v = b.throttleReadBpsDevice { x.throttleReadBpsDevice = v }
            if let v = b.throttleWriteBpsDevice { x.throttleWriteBpsDevice = v }
            if let v = b.throttleReadIOPSDevice { x.throttleReadIOPSDevice = v }
            if let v = b.throttleWriteIOPSDevice { x.throttleWriteIOPSDevice = v }
            r.blockIO = x
        }
        if let h = u.hugepageLimits {
            var list = r.hugepageLimits ?? []
            for l in h {
                if let i = list.firstIndex(where: { $0.pageSize == l.pageSize }) { list[i] = l } else { list.append(l) }
            }
            r.hugepageLimits = list
        }
        if let rd = u.rdma { r.rdma = (r.rdma ?? [:]).merging(rd) { $1 } }
        if let un = u.unified { r.unified = (r.unified ?? [:]).merging(un) { $1 } }
        return r
    }

    /// What to write for an update: every setting of each group the update touches, taken
    /// from the merged resources (swap needs the limit, cpu.max both quota and period).
    static func updateSubset(merged: LinuxResources, update u: LinuxResources) -> LinuxResources {
        LinuxResources(
            memory: u.memory == nil ? nil : merged.memory,
            cpu: u.cpu == nil ? nil : merged.cpu,
            pids: u.pids,
            blockIO: u.blockIO == nil ? nil : merged.blockIO,
            hugepageLimits: u.hugepageLimits,
            rdma: u.rdma,
            unified: u.unified)
    }
}
