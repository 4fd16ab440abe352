// Named networks (`skiff network create|ls|rm|inspect`): each one is a CNI network
// config list in ROOT/networks/NAME.conflist, a file a student can read and feed to the
// plugins by hand. "bridge" is the default one (bridge skiff0, 10.88.0.0/16, like
// docker0 and podman's cni-podman0), written on first use; user networks get
// bridge sk-NAME and a /24 of 10.89.0.0/16 unless --subnet says otherwise. An
// --internal network has no gateway address, no default route and no NAT: its
// containers reach each other and nothing else.
import Glibc
import SkiffSpec

/// An IPv4 prefix such as 10.88.0.0/16.
public struct IPv4Subnet: Equatable, CustomStringConvertible {
    public let address: UInt32 // host byte order, host bits cleared
    public let prefix: Int
    var mask: UInt32 { prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix) }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let p = Int(parts[1]), (0...32).contains(p),
            let a = IPv4Subnet.parseAddress(String(parts[0]))
        else { return nil }
        prefix = p
        address = a & (p == 0 ? 0 : ~UInt32(0) << (32 - p))
    }
    init(address: UInt32, prefix: Int) {
        self.prefix = prefix
        self.address = address & (prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix))
    }

    static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard let n = UInt32(o), n < 256, String(n) == o else { return nil }
            v = v << 8 | n
        }
        return v
    }
    static func format(_ a: UInt32) -> String { "\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)" }

    public var description: String { "\(IPv4Subnet.format(address))/\(prefix)" }
    /// The first usable address: the bridge's (the containers' gateway).
    var gateway: String { IPv4Subnet.format(address + 1) }
    func overlaps(_ o: IPv4Subnet) -> Bool {
        let m = prefix < o.prefix ? mask : o.mask
        return address & m == o.address & m
    }
}

public struct NetworkDefinition {
    public let name: String
    public let subnet: IPv4Subnet
    public let bridge: String
    public let isInternal: Bool

    /// The CNI config list (see CNI.swift). `dataDir` keeps host-local's leases under
    /// the state root, so two roots never hand out each other's addresses.
    func conflist(ipamDir: String) -> JSON {
        var ipam: [(key: String, value: JSON)] = [
            ("type", "host-local"),
            ("ranges", .array([.array([.object([("subnet", .string(subnet.description))])])])),
            ("dataDir", .string(ipamDir)),
        ]
        // The default route through the bridge; an internal network has none.
        ipam.append(("routes", isInternal ? .array([]) : .array([.object([("dst", "0.0.0.0/0")])])))
        var plugins: [JSON] = [
            .object([
                ("type", "bridge"), ("bridge", .string(bridge)),
                // isGateway: the bridge gets the .1 address and the kernel forwards (ip_forward=1).
                ("isGateway", .bool(!isInternal)),
                // ipMasq: a MASQUERADE rule for traffic leaving the subnet (outbound NAT).
                ("ipMasq", .bool(!isInternal)),
                // hairpinMode: a container can reach itself through its own published port.
                ("hairpinMode", true),
                ("ipam", .object(ipam)),
            ])
        ]
        if !isInternal {
            // portmap: -p HOST:CTR as DNAT rules; snat makes 127.0.0.1 work (route_localnet + masquerade).
            plugins.append(
                .object([("type", "portmap"), ("capabilities", .object([("portMappings", true)])), ("snat", true)]))
            // firewall: accept the container's forwarded traffic even where FORWARD's policy is DROP.
            plugins.append(.object([("type", "firewall"), ("backend", "iptables")]))
        }
        return .object([
            ("cniVersion", .string(CNI.version)), ("name", .string(name)),
            (
                "skiff",
                .object([
                    ("subnet", .string(subnet.description)), ("bridge", .string(bridge)),
                    ("internal", .bool(isInternal)),
                ])
            ),
            ("plugins", .array(plugins)),
        ])
    }
}

public struct NetworkStore {
    public static let defaultName = "bridge"
    static let defaultSubnet = IPv4Subnet("10.88.0.0/16")!
    static let defaultBridge = "skiff0"

    public let root: String
    public init(root: String) { self.root = root }

    var directory: String { root + "/networks" }
    var ipamDir: String { directory + "/ipam" }
    func path(_ name: String) -> String { directory + "/" + name + ".conflist" }

