// `skiff run --rootfs` flags -> an OCI spec (Sources/SkiffRuntime/QuickRun/QuickRun.swift), with
// Docker's defaults. Pure apart from reading the image's /etc/passwd (a temp directory here).
import Glibc
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class QuickRunSpecTests: XCTestCase {
    var rootfs = ""

    override func setUpWithError() throws {
        var template = Array("\(temporaryDirectoryPath())/skiff-unit-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        rootfs = String(cString: dir)
        mkdir(rootfs + "/etc", 0o755)
        let passwd = "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102:nginx:/var/lib/nginx:/sbin/nologin\n"
        XCTAssertTrue(FileManagerLite.write(rootfs + "/etc/passwd", passwd))
    }

    override func tearDown() {
        unlink(rootfs + "/etc/passwd")
        rmdir(rootfs + "/etc")
        rmdir(rootfs)
    }

    func options(_ edit: (inout QuickRunOptions) -> Void = { _ in }) -> QuickRunOptions {
        var o = QuickRunOptions()
        o.rootfs = rootfs
        edit(&o)
        return o
    }

    func testDockerDefaults() throws {
        let spec = try QuickRun.spec(options(), id: "web")
        XCTAssertEqual(spec.hostname, "web")
        XCTAssertEqual(spec.root, Root(path: rootfs, readonly: false))
        XCTAssertEqual(spec.annotations?[OverlayLayers.annotation], "true")
        let p = try XCTUnwrap(spec.process)
        XCTAssertEqual(p.args, ["/bin/sh"])
        XCTAssertEqual(p.env, ["PATH=" + ProcessSetup.defaultPath, "HOSTNAME=web"])
        XCTAssertEqual(p.cwd, "/")
        XCTAssertFalse(p.terminal ?? false)
        XCTAssertEqual(p.capabilities?.bounding, QuickRun.defaultCapabilities.sorted())
        XCTAssertEqual(p.capabilities?.effective, QuickRun.defaultCapabilities.sorted())
        XCTAssertEqual(p.rlimits, [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        let linux = try XCTUnwrap(spec.linux)
        XCTAssertEqual(linux.maskedPaths, QuickRun.maskedPaths)
        XCTAssertEqual(linux.readonlyPaths, QuickRun.readonlyPaths)
        XCTAssertNil(linux.resources)
        XCTAssertNotNil(linux.seccomp, "Docker's default seccomp profile")
        XCTAssertTrue(linux.namespaces?.contains { $0.type == .network } ?? false, "--network none: an own namespace")
    }

    func testCommandEntrypointEnvTTYWorkdir() throws {
        let spec = try QuickRun.spec(
            options {
                $0.command = ["-g", "daemon off;"]
                $0.entrypoint = "nginx"
                $0.env = ["A=1", "PATH=/bin", "A=2"]
                $0.tty = true
                $0.workdir = "/srv"
                $0.hostname = "h"
            }, id: "c")
        let p = try XCTUnwrap(spec.process)
        XCTAssertEqual(p.args, ["nginx", "-g", "daemon off;"])
        XCTAssertEqual(p.env, ["HOSTNAME=h", "TERM=xterm", "PATH=/bin", "A=2"])
        XCTAssertEqual(p.terminal, true)
        XCTAssertEqual(p.cwd, "/srv")
        XCTAssertEqual(spec.hostname, "h")
    }

    func testCapabilitiesDropThenAdd() throws {
        let spec = try QuickRun.spec(
            options {
                $0.capDrop = ["ALL"]
                $0.capAdd = ["net_admin", "CAP_CHOWN"]
            }, id: "c")
        XCTAssertEqual(spec.process?.capabilities?.bounding, ["CAP_CHOWN", "CAP_NET_ADMIN"])
        let all = try QuickRun.spec(
            options {
                $0.capAdd = ["all"]
                $0.capDrop = ["kill"]
            }, id: "c")
        XCTAssertEqual(
            all.process?.capabilities?.permitted, LinuxCapabilities.knownNames.sorted(), "drops first, then adds")
    }

    func testUserByNameAndNumber() throws {
        XCTAssertEqual(
            try QuickRun.spec(options { $0.user = "nginx" }, id: "c").process?.user, User(uid: 101, gid: 102))
        XCTAssertEqual(
            try QuickRun.spec(options { $0.user = "1000" }, id: "c").process?.user, User(uid: 1000, gid: 1000))
        XCTAssertEqual(
            try QuickRun.spec(options { $0.user = "nginx:7" }, id: "c").process?.user, User(uid: 101, gid: 7))
        XCTAssertThrowsError(try QuickRun.spec(options { $0.user = "bob" }, id: "c")) {
            XCTAssertEqual(message($0), "--user bob: no user \"bob\" in \(self.rootfs)/etc/passwd")
        }
        XCTAssertThrowsError(try QuickRun.spec(options { $0.user = "1:staff" }, id: "c")) {
            XCTAssertEqual(message($0), "--user 1:staff: the group must be a number")
        }
    }

    func testMountsFromVolumesAndTmpfs() throws {
        let spec = try QuickRun.spec(
            options {
                $0.volumes = ["\(rootfs):/data:ro"]
                $0.tmpfs = ["/run"]
                $0.readOnly = true
            }, id: "c")
        let mounts = try XCTUnwrap(spec.mounts)
        XCTAssertEqual(
            mounts.suffix(2),
            [
                Mount(destination: "/data", type: "bind", source: rootfs, options: ["rbind", "ro"]),
                Mount(destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]),
            ])
        XCTAssertEqual(spec.root?.readonly, true)
        for (v, error) in [
            ("/only-one-path", "--volume /only-one-path: expected /host/path:/container/path[:ro]"),
            ("/a:/b:rx", "--volume /a:/b:rx: unknown mode \"rx\" (ro or rw)"),
            ("/no/such/dir:/b", "--volume /no/such/dir:/b: /no/such/dir: No such file or directory"),
        ] {
            XCTAssertThrowsError(try QuickRun.spec(options { $0.volumes = [v] }, id: "c"), v) {
                XCTAssertEqual(message($0), error)
            }
        }
        XCTAssertThrowsError(try QuickRun.spec(options { $0.tmpfs = ["run"] }, id: "c")) {
            XCTAssertEqual(message($0), "--tmpfs run: must be an absolute path in the container")
        }
    }

    func testResourcesNetworkSeccompUlimits() throws {
        let spec = try QuickRun.spec(
            options {
                $0.memory = 64 << 20
                $0.memorySwap = -1
                $0.cpus = 1.5
                $0.pidsLimit = 32
                $0.network = "host"
                $0.seccomp = .unconfined
                $0.noNewPrivileges = true
                $0.ulimits = ["nofile=100:200", "nproc=50"]
            }, id: "c")
        XCTAssertEqual(
            spec.linux?.resources,
            LinuxResources(
                memory: LinuxMemory(limit: 64 << 20, swap: -1),
                cpu: LinuxCPU(quota: 150_000, period: 100_000), pids: LinuxPids(limit: 32)))
        XCTAssertFalse(spec.linux?.namespaces?.contains { $0.type == .network } ?? true)
        XCTAssertNil(spec.linux?.seccomp)
        XCTAssertEqual(spec.process?.noNewPrivileges, true)
        XCTAssertEqual(
            spec.process?.rlimits,
            [
                POSIXRlimit(type: "RLIMIT_NOFILE", hard: 200, soft: 100),
                POSIXRlimit(type: "RLIMIT_NPROC", hard: 50, soft: 50),
            ])
        for (edit, error) in [
            (
                { (o: inout QuickRunOptions) in o.network = "no/slash" },
                "--network no/slash: use 1 to 12 letters, digits, '_', '.' or '-' (its bridge is sk-NAME, and "
                    + "Linux allows 15 characters)"
            ),
            ({ $0.cpus = 0 }, "--cpus 0.0: must be positive"),
            ({ $0.ulimits = ["nofile"] }, "--ulimit nofile: expected NAME=SOFT[:HARD]"),
            ({ $0.ulimits = ["fly=1"] }, "--ulimit fly=1: unknown limit \"fly\""),
        ] {
            XCTAssertThrowsError(try QuickRun.spec(options(edit), id: "c"), error) {
                XCTAssertEqual(message($0), error)
            }
        }
    }

    func testGeneratedNames() {
        let name = QuickRun.generatedName()
        XCTAssertTrue(name.hasPrefix("skiff-"))
        XCTAssertEqual(name.count, 14)
        XCTAssertTrue(name.dropFirst(6).allSatisfy(\.isHexDigit))
    }
}

/// Small file helpers without Foundation (the runtime doesn't import it either).
enum FileManagerLite {
    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}

func temporaryDirectoryPath() -> String {
    getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
}
