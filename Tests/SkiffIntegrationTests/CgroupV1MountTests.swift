// The container's /sys/fs/cgroup on a cgroup v1 or hybrid host (CgroupMount.swift): a
// tmpfs with one mount per v1 hierarchy, as runc and crun build it, and ./unified for a
// hybrid host's cgroup v2 part. Each test runs twice where it can: on the hybrid host as
// it is, and with its cgroup v2 hidden (as scripts/bench does, a cgroup v1 only host),
// where the device rules live in the v1 devices cgroup. Skipped on a pure cgroup v2 host
// (the VM), where the mount stays one cgroup2 mount.
import Foundation
import XCTest

final class CgroupV1MountTests: XCTestCase {
    private let unified = "/sys/fs/cgroup/unified"

    /// What the container reports about its /sys/fs/cgroup.
    private struct Seen {
        /// mountinfo under /sys/fs/cgroup, the top mount of each point: point -> (root, options, fstype).
        var mounts: [String: (root: String, options: String, fstype: String)] = [:]
        /// /proc/self/cgroup: controllers ("memory", "name=systemd"; "" for v2) -> path.
        var cgroups: [String: String] = [:]
        var devicesList = ""
        var touch = ""
        /// Symlinks in /sys/fs/cgroup: name -> target.
        var links: [String: String] = [:]

        /// The cgroup of the hierarchy mounted at /sys/fs/cgroup/NAME ("systemd" is name=systemd).
        func path(of name: String) -> String? {
            let wanted = Set(name.split(separator: ","))
            return cgroups.first { key, _ in
                !key.isEmpty
                    && Set(key.split(separator: ",").map { $0.hasPrefix("name=") ? $0.dropFirst(5) : $0 }) == wanted
            }?.value
        }
    }

    private static let script =
        "cat /proc/self/mountinfo; echo @@; cat /proc/self/cgroup; echo @@; cat /sys/fs/cgroup/devices/devices.list; "
        + "echo @@; touch /sys/fs/cgroup/x 2>&1; echo @@; for f in /sys/fs/cgroup/*; do [ -L \"$f\" ] && echo "
        + "\"${f##*/} $(readlink \"$f\")\"; done; true"

    /// Skip unless the host's /sys/fs/cgroup is the v1 layout.
    private func requireV1Host() throws {
        let type = { (path: String) in runProgram("/usr/bin/stat", ["-fc", "%T", path]).out }
        guard type("/sys/fs/cgroup") == "tmpfs", type("/sys/fs/cgroup/devices") == "cgroupfs",
            type("/sys/fs/cgroup/memory") == "cgroupfs"
        else {
            throw XCTSkip(
                "needs a cgroup v1 or hybrid host (/sys/fs/cgroup a tmpfs with the v1 devices and memory "
                    + "hierarchies); on a cgroup v2 host the container gets one cgroup2 mount")
        }
    }

    private var hybrid: Bool { runProgram("/usr/bin/stat", ["-fc", "%T", unified]).out == "cgroup2fs" }