    /// Hold the networks lock while `body` runs (create/rm/attach/detach): flock on a file.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try mkdirAll(directory, mode: 0o700)
        let fd = try sys("open \(directory)/.lock") { open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(directory)/.lock") { flock(fd, LOCK_EX) }
        return try body()
    }

    static func validate(name: String, flag: String? = nil) throws {
        let what = flag.map { "\($0) \(name)" } ?? "network name \"\(name)\""
        let ok =
            !name.isEmpty && name.utf8.count <= 12 && name.unicodeScalars.first.map { CharacterClass.alnum($0) } == true
            && name.unicodeScalars.allSatisfy { CharacterClass.alnum($0) || "_.-".unicodeScalars.contains($0) }
        guard ok else {
            throw SkiffError(
                "\(what): use 1 to 12 letters, digits, '_', '.' or '-' (its bridge is sk-NAME, and Linux allows "
                    + "15 characters)"
            )
        }
        guard name != "host" && name != "none" else {
            throw SkiffError("\(what): reserved (--network \(name) is built in)")
        }
    }

    /// `--network NAME` names a network that can be used: a valid name that exists.
    public func requireUsable(_ name: String) throws {
        try NetworkStore.validate(name: name, flag: "--network")
        _ = try load(name)
    }

    public func load(_ name: String) throws -> NetworkDefinition {
        guard let bytes = readFile(path(name)) else {
            if name == NetworkStore.defaultName {
                return NetworkDefinition(
                    name: name, subnet: NetworkStore.defaultSubnet, bridge: NetworkStore.defaultBridge,
                    isInternal: false)
            }
            throw SkiffError("network \"\(name)\" not found (create it with: skiff network create \(name))")
        }
        let list = try JSON.parse(bytes)
        guard let s = list["skiff"], let subnet = s["subnet"]?.stringValue.flatMap(IPv4Subnet.init),
            let bridge = s["bridge"]?.stringValue
        else {
            throw SkiffError("\(path(name)): not a network skiff made")
        }
        return NetworkDefinition(
            name: name, subnet: subnet, bridge: bridge, isInternal: s["internal"]?.boolValue ?? false)
    }

    /// Every network written so far, plus the default one.
    public func all() -> [NetworkDefinition] {
        var names = listDirectory(directory).filter { $0.hasSuffix(".conflist") }.map { String($0.dropLast(9)) }
        if !names.contains(NetworkStore.defaultName) { names.append(NetworkStore.defaultName) }
        return names.sorted().compactMap { try? load($0) }
    }

    /// The config list of a network, written on first use for the default one.
    func conflist(_ def: NetworkDefinition) throws -> JSON {
        let list = def.conflist(ipamDir: ipamDir)
        if !fileExists(path(def.name)) {
            try mkdirAll(directory, mode: 0o700)
            try writeFileAtomic(path(def.name), list.serialized(indent: "  ") + "\n")
        }
        return list
    }

    @discardableResult
    public func create(name: String, subnet: String?, isInternal: Bool) throws -> NetworkDefinition {
        try NetworkStore.validate(name: name)
        return try locked {
            guard !fileExists(path(name)) && name != NetworkStore.defaultName else {
                throw SkiffError("network \"\(name)\" already exists")
            }
            let others = all()
            var chosen: IPv4Subnet
            if let text = subnet {
                guard let s = IPv4Subnet(text), s.prefix >= 8, s.prefix <= 29 else {
                    throw SkiffError("--subnet \(text): expected an IPv4 prefix such as 10.90.0.0/24 (length 8 to 29)")
                }
                chosen = s
                if let o = others.first(where: { $0.subnet.overlaps(s) }) {
                    throw SkiffError("--subnet \(s): overlaps network \"\(o.name)\" (\(o.subnet))")
                }
                if let r = NetworkStore.hostRoutes().first(where: {
                    $0.0.overlaps(s) && !others.map(\.bridge).contains($0.1)
                }) {
                    throw SkiffError("--subnet \(s): overlaps the host's route to \(r.0) on \(r.1)")
                }
            } else {
                // The first free /24 of 10.89.0.0/16.
                let routes = NetworkStore.hostRoutes().filter { r in !others.map(\.bridge).contains(r.1) }.map(\.0)
                let base = IPv4Subnet("10.89.0.0/24")!.address
                guard
                    let free = (0..<256).map({ IPv4Subnet(address: base + UInt32($0) << 8, prefix: 24) }).first(where: {
                        c in
                        !others.contains { $0.subnet.overlaps(c) } && !routes.contains { $0.overlaps(c) }
                    })
                else { throw SkiffError("no free /24 left in 10.89.0.0/16: give --subnet") }
                chosen = free
            }
            let def = NetworkDefinition(name: name, subnet: chosen, bridge: "sk-" + name, isInternal: isInternal)
            try mkdirAll(directory, mode: 0o700)
            try writeFileAtomic(path(name), def.conflist(ipamDir: ipamDir).serialized(indent: "  ") + "\n")
            return def
        }
    }

