// A quick-run container's network: what `--network`, `-p`, `--dns` and `--add-host`
// become. The request travels in the config's annotations (run.skiff.network ...), so a
// config.json written by `skiff spec --rootfs` asks for the same, and `delete` finds
// it again in state.json.
//
// The network namespace. CNI plugins need a namespace *path* before the container's
// process exists. Skiff makes a persistent one, as `ip netns add` does: unshare a new
// network namespace, bind-mount /proc/thread-self/ns/net onto ROOT/ID/netns, come back.
// The config's network namespace entry then points at that file and init joins it with
// setns. Why not /proc/PID/ns/net of init: the namespace would die with the container,
// and a CNI DEL after a crash (`delete --force`) could no longer reach it; the bridge
// plugin then skips its MASQUERADE rule and leaks it. The mount keeps the namespace
// alive until skiff has run DEL, then it is unmounted.
//
// The order: state directory → netns → CNI ADD (loopback, then the network's list:
// bridge+host-local, portmap, firewall) → network.json → /etc/hosts of the container
// and of its peers → clone. Teardown runs the same in reverse from network.json, and
// every step tolerates what is already gone (delete --force after a crash).
import CShim
import Glibc
import SkiffSpec

/// One `-p [IP:]HOST:CTR[/tcp|udp]`.
public struct PortMapping: Equatable, CustomStringConvertible {
    public let hostIP: String
    public let hostPort: Int
    public let containerPort: Int
    public let proto: String

    public init(_ text: String) throws {
        var body = Substring(text)
        var proto = "tcp"
        if let slash = body.lastIndex(of: "/") {
            proto = String(body[body.index(after: slash)...]).lowercased()
            body = body[..<slash]
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let bad = SkiffError("--publish \(text): expected [IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]")
        guard proto == "tcp" || proto == "udp", parts.count == 2 || parts.count == 3 else { throw bad }
        guard let h = Int(parts[parts.count - 2]), let c = Int(parts[parts.count - 1]), (1...65535).contains(h),
            (1...65535).contains(c)
        else { throw bad }
        let ip = parts.count == 3 ? parts[0] : ""
        if !ip.isEmpty {
            guard IPv4Subnet.parseAddress(ip) != nil else {
                throw SkiffError("--publish \(text): \(ip) is not an IPv4 address")
            }
        }
        hostIP = ip
        hostPort = h
        containerPort = c
        self.proto = proto
    }

    public var description: String { (hostIP.isEmpty ? "" : hostIP + ":") + "\(hostPort):\(containerPort)/\(proto)" }

    /// portmap's runtimeConfig entry.
    var json: JSON {
        var o: [(key: String, value: JSON)] = [
            ("hostPort", .integer(hostPort)), ("containerPort", .integer(containerPort)), ("protocol", .string(proto)),
        ]
        if !hostIP.isEmpty { o.append(("hostIP", .string(hostIP))) }
        return .object(o)
    }
}

public enum NetworkAnnotation {
    public static let network = "run.skiff.network"
    public static let ports = "run.skiff.ports"
    public static let dns = "run.skiff.dns"
    public static let addHosts = "run.skiff.add-hosts"
}

/// What one attached container remembers: ROOT/ID/network.json.
struct NetworkAttachment {
    var id: String
    var network: String
    var netns: String
    var address: String // 10.88.0.2
    var prefix: Int
    var gateway: String
    var bridge: String
    var hostVeth: String
    var names: [String] // hostname and id: what peers' /etc/hosts call it
    var extraHosts: [(String, String)]
    var ports: [PortMapping]
    var result: JSON? // the CNI ADD result, passed to DEL and CHECK as prevResult
    var conflist: JSON

    var json: JSON {
        .object([
            ("network", .string(network)), ("netns", .string(netns)), ("address", .string(address)),
            ("prefix", .integer(prefix)),
            ("gateway", .string(gateway)), ("bridge", .string(bridge)), ("hostVeth", .string(hostVeth)),
            ("names", .array(names.map { .string($0) })),
            ("extraHosts", .array(extraHosts.map { .string($0.0 + ":" + $0.1) })),
            ("ports", .array(ports.map { .string($0.description) })),
            ("result", result ?? .null), ("conflist", conflist),
        ])
    }

