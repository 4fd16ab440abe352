// `skiff inspect`'s text report: the facts the runtime gathered (SkiffRuntime's
// Lifecycle/Inspect.swift, `Inspection`) laid out for a reader. The JSON form is the
// runtime's (`Inspection.json`), as a machine reads it.
import SkiffRuntime
import SkiffSpec

enum InspectText {
    /// The whole report.
    static func render(_ r: Inspection) -> String {
        let record = r.record
        let status = r.status
        var s = "container   \(record.id)\nstatus      \(status.rawValue)\n"
        s += "pid         \(status == .stopped ? 0 : record.pid)\nbundle      \(record.bundle)\n"
        s += "rootfs      \(record.rootfs)\n"
        if let exitCode = r.exitCode { s += "exit code   \(exitCode)\n" }
        if let logPath = r.logPath { s += "log         \(logPath)\n" }
        if let o = record.overlay { s += "overlay     lower \(o.lower)\n            upper \(o.upper)\n" }
        s += process(record)
        if let a = record.config.annotations, let reference = a[ImageAnnotations.image] { s += image(reference, a) }
        if !r.namespaces.isEmpty {
            s += "\nnamespaces  (inode; host's)\n"
            for ns in r.namespaces {
                let relation =
                    ns.shared ? "shared with the host" : "new (host: \(ns.hostInode.map(String.init) ?? "?"))"
                s += "  \(ns.type.padded(8))\(ns.inode)  \(relation)\n"
            }
        }
        if !r.cgroup.isEmpty {
            s += "\ncgroup\n"
            for (k, v) in r.cgroup { s += "  \(k.padded(22))\(v)\n" }
        }
        s += "\ncapabilities\n"
        for (k, names) in r.capabilities {
            s += "  \(k.padded(8))\(names.isEmpty ? "(none)" : names.joined(separator: " "))\n"
        }
        s += "\nseccomp     \(r.seccomp)\nno_new_privs \(r.noNewPrivs)\n"
        if let n = r.network {
            s += "\nnetwork     \(n["network"]?.stringValue ?? "")\n"
            for k in ["address", "gateway", "bridge", "hostVeth", "netns", "check"] where n[k] != nil {
                s += "  \(k.padded(10))\(n[k]?.stringValue ?? "")\n"
            }
            let ports = (n["ports"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
            s += "  \("ports".padded(10))\(ports)\n"
        }
        if !r.mounts.isEmpty {
            s += "\nmounts (target type source options)\n"
            for m in r.mounts { s += "  \(m)\n" }
        }
        return s
    }

    /// What the container was told to run, from its saved config.
    static func process(_ record: ContainerRecord) -> String {
        let p = record.config.process
        var s = "\nprocess\n"
        s += "  args      \((p?.args ?? []).map(quoted).joined(separator: " "))\n"
        s += "  cwd       \(p?.cwd ?? "/")\n"
        s += "  user      \(p?.user.uid ?? 0):\(p?.user.gid ?? 0)\n"
        s += "  hostname  \(record.config.hostname ?? "(the host's)")\n"
        s += "  terminal  \(p?.terminal == true)\n"
        for e in p?.env ?? [] { s += "  env       \(e)\n" }
        return s
    }

    /// The image section (ExposedPorts, StopSignal: image metadata a runtime does not act
    /// on, shown so that a student sees where they went).
    static func image(_ reference: String, _ a: [String: String]) -> String {
        var s = "image       \(reference)\n            \(a[ImageAnnotations.id] ?? "")\n"
        for l in (a[ImageAnnotations.lowers] ?? "").split(separator: "\n") { s += "            layer \(l)\n" }
        if let p = a[ImageAnnotations.exposedPorts] { s += "exposed     \(p)\n" }
        if let sig = a[ImageAnnotations.stopSignal] { s += "stop signal \(sig)\n" }
        return s
    }

    /// A word as a shell would need it: quoted when it has spaces or is empty.
    static func quoted(_ word: String) -> String {
        guard word.isEmpty || word.contains(where: { " \t\"'$".contains($0) }) else { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