    /// Remove a network nobody uses: its config, its leases and its bridge.
    public func remove(name: String, containers: StateStore) throws {
        try locked {
            let def = try load(name)
            let users = ContainerNetwork.members(of: name, store: containers).map(\.id)
            guard users.isEmpty else {
                throw SkiffError("network \"\(name)\" is in use by \(users.joined(separator: ", "))")
            }
            unlink(path(name))
            removeAll(ipamDir + "/" + name)
            NetworkStore.deleteBridge(def.bridge)
        }
    }

    /// Delete a network's bridge if it exists. No CNI plugin deletes a bridge (they
    /// outlive containers): iproute2 does. Called with the lock held: by `remove`, and by a
    /// container's teardown when it was the bridge's last port, as netavark does, so that
    /// no skiff bridge stays on the host once no container uses it.
    static func deleteBridge(_ bridge: String) {
        guard !bridge.isEmpty, isDirectory("/sys/class/net/\(bridge)") else { return }
        let result = try? Captured.run("/sbin/ip", args: ["ip", "link", "delete", bridge, "type", "bridge"], env: [])
        let said = result.map { $0.0 == 0 ? "ok" : String(decoding: $0.2, as: UTF8.self) } ?? "cannot run /sbin/ip"
        Explain.note("remove bridge", "ip link delete \(bridge) = \(said)")
    }

    /// Does the bridge have no port left (no veth of any container)?
    static func bridgeIsUnused(_ bridge: String) -> Bool {
        isDirectory("/sys/class/net/\(bridge)/brif") && listDirectory("/sys/class/net/\(bridge)/brif").isEmpty
    }

    /// The host's IPv4 routes (other than the default route) with their device, from
    /// /proc/net/route: a subnet that overlaps one would hide it.
    static func hostRoutes() -> [(IPv4Subnet, String)] {
        let lines = (readText("/proc/net/route") ?? "").split(separator: "\n").dropFirst()
        return lines.compactMap { line in
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count >= 8, let dst = UInt32(f[1], radix: 16), let mask = UInt32(f[7], radix: 16), mask != 0 else {
                return nil
            }
            // The file holds network byte order, printed as a little-endian number.
            let prefix = mask.nonzeroBitCount
            return (IPv4Subnet(address: dst.byteSwapped, prefix: prefix), String(f[0]))
        }
    }
}

enum CharacterClass {
    static func alnum(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
    }
}

extension NetworkStore {
    /// `skiff network inspect NAME`: the definition, the bridge as the kernel has it, and
    /// the containers on it with their addresses.
    public func inspect(_ name: String, containers: StateStore) throws -> JSON {
        let def = try load(name)
        let members = ContainerNetwork.members(of: name, store: containers)
        return .object([
            ("name", .string(def.name)), ("subnet", .string(def.subnet.description)),
            ("gateway", def.isInternal ? .null : .string(def.subnet.gateway)), ("bridge", .string(def.bridge)),
            ("bridgeExists", .bool(isDirectory("/sys/class/net/\(def.bridge)"))),
            ("internal", .bool(def.isInternal)), ("config", .string(path(name))),
            (
                "containers",
                .array(
                    members.map { m in
                        .object([
                            ("id", .string(m.id)), ("address", .string("\(m.address)/\(m.prefix)")),
                            ("names", .array(m.names.map { .string($0) })),
                            ("ports", .array(m.ports.map { .string($0.description) })),
                        ])
                    })
            ),
        ])
    }
}