    init(
        id: String, network: String, netns: String, names: [String], extraHosts: [(String, String)],
        ports: [PortMapping], conflist: JSON, bridge: String
    ) {
        self.id = id
        self.network = network
        self.netns = netns
        self.names = names
        self.extraHosts = extraHosts
        self.ports = ports
        self.conflist = conflist
        self.bridge = bridge
        address = ""
        prefix = 0
        gateway = ""
        hostVeth = ""
    }

    init?(id: String, json j: JSON) {
        guard let network = j["network"]?.stringValue, let conflist = j["conflist"] else { return nil }
        self.id = id
        self.network = network
        self.conflist = conflist
        netns = j["netns"]?.stringValue ?? ""
        address = j["address"]?.stringValue ?? ""
        prefix = Int(j["prefix"]?.int64Value ?? 0)
        gateway = j["gateway"]?.stringValue ?? ""
        bridge = j["bridge"]?.stringValue ?? ""
        hostVeth = j["hostVeth"]?.stringValue ?? ""
        names = j["names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        extraHosts = (j["extraHosts"]?.arrayValue?.compactMap(\.stringValue) ?? []).compactMap {
            try? DNSFiles.parseAddHost($0)
        }
        ports = (j["ports"]?.arrayValue?.compactMap(\.stringValue) ?? []).compactMap { try? PortMapping($0) }
        result = j["result"].flatMap { $0.isNull ? nil : $0 }
    }

    /// Fill address, gateway and the host-side veth from a CNI result.
    mutating func read(result r: JSON) {
        result = r
        let interfaces = r["interfaces"]?.arrayValue ?? []
        if let ip = r["ips"]?.arrayValue?.first {
            let cidr = ip["address"]?.stringValue ?? ""
            let parts = cidr.split(separator: "/")
            address = parts.first.map(String.init) ?? ""
            prefix = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            gateway = ip["gateway"]?.stringValue ?? ""
        }
        // The bridge plugin lists: the bridge, the host end of the veth, the container's end (with "sandbox").
        hostVeth =
            interfaces.first { $0["sandbox"] == nil && $0["name"]?.stringValue != bridge }?["name"]?.stringValue ?? ""
    }
}

public enum ContainerNetwork {
    static let ifname = "eth0"

    static func attachmentPath(_ dir: String) -> String { dir + "/network.json" }

    /// The attachments of every container on `network` in this state root.
    static func members(of network: String, store: StateStore) -> [NetworkAttachment] {
        store.ids().compactMap { id in
            guard let bytes = readFile(attachmentPath(store.directory(id))), let j = try? JSON.parse(bytes),
                let a = NetworkAttachment(id: id, json: j), a.network == network
            else { return nil }
            return a
        }
    }

    /// The network section of `skiff inspect`, or nil for a container without one.
    /// With `check`, the plugins' CNI CHECK says whether the kernel still holds what ADD made.
    public static func inspect(id: String, stateDir: String, check: Bool) -> JSON? {
        guard let bytes = readFile(attachmentPath(stateDir)), let j = try? JSON.parse(bytes),
            let a = NetworkAttachment(id: id, json: j)
        else { return nil }
        var doc: [(key: String, value: JSON)] = [
            ("network", .string(a.network)), ("address", .string(a.address.isEmpty ? "" : "\(a.address)/\(a.prefix)")),
            ("gateway", .string(a.gateway)), ("bridge", .string(a.bridge)), ("hostVeth", .string(a.hostVeth)),
            ("netns", .string(a.netns)), ("ports", .array(a.ports.map { .string($0.description) })),
        ]
        if check { doc.append(("check", .string(ContainerNetwork.check(id: id, stateDir: stateDir) ?? "ok"))) }
        return .object(doc)
    }

    // MARK: set up

