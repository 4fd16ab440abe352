// Issue 13: networks for quick-run (bridge + NAT, -p, user networks with names, DNS
// files), through the CNI plugins. These tests change the network of the machine they
// run on (bridges, iptables rules, a namespace playing "the outside"), so they run only
// in the throwaway VM (scripts/test-vm), and all their traffic stays between addresses
// they made: 127.0.0.1, the containers' bridges and that namespace.
import Foundation
import XCTest

final class NetworkTests: XCTestCase {
    /// The VM's stage 2 lives in /run/vm; anywhere else these tests skip (in the VM suite,
    /// SKIFF_REQUIRE_CGROUP2=1, a skip would be a failure).
    private func sandbox() throws -> Sandbox {
        guard FileManager.default.fileExists(atPath: "/run/vm/stage2") else {
            if ProcessInfo.processInfo.environment["SKIFF_REQUIRE_CGROUP2"] == "1" {
                XCTFail("network tests must run in the VM")
            }
            throw XCTSkip("network tests change the host's network: they run in the VM (scripts/test-vm)")
        }
        for m in [
            "bridge", "veth", "br_netfilter", "nf_nat", "xt_MASQUERADE", "xt_comment", "xt_mark", "xt_addrtype",
            "xt_conntrack", "xt_multiport",
        ] {
            runProgram("/sbin/modprobe", [m])
        }
        return try Sandbox()
    }

    /// ROOT/networks (definitions and the lease directories, checked empty by
    /// networkLeftovers) outlives containers by design; then the usual leak check.
    private func finish(_ s: Sandbox, file: StaticString = #filePath, line: UInt = #line) {
        try? FileManager.default.removeItem(atPath: s.stateRoot + "/networks")
        s.assertNothingLeftBehind(file: file, line: line)
    }

    private func quick(_ s: Sandbox, _ args: [String]) -> Result {
        s.skiff(["run", "--rootfs", Env.rootfs!] + args)
    }