    /// The host's v1 hierarchies under /sys/fs/cgroup (mount point names), and its
    /// symlinks to co-mounted ones (cpu -> cpu,cpuacct).
    private func hostLayout() throws -> (names: Set<String>, links: [String: String]) {
        var names = Set<String>()
        var links: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup") {
            let path = "/sys/fs/cgroup/" + name
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                if target.contains(",") { links[name] = target }
            } else if runProgram("/usr/bin/stat", ["-fc", "%T", path]).out == "cgroupfs" {
                names.insert(name)
            }
        }
        return (names, links)
    }

    /// Run the probe in bundle `b`; with `hideUnified`, in a mount namespace where the
    /// host's cgroup v2 is covered (a cgroup v1 only host).
    private func probe(_ s: Sandbox, _ b: String, _ id: String, hideUnified: Bool) throws -> Seen {
        let r: Result
        if hideUnified {
            let run = "mount -t tmpfs cover \(unified) && \(Env.skiff) --root \(s.stateRoot) run -b \(b) \(id)"
            r = runProgram("/usr/bin/unshare", ["--mount", "sh", "-c", run])
        } else {
            r = s.skiff(["run", "-b", b, id])
        }
        XCTAssertEqual(r.code, 0, "\(id): \(r.stderr)")
        let parts = r.stdout.components(separatedBy: "@@\n")
        guard parts.count == 5 else {
            XCTFail("\(id): unexpected output: \(r.stdout) \(r.stderr)")
            return Seen()
        }
        var seen = Seen()
        for line in parts[0].split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard let dash = f.firstIndex(of: "-"), dash + 1 < f.count,
                f[4] == "/sys/fs/cgroup" || f[4].hasPrefix("/sys/fs/cgroup/")
            else { continue }
            seen.mounts[f[4]] = (f[3], f[5], f[dash + 1])
        }
        for line in parts[1].split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if f.count == 3 { seen.cgroups[f[1]] = f[2] }
        }
        seen.devicesList = parts[2]
        seen.touch = parts[3].trimmingCharacters(in: .whitespacesAndNewlines)
        for line in parts[4].split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 1).map(String.init)
            if f.count == 2 { seen.links[f[0]] = f[1] }
        }
        return seen
    }

    /// The layout both tests expect: a tmpfs holding one cgroup mount per host hierarchy
    /// (plus ./unified where the host's cgroup v2 is visible) and the host's symlinks,
    /// every mount with the spec's flags.
    private func checkLayout(_ seen: Seen, withUnified: Bool, readOnly: Bool, _ what: String) throws {
        let host = try hostLayout()
        let top = try XCTUnwrap(seen.mounts["/sys/fs/cgroup"], "\(what): no mount at /sys/fs/cgroup")
        XCTAssertEqual(top.fstype, "tmpfs", "\(what): /sys/fs/cgroup is not a tmpfs")
        let subs = Set(seen.mounts.keys.filter { $0 != "/sys/fs/cgroup" }.map { String($0.dropFirst(15)) })
        XCTAssertEqual(
            subs, host.names.union(withUnified ? ["unified"] : []), "\(what): the mounts under /sys/fs/cgroup")
        XCTAssertEqual(seen.links, host.links, "\(what): symlinks to co-mounted hierarchies")
        for (point, m) in seen.mounts {
            let flags = Set(m.options.split(separator: ","))
            XCTAssertTrue(flags.isSuperset(of: ["nosuid", "nodev", "noexec"]), "\(what): \(point) has \(m.options)")
            XCTAssertEqual(flags.contains("ro"), readOnly, "\(what): \(point) has \(m.options)")
            if point == "/sys/fs/cgroup" { continue }
            XCTAssertEqual(m.fstype, point.hasSuffix("/unified") ? "cgroup2" : "cgroup", "\(what): \(point)")
        }
        if readOnly { XCTAssertEqual(seen.touch, "touch: /sys/fs/cgroup/x: Read-only file system", what) }
    }

    /// (a) Without a cgroup namespace each hierarchy is the container's own cgroup in it,
    /// bound from the host: the mount's root is the path /proc/self/cgroup names; without
    /// cgroup v2 the devices cgroup is the one with the container's rules.
    func testWithoutCgroupNamespaceEachHierarchyIsTheContainersOwnCgroup() throws {
        let s = try Sandbox()
        try requireV1Host()
        let b = try s.bundle(args: ["sh", "-c", Self.script]) { c in
            var linux = c["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "cgroup" }
            c["linux"] = linux
        }
        for hide in hybrid ? [false, true] : [false] {
            let what = hide ? "cgroup v2 hidden" : "as the host is"
            let seen = try probe(s, b, hide ? "own-v1" : "own-host", hideUnified: hide)
            try checkLayout(seen, withUnified: hybrid && !hide, readOnly: true, what)
            for (point, m) in seen.mounts where point != "/sys/fs/cgroup" {
                let name = String(point.dropFirst(15))
                let own = name == "unified" ? seen.cgroups[""] : seen.path(of: name)
                XCTAssertEqual(m.root, own, "\(what): \(point) is not the container's own cgroup")
            }
            if hide {
                // The device rules are in the v1 devices cgroup: the container's, not the root's.
                XCTAssertTrue(seen.path(of: "devices")?.hasPrefix("/skiff/") == true, "\(what): \(seen.cgroups)")
                XCTAssertFalse(seen.devicesList.contains("a *:* rwm"), "\(what): \(seen.devicesList)")
                XCTAssertTrue(seen.devicesList.contains("c 1:3 rwm"), "\(what): \(seen.devicesList)")
            } else if hybrid {
                XCTAssertTrue(seen.cgroups[""]?.hasPrefix("/skiff/") == true, "\(what): \(seen.cgroups)")
            }
        }
        s.assertNothingLeftBehind()
    }

    /// (b) With a cgroup namespace each hierarchy is mounted afresh and shows the
    /// namespace's root; with a spec without "ro" the mounts are writable, with its
    /// nosuid, nodev and noexec.
    func testWithCgroupNamespaceEachHierarchyShowsTheNamespaceRoot() throws {
        let s = try Sandbox()
        try requireV1Host()
        let b = try s.bundle(args: ["sh", "-c", Self.script]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            for i in mounts.indices where mounts[i]["type"] as? String == "cgroup" {
                mounts[i]["options"] = ["nosuid", "noexec", "nodev", "relatime"]
            }
            c["mounts"] = mounts
        }
        for hide in hybrid ? [false, true] : [false] {
            let what = hide ? "cgroupns, cgroup v2 hidden" : "cgroupns, as the host is"
            let seen = try probe(s, b, hide ? "ns-v1" : "ns-host", hideUnified: hide)
            try checkLayout(seen, withUnified: hybrid && !hide, readOnly: false, what)
            for (point, m) in seen.mounts where point != "/sys/fs/cgroup" {
                XCTAssertEqual(m.root, "/", "\(what): \(point)")
            }
            XCTAssertFalse(seen.cgroups.isEmpty, what)
            for (controllers, path) in seen.cgroups {
                XCTAssertEqual(path, "/", "\(what): /proc/self/cgroup \(controllers)")
            }
        }
        s.assertNothingLeftBehind()
    }

    /// (c) Only a mount of type "cgroup" becomes the v1 layout, as in runc: a spec that asks
    /// for "cgroup2" gets one cgroup2 mount, even on a v1 or hybrid host.
    func testACgroup2MountStaysOneCgroup2Mount() throws {
        let s = try Sandbox()
        try requireV1Host()
        let b = try s.bundle(args: ["sh", "-c", Self.script]) { c in
            var mounts = c["mounts"] as! [[String: Any]]
            for i in mounts.indices where mounts[i]["type"] as? String == "cgroup" {
                mounts[i]["type"] = "cgroup2"
                mounts[i]["source"] = "cgroup2"
            }
            c["mounts"] = mounts
        }
        let seen = try probe(s, b, "asks-v2", hideUnified: false)
        XCTAssertEqual(
            seen.mounts.mapValues(\.fstype), ["/sys/fs/cgroup": "cgroup2"], "the mounts under /sys/fs/cgroup")
        s.assertNothingLeftBehind()
    }
}