    /// Called by create once the state directory exists and before the clone: makes the
    /// DNS files and, for a bridge network, the namespace and its interfaces. Edits the
    /// spec (mounts, network namespace path). Returns false for a config without the
    /// annotation (nothing to do).
    static func setUp(id: String, dir: String, spec: inout Spec, store: StateStore) throws -> Bool {
        guard let mode = spec.annotations?[NetworkAnnotation.network] else { return false }
        let ann = spec.annotations ?? [:]
        let ports = try (ann[NetworkAnnotation.ports] ?? "").split(separator: ",").map { try PortMapping(String($0)) }
        let dns = (ann[NetworkAnnotation.dns] ?? "").split(separator: ",").map(String.init)
        let extra = try (ann[NetworkAnnotation.addHosts] ?? "").split(separator: ",").map {
            try DNSFiles.parseAddHost(String($0))
        }
        for d in dns where !DNSFiles.isIPAddress(d) { throw SkiffError("--dns \(d): not an IP address") }
        if !ports.isEmpty && (mode == "none" || mode == "host") {
            throw SkiffError("--publish needs a bridge network: with --network \(mode) there is nothing to publish to")
        }
        let hostname = spec.hostname ?? id
        let names = hostname == id ? [id] : [hostname, id]

        // The three files, in the state directory; bind-mounted read-only over the image's.
        let ownNetwork = mode != "host"
        try writeFile(
            dir + "/resolv.conf",
            DNSFiles.resolvConf(
                host: readText(DNSFiles.hostResolvConf) ?? "",
                resolved: readText(DNSFiles.resolvedUpstreams),
                ownNetwork: ownNetwork, dns: dns))
        try writeFile(dir + "/hostname", hostname + "\n")
        let hostsText: String
        if mode == "host" {
            hostsText =
                (readText("/etc/hosts") ?? "")
                + DNSFiles.hosts(own: nil, extra: extra, peers: [], network: nil).split(separator: "\n").dropFirst(3)
                .map { $0 + "\n" }.joined()
        } else {
            hostsText = DNSFiles.hosts(own: nil, extra: extra, peers: [], network: nil)
        }
        try writeFile(dir + "/hosts", hostsText)
        var mounts = spec.mounts ?? []
        for f in ["resolv.conf", "hosts", "hostname"] {
            mounts.append(
                Mount(
                    destination: "/etc/" + f, type: "bind", source: dir + "/" + f,
                    options: ["rbind", "ro", "nosuid", "nodev", "noexec"]))
        }
        spec.mounts = mounts
        Explain.note("dns files", "\(dir)/{resolv.conf,hosts,hostname} → /etc (read-only bind mounts)")
        if mode == "none" || mode == "host" { return true }

        // A bridge network.
        let networks = NetworkStore(root: store.root)
        let def = try networks.load(mode)
        if def.isInternal && !ports.isEmpty {
            throw SkiffError("--publish: network \"\(mode)\" is --internal: nothing from outside may reach it")
        }
        try networks.locked {
            try checkPortsFree(ports, network: networks, store: store, id: id)
            let list = try networks.conflist(def)
            let netns = dir + "/netns"
            var attachment = NetworkAttachment(
                id: id, network: def.name, netns: netns, names: names, extraHosts: extra,
                ports: ports, conflist: list, bridge: def.bridge)
            try createNetns(at: netns)
            // Written before ADD: whatever happens next, teardown knows what to undo.
            try writeFileAtomic(attachmentPath(dir), attachment.json.serialized(indent: "  ") + "\n")
            let at = CNI.Attachment(containerID: id, netns: netns, ifname: ifname)
            try CNI.runList(.add, list: loopbackList, CNI.Attachment(containerID: id, netns: netns, ifname: "lo"))
            let result: JSON?
            do {
                result = try CNI.runList(
                    .add, list: list, at, runtimeConfig: ["portMappings": .array(ports.map(\.json))])
            } catch {
                // Undo whatever part of the list got done (DEL tolerates the rest).
                _ = try? CNI.runList(.del, list: list, at, runtimeConfig: ["portMappings": .array(ports.map(\.json))])
                throw error
            }
            if let result { attachment.read(result: result) }
            guard !attachment.address.isEmpty else {
                throw SkiffError("CNI ADD \(def.name): the result has no address")
            }
            try writeFileAtomic(attachmentPath(dir), attachment.json.serialized(indent: "  ") + "\n")
            try rewriteHosts(network: def.name, store: store, extraMember: attachment)
            explainReadBack(attachment)
        }

        // Init joins this namespace instead of making a new one.
        var linux = spec.linux ?? Linux()
        var namespaces = linux.namespaces ?? []
        namespaces.removeAll { $0.type == .network }
        namespaces.append(LinuxNamespace(type: .network, path: dir + "/netns"))
        linux.namespaces = namespaces
        spec.linux = linux
        return true
    }