    /// What is left of container `id` (address `ip`) in the kernel and the state root:
    /// rules naming it, veths, leases, its hosts entry in peers.
    private func networkLeftovers(_ s: Sandbox, id: String, ip: String?) -> [String] {
        var out: [String] = []
        let rules = runProgram("/usr/sbin/iptables-save", []).stdout.split(separator: "\n").filter { line in
            line.contains("\"\(id)\"") || (ip.map { line.contains($0 + "/") || line.contains($0 + ":") } ?? false)
        }
        out += rules.map { "rule: \($0)" }
        out += runProgram("/bin/ip", ["-o", "link", "show", "type", "veth"]).stdout.split(separator: "\n")
            .filter { !$0.contains(" skout") }.map { "veth: \($0)" } // (the test's own "outside" link)
        let ipam = s.stateRoot + "/networks/ipam"
        for net in (try? FileManager.default.contentsOfDirectory(atPath: ipam)) ?? [] {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: ipam + "/" + net)) ?? []
            where f.first?.isNumber == true {
                out.append("lease: \(net)/\(f)")
            }
        }
        return out
    }

    /// Connect to 127.0.0.1:port, send a line, read what comes back until the server closes.
    private func tcpExchange(port: UInt16, send: String = "hi\n") -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { return nil }
        _ = send.withCString { write(fd, $0, strlen($0)) }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Retry until the server in a detached container listens (its start is not a signal).
    private func exchange(port: UInt16) -> String? {
        for _ in 0..<50 {
            if let r = tcpExchange(port: port), !r.isEmpty { return r }
            usleep(200_000)
        }
        return nil
    }

    private func inspectNetwork(_ s: Sandbox, _ id: String) -> [String: Any]? {
        json(s.skiff(["inspect", "--format", "json", id]).stdout)?["network"] as? [String: Any]
    }

    // MARK: -p

    func testPublishedPortAnswersOnLoopback() throws {
        let s = try sandbox()
        // No --network: the default is the bridge, as with docker (the harness's
        // SKIFF_DEFAULT_NETWORK=none is emptied for this one).
        var env = ProcessInfo.processInfo.environment
        env["SKIFF_DEFAULT_NETWORK"] = "" // skiff's own default
        let r = runProgram(
            Env.skiff,
            [
                "--root", s.stateRoot, "--explain", "run", "--rootfs", Env.rootfs!, "-d", "--name", "web", "-p",
                "8080:80",
                "nc", "-lk", "-p", "80", "-e", "echo", "hello-web",
            ], env: env)
        XCTAssertEqual(r.code, 0, r.stderr)
        let net = try XCTUnwrap(inspectNetwork(s, "web"))
        let cidr = try XCTUnwrap(net["address"] as? String)
        let ip = String(cidr.split(separator: "/")[0])
        XCTAssertTrue(cidr.hasPrefix("10.88.") && cidr.hasSuffix("/16"), cidr)
        XCTAssertEqual(net["ports"] as? [String], ["8080:80/tcp"])
        XCTAssertEqual(net["bridge"] as? String, "skiff0")
        XCTAssertEqual(net["check"] as? String, "ok", "CNI CHECK of a running container")
        // --explain read the result back from the kernel: the veth on the bridge, the
        // address, the default route and the DNAT rule -p became.
        XCTAssertTrue(r.stderr.contains("CNI ADD           bridge"), r.stderr)
        XCTAssertTrue(r.stderr.contains("inet \(cidr)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("default via 10.88.0.1 dev eth0"), r.stderr)
        XCTAssertTrue(r.stderr.contains("master skiff0"), r.stderr)
        XCTAssertTrue(r.stderr.contains("-j DNAT --to-destination \(ip):80"), r.stderr)

        // A client on the host side, at 127.0.0.1 (portmap's snat: route_localnet + masquerade).
        XCTAssertEqual(exchange(port: 8080), "hello-web\n")
        // CHECK notices what is gone (the host end of the veth), and delete still cleans up.
        let veth = try XCTUnwrap(net["hostVeth"] as? String)
        XCTAssertTrue(veth.hasPrefix("veth"), veth)
        XCTAssertEqual(runProgram("/bin/ip", ["link", "delete", veth]).code, 0)
        let broken = inspectNetwork(s, "web")?["check"] as? String ?? "?"
        XCTAssertTrue(broken.hasPrefix("CNI CHECK bridge:"), broken)
        XCTAssertEqual(s.skiff(["delete", "--force", "web"]).code, 0)
        XCTAssertEqual(networkLeftovers(s, id: "web", ip: ip), [])
        XCTAssertNil(tcpExchange(port: 8080), "the port must be closed once the container is gone")
        finish(s)
    }

    // MARK: user networks

    func testUserNetworkResolvesNamesAndTearsDown() throws {
        let s = try sandbox()
        XCTAssertEqual(s.skiff(["network", "create", "labnet"]).out, "labnet")
        XCTAssertEqual(
            s.skiff([
                "run", "--rootfs", Env.rootfs!, "-d", "--name", "web", "--network", "labnet",
                "nc", "-lk", "-p", "80", "-e", "echo", "from-web",
            ]).code, 0)
        let webIP = try XCTUnwrap(
            (inspectNetwork(s, "web")?["address"] as? String)?.split(separator: "/").first.map(String.init))
        XCTAssertTrue(webIP.hasPrefix("10.89."), webIP)
        // A peer by name: ping, then a TCP exchange with the server.
        let client = quick(
            s,
            [
                "--rm", "--name", "client", "--network", "labnet", "sh", "-c",
                "ping -c1 -W5 web >/dev/null && echo ping-ok; for i in 1 2 3 4 5 6 7 8 9 10; do r=$(echo | nc -w "
                    + "5 web 80) && [ -n \"$r\" ] && break; sleep 0.5; done; echo $r; grep -w web /etc/hosts | cut -f1",
            ])
        XCTAssertEqual(client.code, 0, client.stderr)
        XCTAssertEqual(client.out, "ping-ok\nfrom-web\n\(webIP)")

        // The server's /etc/hosts follows its peers: in while one runs, out once it is gone.
        XCTAssertEqual(
            s.skiff(["run", "--rootfs", Env.rootfs!, "-d", "--name", "client2", "--network", "labnet", "sleep", "60"])
                .code, 0)
        XCTAssertTrue(s.skiff(["exec", "web", "cat", "/etc/hosts"]).stdout.contains("client2"))
        XCTAssertEqual(s.skiff(["exec", "client2", "ping", "-c1", "-W5", "web"]).code, 0)
        let inUse = s.skiff(["network", "rm", "labnet"])
        XCTAssertEqual(inUse.err, "skiff: network \"labnet\" is in use by client2, web")
        XCTAssertEqual(s.skiff(["delete", "--force", "client2"]).code, 0)
        XCTAssertFalse(s.skiff(["exec", "web", "cat", "/etc/hosts"]).stdout.contains("client2"))

        // The network's own view, then its removal with the bridge.
        let info = try XCTUnwrap(json(s.skiff(["network", "inspect", "labnet"]).stdout))
        XCTAssertEqual(info["bridge"] as? String, "sk-labnet")
        XCTAssertEqual((info["containers"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["web"])
        XCTAssertTrue(s.skiff(["network", "ls"]).stdout.contains("labnet        sk-labnet 10.89.0.0/24      no"))
        XCTAssertEqual(s.skiff(["delete", "--force", "web"]).code, 0)
        XCTAssertEqual(s.skiff(["network", "rm", "labnet"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/class/net/sk-labnet"))
        XCTAssertEqual(networkLeftovers(s, id: "web", ip: webIP), [])
        XCTAssertEqual(
            s.skiff(["network", "inspect", "labnet"]).err,
            "skiff: network \"labnet\" not found (create it with: skiff network create labnet)")
        finish(s)
    }

    // MARK: outbound NAT, --internal

    /// A namespace the test makes plays "the outside": 198.51.100.2 behind a veth from the
    /// host (198.51.100.1), with no route back to the containers' subnets, so only
    /// masqueraded traffic gets an answer.
    func testBridgeReachesOutsideThroughNATAndInternalCannot() throws {
        let s = try sandbox()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        server.arguments = [
            "--net", "--", "/usr/sbin/chroot", Env.rootfs!, "nc", "-lk", "-p", "80", "-e", "echo", "outside-ok",
        ]
        server.standardInput = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
            runProgram("/bin/ip", ["link", "delete", "skout0"])
        }
        usleep(300_000)
        let pid = String(server.processIdentifier)
        for args in [
            ["link", "add", "skout0", "type", "veth", "peer", "name", "skout1"],
            ["link", "set", "skout1", "netns", pid],
            ["addr", "add", "198.51.100.1/24", "dev", "skout0"], ["link", "set", "skout0", "up"],
        ] {
            let r = runProgram("/bin/ip", args)
            XCTAssertEqual(r.code, 0, "ip \(args): \(r.stderr)")
        }
        for args in [
            ["addr", "add", "198.51.100.2/24", "dev", "skout1"], ["link", "set", "skout1", "up"],
            ["link", "set", "lo", "up"],
        ] {
            let r = runProgram("/usr/bin/nsenter", ["--net=/proc/\(pid)/ns/net", "/bin/ip"] + args)
            XCTAssertEqual(r.code, 0, "ip \(args) in the outside namespace: \(r.stderr)")
        }
        let fetch =
            "for i in 1 2 3 4 5 6; do r=$(echo | nc -w 3 198.51.100.2 80) && [ -n \"$r\" ] && break; sleep 0.5; "
            + "done; echo ${r:-unreachable}; ip route | grep -c ^default"
        let out = quick(s, ["--rm", "--name", "natted", "--network", "bridge", "sh", "-c", fetch])
        XCTAssertEqual(out.code, 0, out.stderr)
        XCTAssertEqual(out.out, "outside-ok\n1")

        XCTAssertEqual(s.skiff(["network", "create", "--internal", "intnet"]).code, 0)
        let inside = quick(
            s,
            [
                "--rm", "--name", "walled", "--network", "intnet", "sh", "-c",
                "echo | nc -w 3 198.51.100.2 80 || echo unreachable; ip route | grep -c ^default",
            ])
        XCTAssertEqual(inside.out, "unreachable\n0", inside.stderr)
        XCTAssertEqual(
            quick(s, ["--rm", "--network", "intnet", "-p", "8082:80", "true"]).err,
            "skiff: --publish: network \"intnet\" is --internal: nothing from outside may reach it")
        XCTAssertEqual(s.skiff(["network", "rm", "intnet"]).code, 0)
        XCTAssertEqual(networkLeftovers(s, id: "natted", ip: nil), [])
        server.terminate() // the test's own "outside" server: not a leak of skiff's
        server.waitUntilExit()
        finish(s)
    }

    // MARK: none, host, DNS files

    func testNoneHasOnlyLoopbackAndDNSFilesAreGenerated() throws {
        let s = try sandbox()
        let none = quick(
            s,
            [
                "--rm", "--network", "none", "--name", "alone", "--dns", "192.0.2.53", "--add-host", "db:192.0.2.7",
                "sh", "-c",
                "ls /sys/class/net; grep nameserver /etc/resolv.conf; grep -v '^#' /etc/hosts; cat /etc/hostname; "
                    + "echo x 2>/dev/null > /etc/hosts || echo hosts-ro",
            ])
        XCTAssertEqual(none.code, 0, none.stderr)
        XCTAssertEqual(
            none.out,
            "lo\nnameserver 192.0.2.53\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                + "ip6-loopback\n192.0.2.7\tdb\nalone\nhosts-ro"
        )

        // systemd-resolved's stub is the container's own loopback in a netns of its own:
        // its upstream servers replace it; with --network host the stub itself is right.
        // (The VM's /etc is a throwaway overlay.)
        let saved = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)
        defer { try? saved?.write(toFile: "/etc/resolv.conf", atomically: false, encoding: .utf8) }
        try? FileManager.default.removeItem(atPath: "/etc/resolv.conf") // may be a symlink
        try "nameserver 127.0.0.53\nsearch lab.example\n".write(
            toFile: "/etc/resolv.conf", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "/run/systemd/resolve", withIntermediateDirectories: true)
        try "nameserver 192.0.2.10\nnameserver 192.0.2.11\n".write(
            toFile: "/run/systemd/resolve/resolv.conf", atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: "/run/systemd") }
        XCTAssertEqual(
            quick(s, ["--rm", "--network", "none", "sh", "-c", "grep -v '^#' /etc/resolv.conf"]).out,
            "nameserver 192.0.2.10\nnameserver 192.0.2.11\nsearch lab.example")
        XCTAssertEqual(
            quick(s, ["--rm", "--network", "host", "sh", "-c", "grep -v '^#' /etc/resolv.conf"]).out,
            "nameserver 127.0.0.53\nsearch lab.example")
        finish(s)
    }

    // MARK: bad input, crashes

    func testBadInputGetsOneLineAndLeavesNothing() throws {
        let s = try sandbox()
        // A host socket on the port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(8081).bigEndian
        addr.sin_addr.s_addr = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 1), 0)
        let cases: [([String], String)] = [
            (
                ["--name", "bad1", "--network", "bridge", "-p", "8081:80", "true"],
                "skiff: --publish 8081:80/tcp: host port 8081/tcp is already in use"
            ),
            (
                ["--name", "bad2", "--network", "nosuch", "true"],
                "skiff: network \"nosuch\" not found (create it with: skiff network create nosuch)"
            ),
            (
                ["--name", "bad3", "--network", "host", "-p", "8083:80", "true"],
                "skiff: --publish 8083:80: needs a bridge network (--network host has no ports of its own)"
            ),
            (
                ["--name", "bad4", "--network", "none", "-p", "8083:80", "true"],
                "skiff: --publish 8083:80: needs a bridge network (--network none has no ports of its own)"
            ),
            (
                ["--name", "bad5", "--network", "bridge", "-p", "80", "true"],
                "skiff: --publish 80: expected [IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]"
            ),
            (
                ["--name", "bad6", "--network", "bridge", "--dns", "nameserver", "true"],
                "skiff: --dns nameserver: not an IP address"
            ),
            // A create that fails after the network was made (a file bound over a directory).
            (["--name", "bad7", "--network", "bridge", "-p", "8084:80", "-v", "/etc/hostname:/etc", "true"], ""),
        ]
        for (args, message) in cases {
            let r = quick(s, ["--rm"] + args)
            XCTAssertNotEqual(r.code, 0, "\(args)")
            if !message.isEmpty {
                XCTAssertEqual(r.err, message, "\(args)")
            } else {
                XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.stderr)
            }
            XCTAssertEqual(networkLeftovers(s, id: args[1], ip: nil), [], "\(args)")
            XCTAssertEqual(s.stateEntries.filter { $0 != "networks" }, [], "\(args)")
        }
        // A subnet that overlaps the default network's: refused, nothing written.
        XCTAssertEqual(
            s.skiff(["network", "create", "--subnet", "10.88.1.0/24", "clash"]).err,
            "skiff: --subnet 10.88.1.0/24: overlaps network \"bridge\" (10.88.0.0/16)")
        XCTAssertEqual(
            s.skiff(["network", "create", "host"]).err,
            "skiff: network name \"host\": reserved (--network host is built in)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.stateRoot + "/networks/clash.conflist"))
        // Two containers may not publish the same host port.
        XCTAssertEqual(
            s.skiff([
                "run", "--rootfs", Env.rootfs!, "-d", "--name", "first", "--network", "bridge", "-p", "8085:80",
                "sleep", "60",
            ]).code, 0)
        XCTAssertEqual(
            quick(s, ["--rm", "--name", "second", "--network", "bridge", "-p", "8085:80", "true"]).err,
            "skiff: --publish 8085:80/tcp: host port 8085/tcp is already published by container \"first\"")
        // The container dies (SIGKILL: nothing of skiff runs then); delete still undoes
        // the network from network.json and the namespace that outlives it.
        let ip = (inspectNetwork(s, "first")?["address"] as? String)?.split(separator: "/").first.map(String.init)
        let pid = try XCTUnwrap(json(s.skiff(["state", "first"]).stdout)?["pid"] as? Int)
        kill(Int32(pid), SIGKILL)
        XCTAssertEqual(s.skiff(["delete", "--force", "first"]).code, 0)
        XCTAssertEqual(networkLeftovers(s, id: "first", ip: ip), [])
        finish(s)
    }
}

/// The parts of networking that touch no network: flags become annotations, and network
/// definitions are files (these run on the host too).
final class NetworkConfigTests: XCTestCase {
    func testFlagsBecomeAnnotations() throws {
        let s = try Sandbox()
        let b = s.dir.appendingPathComponent("b").path
        try FileManager.default.createDirectory(atPath: b, withIntermediateDirectories: true)
        let r = s.skiff([
            "spec", "--bundle", b, "--rootfs", Env.rootfs!, "--network", "labnet", "-p", "127.0.0.1:8080:80/udp", "-p",
            "9000:90",
            "--dns", "192.0.2.1", "--add-host", "db:192.0.2.7", "sh",
        ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let config = try XCTUnwrap(json(try String(contentsOfFile: b + "/config.json", encoding: .utf8)))
        let ann = try XCTUnwrap(config["annotations"] as? [String: String])
        XCTAssertEqual(ann["run.skiff.network"], "labnet")
        XCTAssertEqual(ann["run.skiff.ports"], "127.0.0.1:8080:80/udp,9000:90/tcp")
        XCTAssertEqual(ann["run.skiff.dns"], "192.0.2.1")
        XCTAssertEqual(ann["run.skiff.add-hosts"], "db:192.0.2.7")
        let bad: [([String], String)] = [
            (["-p", "70000:80"], "skiff: --publish 70000:80: expected [IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]"),
            (
                ["-p", "8080:80/sctp"],
                "skiff: --publish 8080:80/sctp: expected [IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]"
            ),
            (["-p", "localhost:8080:80"], "skiff: --publish localhost:8080:80: localhost is not an IPv4 address"),
            (["--add-host", "db"], "skiff: --add-host db: expected NAME:IP"),
            (
                ["--add-host", "db:999.1.1.1"],
                "skiff: --add-host db:999.1.1.1: expected NAME:IP with an IPv4 or IPv6 address"
            ),
            (
                ["--network", "a-very-long-network-name"],
                "skiff: --network a-very-long-network-name: use 1 to 12 letters, digits, '_', '.' or '-' (its "
                    + "bridge is sk-NAME, and Linux allows 15 characters)"
            ),
        ]
        try FileManager.default.removeItem(atPath: b + "/config.json")
        for (args, message) in bad {
            XCTAssertEqual(s.skiff(["spec", "--bundle", b, "--rootfs", Env.rootfs!] + args + ["sh"]).err, message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: b + "/config.json"))
        }
        s.assertNothingLeftBehind()
    }

    func testNetworkDefinitions() throws {
        let s = try Sandbox()
        XCTAssertEqual(s.skiff(["network", "create", "alpha"]).out, "alpha")
        XCTAssertEqual(s.skiff(["network", "create", "beta"]).out, "beta")
        XCTAssertEqual(
            s.skiff(["network", "create", "--internal", "--subnet", "10.90.0.0/24", "walled"]).out, "walled")
        XCTAssertEqual(s.skiff(["network", "create", "alpha"]).err, "skiff: network \"alpha\" already exists")
        XCTAssertEqual(
            s.skiff(["network", "create", "--subnet", "10.90.0.128/25", "clash"]).err,
            "skiff: --subnet 10.90.0.128/25: overlaps network \"walled\" (10.90.0.0/24)")
        XCTAssertEqual(
            s.skiff(["network", "create", "--subnet", "10.90.0.0", "x"]).err,
            "skiff: --subnet 10.90.0.0: expected an IPv4 prefix such as 10.90.0.0/24 (length 8 to 29)")
        let ls = s.skiff(["network", "ls"]).stdout.split(separator: "\n").map {
            $0.split(separator: " ").joined(separator: " ")
        }
        XCTAssertEqual(ls.first, "NAME BRIDGE SUBNET INTERNAL")
        XCTAssertEqual(
            Set(ls.dropFirst()),
            [
                "alpha sk-alpha 10.89.0.0/24 no", "beta sk-beta 10.89.1.0/24 no",
                "bridge skiff0 10.88.0.0/16 no", "walled sk-walled 10.90.0.0/24 yes",
            ])
        // The CNI config list on disk: what the plugins get on stdin.
        let list = try XCTUnwrap(
            json(try String(contentsOfFile: s.stateRoot + "/networks/walled.conflist", encoding: .utf8)))
        let plugins = try XCTUnwrap(list["plugins"] as? [[String: Any]])
        XCTAssertEqual(
            plugins.compactMap { $0["type"] as? String }, ["bridge"], "an internal network has no portmap or firewall")
        XCTAssertEqual(plugins[0]["ipMasq"] as? Bool, false)
        XCTAssertEqual(((plugins[0]["ipam"] as? [String: Any])?["routes"] as? [Any])?.count, 0, "no default route")
        let alpha = try XCTUnwrap(
            json(try String(contentsOfFile: s.stateRoot + "/networks/alpha.conflist", encoding: .utf8)))
        XCTAssertEqual(
            (alpha["plugins"] as? [[String: Any]])?.compactMap { $0["type"] as? String },
            ["bridge", "portmap", "firewall"])
        XCTAssertEqual(alpha["cniVersion"] as? String, "1.0.0")
        let info = try XCTUnwrap(json(s.skiff(["network", "inspect", "beta"]).stdout))
        XCTAssertEqual(info["gateway"] as? String, "10.89.1.1")
        XCTAssertEqual((info["containers"] as? [Any])?.count, 0)
        for n in ["alpha", "beta", "walled"] { XCTAssertEqual(s.skiff(["network", "rm", n]).code, 0) }
        XCTAssertEqual(
            s.skiff(["network", "rm", "alpha"]).err,
            "skiff: network \"alpha\" not found (create it with: skiff network create alpha)")
        try? FileManager.default.removeItem(atPath: s.stateRoot + "/networks")
        s.assertNothingLeftBehind()
    }
}
