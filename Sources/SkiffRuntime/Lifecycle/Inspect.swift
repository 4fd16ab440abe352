// `skiff inspect`: what the kernel says about a container, next to the host: its
// namespaces (by inode), cgroup usage and limits, mounts, capabilities, seccomp mode,
// overlay layers. Everything is read from /proc and /sys/fs/cgroup, nothing from memory.
import Glibc
import SkiffSpec

public struct Inspection {
    public struct Namespace { public let type: String; public let inode: UInt64; public let hostInode: UInt64?; public var shared: Bool { inode == hostInode } }

    public let record: ContainerRecord
    public let status: ContainerStatus
    public let namespaces: [Namespace]
    public let cgroup: [(String, String)]     // file → value, e.g. memory.current
    public let mounts: [String]               // "TARGET TYPE SOURCE OPTIONS"
    public let capabilities: [(String, [String])]  // CapEff → names
    public let seccomp: String
    public let noNewPrivs: String
    /// Set by the caller: a stopped detached container's exit code, and its log file.
    public var exitCode: Int32?
    public var logPath: String?
    /// The network attachment (address, bridge, ports), when there is one (Network/).
    public let network: JSON?

    public init(record: ContainerRecord, status: ContainerStatus, stateDir: String? = nil) {
        self.record = record
        self.status = status
        network = stateDir.flatMap { ContainerNetwork.inspect(id: record.id, stateDir: $0, check: status == .running) }
        let pid = record.pid
        let alive = status != .stopped
        namespaces = !alive ? [] : LinuxNamespaceType.allCases.compactMap { t in
            guard let ino = Namespaces.inode(pid: pid, t) else { return nil }
            // "The host" is where skiff itself runs.
            return Namespace(type: t.procName, inode: ino, hostInode: Namespaces.inode(pid: getpid(), t))
        }
        var cg: [(String, String)] = []
        if !record.cgroupPath.isEmpty, Cgroup.available {
            let dir = Cgroup.directory(record.cgroupPath)
            cg.append(("path", dir))
            for file in ["memory.current", "memory.max", "memory.peak", "pids.current", "pids.max", "cpu.max", "cpu.weight", "cgroup.freeze"] {
                if let v = readText(dir + "/" + file) { cg.append((file, v.trimmingTrailingNewline)) }
            }
            if let stat = readText(dir + "/cpu.stat"), let usage = stat.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec") }) {
                cg.append(("cpu.stat usage_usec", String(usage.split(separator: " ").last ?? "")))
            }
        }
        cgroup = cg
        mounts = !alive ? [] : (readText("/proc/\(pid)/mountinfo") ?? "").split(separator: "\n").map { line in
            // mountinfo: id parent maj:min root target options ... - type source superoptions
            let halves = String(line).components(separatedBy: " - ")
            let left = halves[0].split(separator: " "), right = halves.count > 1 ? halves[1].split(separator: " ") : []
            return "\(left.count > 4 ? String(left[4]) : "?") \(right.first.map(String.init) ?? "?") \(right.count > 1 ? String(right[1]) : "?") \(left.count > 5 ? String(left[5]) : "")"
        }
        let status = alive ? (readText("/proc/\(pid)/status") ?? "") : ""
        func field(_ name: String) -> String? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingSpacesAndTabs }
        }
        capabilities = ["CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"].map { name in
            (name, field(name).flatMap { UInt64($0, radix: 16) }.map(Inspection.capabilityNames) ?? [])
        }
        let mode = field("Seccomp") ?? ""
        seccomp = ["0": "disabled", "1": "strict", "2": "filter"][mode].map { m in
            m + (field("Seccomp_filters").map { " (\($0) filters)" } ?? "")
        } ?? (alive ? "unknown" : "-")
        noNewPrivs = field("NoNewPrivs") ?? "-"
    }

    /// Capability names of the bits set in a mask.
    static func capabilityNames(_ mask: UInt64) -> [String] {
        LinuxCapabilities.knownNames.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
    }

    /// Everything as one JSON document.
    public var json: JSON {
        var doc: [(key: String, value: JSON)] = [
            ("id", .string(record.id)), ("status", .string(status.rawValue)), ("pid", .integer(status == .stopped ? 0 : record.pid)),
            ("bundle", .string(record.bundle)), ("rootfs", .string(record.rootfs)), ("created", .string(record.created)),
        ]
        if let exitCode { doc.append(("exitCode", .integer(exitCode))) }
        if let logPath { doc.append(("log", .string(logPath))) }
        doc.append(("process", processJSON)) // InspectProcess.swift
        doc.append(("namespaces", .array(namespaces.map { ns in
            .object([("type", .string(ns.type)), ("inode", .integer(ns.inode)), ("host", ns.hostInode.map { .integer($0) } ?? .null),
                     ("shared", .bool(ns.shared))])
        })))
        doc.append(("cgroup", .object(cgroup.map { ($0.0, .string($0.1)) })))
        doc.append(("mounts", .array(mounts.map { .string($0) })))
        doc.append(("capabilities", .object(capabilities.map { ($0.0, .array($0.1.map { .string($0) })) })))
        doc.append(("seccomp", .string(seccomp)))
        doc.append(("noNewPrivs", .string(noNewPrivs)))
        if let network { doc.append(("network", network)) }
        if let o = record.overlay {
            doc.append(("overlay", .object([("lower", .string(o.lower)), ("upper", .string(o.upper)), ("work", .string(o.work)), ("merged", .string(o.merged))])))
        }
        if let a = record.config.annotations, let image = a[ImageAnnotations.image] { doc.append(("image", ImageAnnotations.inspectJSON(image, a))) }
        return .object(doc)
    }

    /// A readable report.
    public var text: String {
        var s = "container   \(record.id)\nstatus      \(status.rawValue)\npid         \(status == .stopped ? 0 : record.pid)\nbundle      \(record.bundle)\nrootfs      \(record.rootfs)\n"
        if let exitCode { s += "exit code   \(exitCode)\n" }
        if let logPath { s += "log         \(logPath)\n" }
        if let o = record.overlay { s += "overlay     lower \(o.lower)\n            upper \(o.upper)\n" }
        s += processText
        if let a = record.config.annotations, let image = a[ImageAnnotations.image] { s += ImageAnnotations.inspectText(image, a) }
        if !namespaces.isEmpty {
            s += "\nnamespaces  (inode; host's)\n"
            for ns in namespaces {
                s += "  \(ns.type.padding(8))\(ns.inode)  \(ns.shared ? "shared with the host" : "new (host: \(ns.hostInode.map(String.init) ?? "?"))")\n"
            }
        }
        if !cgroup.isEmpty {
            s += "\ncgroup\n"
            for (k, v) in cgroup { s += "  \(k.padding(22))\(v)\n" }
        }
        s += "\ncapabilities\n"
        for (k, names) in capabilities { s += "  \(k.padding(8))\(names.isEmpty ? "(none)" : names.joined(separator: " "))\n" }
        s += "\nseccomp     \(seccomp)\nno_new_privs \(noNewPrivs)\n"
        if let n = network {
            s += "\nnetwork     \(n["network"]?.stringValue ?? "")\n"
            for k in ["address", "gateway", "bridge", "hostVeth", "netns", "check"] where n[k] != nil { s += "  \(k.padding(10))\(n[k]?.stringValue ?? "")\n" }
            s += "  \("ports".padding(10))\((n["ports"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " "))\n"
        }
        if !mounts.isEmpty {
            s += "\nmounts (target type source options)\n"
            for m in mounts { s += "  \(m)\n" }
        }
        return s
    }
}

extension String {
    var trimmingTrailingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
    var trimmingSpacesAndTabs: String { String(drop { $0 == " " || $0 == "\t" }) }
    func components(separatedBy sep: String) -> [String] {
        var out: [String] = [], rest = self[...]
        while let r = rest.find(sep) {
            out.append(String(rest[..<r.lowerBound])); rest = rest[r.upperBound...]
        }
        out.append(String(rest))
        return out
    }
}
