// Skiff as a CNI "runtime": it calls the standard network plugins (Debian's
// containernetworking-plugins, in /usr/lib/cni) exactly as containerd, nerdctl or the
// kubelet do. Why CNI and not netavark: CNI is the interface every engine shares, each
// plugin is a small program with one job (bridge: veth + bridge + address; host-local:
// the address lease; portmap: DNAT for -p; firewall: FORWARD accepts; loopback: lo up),
// so a student can run them by hand with the same environment and stdin, and read what
// each one did to the kernel. netavark does all of it in one binary with its own format.
//
// The protocol (CNI spec 1.0.0): execute /usr/lib/cni/TYPE with
//   CNI_COMMAND=ADD|DEL|CHECK  CNI_CONTAINERID=ID  CNI_NETNS=/path/to/netns
//   CNI_IFNAME=eth0  CNI_PATH=/usr/lib/cni
// and the plugin's network config on stdin. ADD prints a result (interfaces, ips, routes)
// on stdout; a failure prints {"code", "msg", "details"} and exits non-zero. A network
// config *list* runs its plugins in order for ADD and CHECK (each gets the previous one's
// result as "prevResult") and in reverse for DEL (each gets the cached ADD result).
import CShim
import Glibc
import SkiffSpec

enum CNI {
    static let version = "1.0.0"
    /// Where Debian's containernetworking-plugins puts the plugins.
    static var pluginDir: String {
        getenv("SKIFF_CNI_PATH").map { String(cString: $0) } ?? "/usr/lib/cni"
    }

    enum Command: String {
        case add = "ADD"
        case del = "DEL"
        case check = "CHECK"
    }

    /// Where to attach: the container, its network namespace and the interface name.
    struct Attachment {
        let containerID: String
        let netns: String
        let ifname: String
    }

    /// Run every plugin of a network config list. ADD returns the last plugin's result;
    /// DEL and CHECK get `cached` (the ADD result) as prevResult. `runtimeConfig` fills
    /// the capabilities a plugin declares (portMappings for portmap).
    @discardableResult
    static func runList(
        _ command: Command, list: JSON, _ at: Attachment, runtimeConfig: [String: JSON] = [:],
        cached: JSON? = nil, skipping: Set<String> = []
    ) throws -> JSON? {
        guard let name = list["name"]?.stringValue, let plugins = list["plugins"]?.arrayValue else {
            throw SkiffError("CNI network config: needs \"name\" and \"plugins\"")
        }
        let cniVersion = list["cniVersion"]?.stringValue ?? version
        var prev: JSON? = command == .add ? nil : cached
        let order = command == .del ? Array(plugins.reversed()) : plugins
        var firstError: SkiffError?
        for plugin in order where !skipping.contains(plugin["type"]?.stringValue ?? "") {
            var conf = plugin.objectValue ?? []
            conf.removeAll {
                $0.key == "name" || $0.key == "cniVersion" || $0.key == "prevResult" || $0.key == "runtimeConfig"
            }
            conf.insert(("cniVersion", .string(cniVersion)), at: 0)
            conf.insert(("name", .string(name)), at: 1)
            // Only the capabilities this plugin asks for, as libcni does.
            let caps = plugin["capabilities"]?.objectValue?.filter { $0.value.boolValue == true }.map(\.key) ?? []
            let rc = runtimeConfig.filter { caps.contains($0.key) }.sorted { $0.key < $1.key }.map {
                (key: $0.key, value: $0.value)
            }
            if !rc.isEmpty { conf.append(("runtimeConfig", .object(rc))) }
            if let prev, !prev.isNull { conf.append(("prevResult", prev)) }
            do {
                let out = try exec(command, type: plugin["type"]?.stringValue ?? "", config: .object(conf), at)
                if command == .add { prev = out }
            } catch let e as SkiffError {
                // DEL goes on through the whole list: each plugin removes what it made.
                if command != .del { throw e }
                if firstError == nil { firstError = e }
            }
        }
        if let firstError { throw firstError }
        return command == .add ? prev : nil
    }

    /// Execute one plugin; its parsed stdout (nil when empty, as for DEL).
    static func exec(_ command: Command, type: String, config: JSON, _ at: Attachment) throws -> JSON? {
        guard !type.isEmpty, !type.contains("/") else {
            throw SkiffError("CNI plugin type \"\(type)\": not a plugin name")
        }
        let path = pluginDir + "/" + type
        guard access(path, X_OK) == 0 else {
            throw SkiffError("CNI plugin \(path): \(errnoText()) (install Debian's containernetworking-plugins)")
        }
        let env = [
            "CNI_COMMAND=\(command.rawValue)", "CNI_CONTAINERID=\(at.containerID)", "CNI_NETNS=\(at.netns)",
            "CNI_IFNAME=\(at.ifname)", "CNI_PATH=\(pluginDir)",
            // The plugins run iptables and ip: give them the usual PATH.
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let stdin = config.serialized()
        let start = monotonicNanos()
        let (status, out, err) = try Captured.run(path, args: [type], env: env, stdin: stdin, timeout: 60)
        let ms = Explain.formatMillis(Double(monotonicNanos() - start) / 1e6)
        Explain.note(
            "CNI \(command.rawValue)",
            "\(type) (ifname \(at.ifname), netns \(at.netns)) \(status == 0 ? "ok" : "failed") (\(ms) ms)")
        let text = String(decoding: out, as: UTF8.self)
        if status != 0 {
            // The spec's error object; fall back to stderr for a plugin that crashed.
            let parsed = try? JSON.parse(out)
            var msg = parsed?["msg"]?.stringValue ?? ""
            if let details = parsed?["details"]?.stringValue, !details.isEmpty { msg += ": " + details }
            if msg.isEmpty {
                msg =
                    String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init)
                    ?? "exit status \(status)"
            }
            throw SkiffError("CNI \(command.rawValue) \(type): \(msg)")
        }
        if text.allSatisfy({ $0 == " " || $0 == "\n" }) { return nil }
        do { return try JSON.parse(out) } catch {
            throw SkiffError("CNI \(command.rawValue) \(type): unreadable result: \(error)")
        }
    }
}