    /// The loopback plugin's list: `lo` up inside the namespace.
    static let loopbackList: JSON = .object([
        ("cniVersion", .string(CNI.version)), ("name", "lo"), ("plugins", .array([.object([("type", "loopback")])])),
    ])

    /// `ip netns add`, by hand: a new network namespace kept alive by a bind mount.
    static func createNetns(at path: String) throws {
        let fd = try sys("create \(path)") { open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444) }
        close(fd)
        let saved = try sys("open /proc/thread-self/ns/net") { open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) }
        defer { close(saved) }
        try Explain.step("new netns", "unshare(CLONE_NEWNET); mount --bind /proc/thread-self/ns/net \(path)") {
            try sys("unshare(CLONE_NEWNET)") { sk_unshare(Int32(truncatingIfNeeded: SK_CLONE_NEWNET)) }
            let bound = sk_mount("/proc/thread-self/ns/net", path, nil, SK_MS_BIND, nil)
            let err = errno
            // Back to the host's network namespace whatever happened.
            try sys("setns(host network namespace)") { sk_setns(saved, Int32(truncatingIfNeeded: SK_CLONE_NEWNET)) }
            if bound != 0 {
                unlink(path)
                throw SkiffError("mount --bind netns on \(path): \(errnoText(err))", code: err)
            }
        }
    }

    /// A host port that something else holds makes -p fail here, with one line, before
    /// anything is made: another container's mapping, or a socket bound on the host
    /// (the DNAT rule would silently steal its traffic).
    static func checkPortsFree(_ ports: [PortMapping], network: NetworkStore, store: StateStore, id: String) throws {
        var seen: [String: String] = [:]
        for p in ports {
            let key = "\(p.hostPort)/\(p.proto)"
            if seen[key] != nil { throw SkiffError("--publish \(p): host port \(key) is given twice") }
            seen[key] = id
        }
        for other in store.ids() where other != id {
            guard let bytes = readFile(attachmentPath(store.directory(other))), let j = try? JSON.parse(bytes),
                let a = NetworkAttachment(id: other, json: j)
            else { continue }
            for p in ports where a.ports.contains(where: { $0.hostPort == p.hostPort && $0.proto == p.proto }) {
                throw SkiffError(
                    "--publish \(p): host port \(p.hostPort)/\(p.proto) is already published by container \"\(other)\"")
            }
        }
        for p in ports {
            let fd = socket(AF_INET, Int32(p.proto == "tcp" ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var one: Int32 = 1
            if p.proto == "tcp" { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(p.hostPort).bigEndian
            addr.sin_addr.s_addr = (p.hostIP.isEmpty ? 0 : IPv4Subnet.parseAddress(p.hostIP)!).bigEndian
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if rc != 0 && errno == EADDRINUSE {
                throw SkiffError("--publish \(p): host port \(p.hostPort)/\(p.proto) is already in use")
            }
        }
    }

    /// Rewrite /etc/hosts of every container on `network` (in place: the bind mount pins
    /// the inode, a rename would not be seen). `extraMember` joins, `leaving` goes.
    static func rewriteHosts(
        network: String, store: StateStore, extraMember: NetworkAttachment? = nil, leaving: String? = nil
    ) throws {
        var all = members(of: network, store: store).filter { $0.id != leaving && $0.id != extraMember?.id }
        if let extraMember { all.append(extraMember) }
        let isDefault = network == NetworkStore.defaultName
        for m in all where !m.address.isEmpty {
            // As on docker0, containers on the default network do not see each other by name.
            let peers =
                isDefault ? [] : all.filter { $0.id != m.id && !$0.address.isEmpty }.map { ($0.address, $0.names) }
            let text = DNSFiles.hosts(own: (m.address, m.names), extra: m.extraHosts, peers: peers, network: network)
            let path = store.directory(m.id) + "/hosts"
            guard fileExists(path) else { continue }
            Explain.note(
                "hosts file",
                "rewrite \(path) in place: \(m.names.joined(separator: " ")) \(m.address)"
                    + (peers.isEmpty ? "" : ", peers " + peers.map { "\($0.1[0]) \($0.0)" }.joined(separator: ", ")))
            try writeFile(path, text)
        }
    }

    /// --explain: what the plugins did, read back from the kernel (ip, iptables).
    static func explainReadBack(_ a: NetworkAttachment) {
        guard Explain.enabled else { return }
        func show(_ what: String, _ args: [String], filter: (String) -> Bool = { _ in true }) {
            guard
                let (st, out, _) = try? Captured.run(args[0], args: args, env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]),
                st == 0
            else { return }
            for line in String(decoding: out, as: UTF8.self).split(separator: "\n") where filter(String(line)) {
                Explain.note(
                    what,
                    line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ").replacingBackslashes)
            }
        }
        let inNetns = ["/usr/bin/nsenter", "--net=" + a.netns, "/bin/ip"]
        show("container if", inNetns + ["-o", "-4", "addr", "show"])
        show("container route", inNetns + ["route", "show"])
        show("host bridge", ["/bin/ip", "-o", "-4", "addr", "show", "dev", a.bridge])
        if !a.hostVeth.isEmpty { show("host veth", ["/bin/ip", "-o", "link", "show", "dev", a.hostVeth]) }
        // The rules that name this container (its id in a comment, its address), and
        // those of the per-container chains they jump to (CNI-..., CNI-DN-...).
        for table in ["nat", "filter"] {
            guard
                let (st, out, _) = try? Captured.run(
                    "/usr/sbin/iptables", args: ["iptables", "-w", "-t", table, "-S"],
                    env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]), st == 0
            else { continue }
            let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
            let mine = lines.filter {
                $0.hasPrefix("-A ")
                    && ($0.includes("\"\(a.id)\"") || $0.includes(a.address + "/") || $0.includes(a.address + ":"))
            }
            let chains = Set(
                mine.compactMap { l -> String? in
                    guard let r = l.find(" -j CNI-") else { return nil }
                    let chain = "CNI-" + l[r.upperBound...].prefix { $0 != " " }
                    return chain.hasPrefix("CNI-HOSTPORT") || chain == "CNI-FORWARD" || chain == "CNI-ADMIN"
                        ? nil : chain
                })
            for l in lines where mine.contains(l) || chains.contains(where: { l.hasPrefix("-A \($0) ") }) {
                Explain.note(table + " rule", l.replacingBackslashes)
            }
        }
    }

    // MARK: tear down

    /// Undo setUp from network.json: CNI DEL (rules, lease, veth), then the namespace's
    /// mount, then the peers' /etc/hosts. Every step tolerates what is already gone.
    static func tearDown(id: String, dir: String, store: StateStore) {
        let netns = dir + "/netns"
        if let bytes = readFile(attachmentPath(dir)), let j = try? JSON.parse(bytes),
            let a = NetworkAttachment(id: id, json: j)
        {
            let networks = NetworkStore(root: store.root)
            _ = try? networks.locked {
                let at = CNI.Attachment(containerID: id, netns: a.netns, ifname: ifname)
                do {
                    try CNI.runList(
                        .del, list: a.conflist, at, runtimeConfig: ["portMappings": .array(a.ports.map(\.json))],
                        cached: a.result)
                } catch { Log.warn("network \(a.network): \((error as? SkiffError)?.message ?? "\(error)")") }
                sweepMasquerade(network: a.network, id: id)
                _ = try? CNI.runList(
                    .del, list: loopbackList, CNI.Attachment(containerID: id, netns: a.netns, ifname: "lo"))
                unlink(attachmentPath(dir))
                try? rewriteHosts(network: a.network, store: store, leaving: id)
                // The last container on the bridge: the bridge goes too (it is made again by
                // the next container's ADD).
                if NetworkStore.bridgeIsUnused(a.bridge) { NetworkStore.deleteBridge(a.bridge) }
            }
        }
        if fileExists(netns) {
            Explain.step("remove netns", "umount \(netns)") {
                _ = sk_umount2(netns, SK_MNT_DETACH)
                unlink(netns)
            }
        }
    }

    /// The bridge plugin's DEL skips its MASQUERADE chain when the container's interface
    /// is already gone (someone deleted the veth, whose two ends die together): it finds
    /// the address to un-masquerade on that interface. What it would have removed is
    /// found here by its comment, `name: "NET" id: "ID"`, and removed the same way:
    /// the POSTROUTING jump, then the chain.
    static func sweepMasquerade(network: String, id: String) {
        let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        let ipt = "/usr/sbin/iptables"
        guard
            let (st, out, _) = try? Captured.run(
                ipt, args: ["iptables", "-w", "-t", "nat", "-L", "POSTROUTING", "-n", "--line-numbers"], env: env),
            st == 0
        else { return }
        let comment = "/* name: \"\(network)\" id: \"\(id)\" */"
        let rules = String(decoding: out, as: UTF8.self).split(separator: "\n").filter { $0.hasSuffix(comment) }
            .compactMap { line -> (Int, String)? in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count > 1, let n = Int(f[0]) else { return nil }
                return (n, String(f[1]))
            }
        for (n, chain) in rules.sorted(by: { $0.0 > $1.0 }) {
            Explain.note("leftover rule", "iptables -t nat -D POSTROUTING \(n) (\(chain), \(comment))")
            _ = try? Captured.run(ipt, args: ["iptables", "-w", "-t", "nat", "-D", "POSTROUTING", String(n)], env: env)
            if chain.hasPrefix("CNI-") {
                _ = try? Captured.run(ipt, args: ["iptables", "-w", "-t", "nat", "-F", chain], env: env)
                _ = try? Captured.run(ipt, args: ["iptables", "-w", "-t", "nat", "-X", chain], env: env)
            }
        }
    }

    /// CNI CHECK of a running container's attachment (for `skiff inspect`): nil when all
    /// is as ADD left it, else the plugin's complaint.
    public static func check(id: String, stateDir: String) -> String? {
        guard let bytes = readFile(attachmentPath(stateDir)), let j = try? JSON.parse(bytes),
            let a = NetworkAttachment(id: id, json: j)
        else { return nil }
        do {
            try CNI.runList(
                .check, list: a.conflist, CNI.Attachment(containerID: id, netns: a.netns, ifname: ifname),
                runtimeConfig: ["portMappings": .array(a.ports.map(\.json))], cached: a.result,
                // portmap 1.1.1 (Debian 12) also checks for an IPv6 DNAT chain it never
                // made for an IPv4-only container, and fails (containernetworking/plugins#819).
                skipping: ["portmap"])
            return nil
        } catch { return (error as? SkiffError)?.message ?? "\(error)" }
    }
}

extension String {
    /// iptables prints quotes in comments as \" : show them plain.
    var replacingBackslashes: String { String(filter { $0 != "\\" }) }
}

extension QuickRun {
    /// --network, -p, --dns and --add-host as annotations (read back by ContainerNetwork
    /// at create time). Checked here, so a typo fails before anything is made.
    static func networkAnnotations(_ o: QuickRunOptions, into spec: inout Spec) throws {
        let ports = try o.publish.map { try PortMapping($0) }
        if !ports.isEmpty && (o.network == "none" || o.network == "host") {
            throw SkiffError(
                "--publish \(o.publish[0]): needs a bridge network (--network \(o.network) has no ports of its own)")
        }
        for d in o.dns where !DNSFiles.isIPAddress(d) { throw SkiffError("--dns \(d): not an IP address") }
        let hosts = try o.addHosts.map { try DNSFiles.parseAddHost($0) }
        var ann = spec.annotations ?? [:]
        ann[NetworkAnnotation.network] = o.network
        if !ports.isEmpty { ann[NetworkAnnotation.ports] = ports.map(\.description).joined(separator: ",") }
        if !o.dns.isEmpty { ann[NetworkAnnotation.dns] = o.dns.joined(separator: ",") }
        if !hosts.isEmpty { ann[NetworkAnnotation.addHosts] = hosts.map { "\($0.0):\($0.1)" }.joined(separator: ",") }
        spec.annotations = ann
    }
}
