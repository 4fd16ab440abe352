// `skiff inspect`: what the kernel says about a container, next to the host: its
// namespaces (by inode), cgroup usage and limits, mounts, capabilities, seccomp mode,
// overlay layers. Everything is read from /proc and /sys/fs/cgroup, nothing from memory.
// The runtime gathers the facts (and gives them as JSON); the CLI lays out the text
// report (Sources/skiff/InspectText.swift).
import Glibc
import SkiffSpec

public struct Inspection {
    public struct Namespace {
        public let type: String
        public let inode: UInt64
        public let hostInode: UInt64?
        public var shared: Bool { inode == hostInode }
    }

    public let record: ContainerRecord
    public let status: ContainerStatus
    public var namespaces: [Namespace]
    public var cgroup: [(String, String)] // file → value, e.g. memory.current
    public var mounts: [String] // "TARGET TYPE SOURCE OPTIONS"
    public var capabilities: [(String, [String])] // CapEff → names
    public var seccomp: String
    public var noNewPrivs: String
    /// Set by the caller: a stopped detached container's exit code, and its log file.
    public var exitCode: Int32?
    public var logPath: String?
    /// The network attachment (address, bridge, ports), when there is one (Network/).
    public var network: JSON?

    public init(record: ContainerRecord, status: ContainerStatus, stateDir: String? = nil) {
        self.record = record
        self.status = status
        network = stateDir.flatMap { ContainerNetwork.inspect(id: record.id, stateDir: $0, check: status == .running) }
        let pid = record.pid
        let alive = status != .stopped
        namespaces =
            !alive
            ? []
            : LinuxNamespaceType.allCases.compactMap { t in
                guard let ino = Namespaces.inode(pid: pid, t) else { return nil }
                // "The host" is where skiff itself runs.
                return Namespace(type: t.procName, inode: ino, hostInode: Namespaces.inode(pid: getpid(), t))
            }
        var cg: [(String, String)] = []
        if !record.cgroupPath.isEmpty, Cgroup.available {
            let dir = Cgroup.directory(record.cgroupPath)
            cg.append(("path", dir))
            for file in [
                "memory.current", "memory.max", "memory.peak", "pids.current", "pids.max", "cpu.max", "cpu.weight",
                "cgroup.freeze",
            ] {
                if let v = readText(dir + "/" + file) { cg.append((file, v.trimmingWhitespace())) }
            }
            if let stat = readText(dir + "/cpu.stat"),
                let usage = stat.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec") })
            {
                cg.append(("cpu.stat usage_usec", String(usage.split(separator: " ").last ?? "")))
            }
        }
        cgroup = cg
        mounts =
            !alive
            ? []
            : (readText("/proc/\(pid)/mountinfo") ?? "").split(separator: "\n").map { line in
                // mountinfo: id parent maj:min root target options ... - type source superoptions
                let dash = line.find(" - ")
                let left = line[..<(dash?.lowerBound ?? line.endIndex)].split(separator: " ")
                let right = dash.map { line[$0.upperBound...].split(separator: " ") } ?? []
                return "\(left.count > 4 ? String(left[4]) : "?") \(right.first.map(String.init) ?? "?") "
                    + "\(right.count > 1 ? String(right[1]) : "?") \(left.count > 5 ? String(left[5]) : "")"
            }
        let status = alive ? (readText("/proc/\(pid)/status") ?? "") : ""
        func field(_ name: String) -> String? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingWhitespace()
            }
        }
        capabilities = ["CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"].map { name in
            (name, field(name).flatMap { UInt64($0, radix: 16) }.map(Inspection.capabilityNames) ?? [])
        }
        let mode = field("Seccomp") ?? ""
        seccomp =
            ["0": "disabled", "1": "strict", "2": "filter"][mode].map { m in
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
            ("id", .string(record.id)), ("status", .string(status.rawValue)),
            ("pid", .integer(status == .stopped ? 0 : record.pid)),
            ("bundle", .string(record.bundle)), ("rootfs", .string(record.rootfs)),
            ("created", .string(record.created)),
        ]
        if let exitCode { doc.append(("exitCode", .integer(exitCode))) }
        if let logPath { doc.append(("log", .string(logPath))) }
        doc.append(("process", processJSON)) // InspectProcess.swift
        doc.append(
            (
                "namespaces",
                .array(
                    namespaces.map { ns in
                        .object([
                            ("type", .string(ns.type)), ("inode", .integer(ns.inode)),
                            ("host", ns.hostInode.map { .integer($0) } ?? .null),
                            ("shared", .bool(ns.shared)),
                        ])
                    })
            ))
        doc.append(("cgroup", .object(cgroup.map { ($0.0, .string($0.1)) })))
        doc.append(("mounts", .array(mounts.map { .string($0) })))
        doc.append(("capabilities", .object(capabilities.map { ($0.0, .array($0.1.map { .string($0) })) })))
        doc.append(("seccomp", .string(seccomp)))
        doc.append(("noNewPrivs", .string(noNewPrivs)))
        if let network { doc.append(("network", network)) }
        if let o = record.overlay {
            doc.append(
                (
                    "overlay",
                    .object([
                        ("lower", .string(o.lower)), ("upper", .string(o.upper)), ("work", .string(o.work)),
                        ("merged", .string(o.merged)),
                    ])
                ))
        }
        if let a = record.config.annotations, let image = a[ImageAnnotations.image] {
            doc.append(("image", ImageAnnotations.inspectJSON(image, a)))
        }
        return .object(doc)
    }
}
