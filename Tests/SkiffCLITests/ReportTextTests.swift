// The text the CLI lays out from the runtime's data: `skiff inspect` (InspectText),
// `skiff info` (InfoCommand.text) and `skiff stats` (StatsTable). The expected text is
// what these commands printed when the runtime still built it, byte for byte.
import SkiffSpec
import XCTest

@testable import SkiffRuntime
@testable import skiff

final class InspectTextTests: XCTestCase {
    private func record(annotations: [String: String]? = nil, overlay: OverlayLayers? = nil) throws -> ContainerRecord {
        let json = """
            {"ociVersion": "1.0.2", "hostname": "web", "root": {"path": "rootfs"},
             "linux": {"namespaces": [{"type": "uts"}]},
             "process": {"args": ["sh", "-c", "echo 'hi there'", ""], "cwd": "/srv", "terminal": false,
                         "user": {"uid": 1000, "gid": 100}, "env": ["PATH=/bin", "A=b c"]}}
            """
        var spec = try Spec.parse(Array(json.utf8))
        spec.annotations = annotations
        return ContainerRecord(
            ociVersion: "1.0.2", id: "web1", pid: 4242, bundle: "/b", rootfs: "/b/rootfs", created: "now", owner: "",
            annotations: annotations, initStartTime: 1, cgroupPath: "", config: spec, overlay: overlay,
            deviceCgroupV1: nil)
    }

    func testAStoppedContainer() throws {
        var report = Inspection(record: try record(), status: .stopped)
        report.exitCode = 3
        report.logPath = "/data/web1/log"
        XCTAssertEqual(
            InspectText.render(report),
            """
            container   web1
            status      stopped
            pid         0
            bundle      /b
            rootfs      /b/rootfs
            exit code   3
            log         /data/web1/log

            process
              args      sh -c 'echo '\\''hi there'\\''' ''
              cwd       /srv
              user      1000:100
              hostname  web
              terminal  false
              env       PATH=/bin
              env       A=b c

            capabilities
              CapEff  (none)
              CapPrm  (none)
              CapBnd  (none)
              CapInh  (none)
              CapAmb  (none)

            seccomp     -
            no_new_privs -

            """)
    }

    func testEverySectionOfARunningContainer() throws {
        let overlay = OverlayLayers(lower: "/img", dataDir: "/data/web1")
        let annotations = [
            ImageAnnotations.image: "/images/app:1", ImageAnnotations.id: "sha256:abc",
            ImageAnnotations.lowers: "/l/top\n/l/base", ImageAnnotations.exposedPorts: "80/tcp",
            ImageAnnotations.stopSignal: "SIGQUIT",
        ]
        var report = Inspection(record: try record(annotations: annotations, overlay: overlay), status: .stopped)
        report.namespaces = [
            .init(type: "pid", inode: 11, hostInode: 12), .init(type: "net", inode: 13, hostInode: 13),
            .init(type: "time", inode: 14, hostInode: nil),
        ]
        report.cgroup = [("path", "/sys/fs/cgroup/skiff/web1"), ("memory.max", "max")]
        report.capabilities = [("CapEff", ["CAP_CHOWN", "CAP_KILL"]), ("CapAmb", [])]
        report.seccomp = "filter (1 filters)"
        report.noNewPrivs = "1"
        report.mounts = ["/ overlay overlay rw", "/proc proc proc rw"]
        report.network = .object([
            ("network", .string("skiff")), ("address", .string("10.88.0.2/16")), ("hostVeth", .string("veth1")),
            ("ports", .array([.string("8080:80/tcp")])),
        ])
        let text = InspectText.render(report)
        let expected = """
            overlay     lower /img
                        upper \(overlay.upper)

            process
            """
        XCTAssert(text.contains(expected), text)
        XCTAssert(
            text.contains(
                """
                  env       A=b c
                image       /images/app:1
                            sha256:abc
                            layer /l/top
                            layer /l/base
                exposed     80/tcp
                stop signal SIGQUIT

                namespaces  (inode; host's)
                  pid     11  new (host: 12)
                  net     13  shared with the host
                  time    14  new (host: ?)

                cgroup
                  path                  /sys/fs/cgroup/skiff/web1
                  memory.max            max

                capabilities
                  CapEff  CAP_CHOWN CAP_KILL
                  CapAmb  (none)

                seccomp     filter (1 filters)
                no_new_privs 1

                network     skiff
                  address   10.88.0.2/16
                  hostVeth  veth1
                  ports     8080:80/tcp

                mounts (target type source options)
                  / overlay overlay rw
                  /proc proc proc rw

                """), text)
    }

    func testQuotingAsAShellNeedsIt() {
        XCTAssertEqual(InspectText.quoted("plain"), "plain")
        XCTAssertEqual(InspectText.quoted(""), "''")
        XCTAssertEqual(InspectText.quoted("a b"), "'a b'")
        XCTAssertEqual(InspectText.quoted("$HOME"), "'$HOME'")
        XCTAssertEqual(InspectText.quoted("it's"), "'it'\\''s'")
    }
}

final class InfoTextTests: XCTestCase {
    private func info(
        cgroupV2: Bool = true, mountPoint: String = "/sys/fs/cgroup", controllers: [String] = ["cpu", "memory"]
    )
        -> HostInfo
    {
        HostInfo(
            kernel: "Linux 6.1.0 x86_64", cpus: 2, memory: 4 << 30, cgroupV2: cgroupV2, cgroupMountPoint: mountPoint,
            cgroupControllers: controllers, overlay: true, seccomp: true, libseccomp: "2.5.4", stateRoot: "/run/skiff",
            dataRoot: "/var/lib/skiff", containers: 3, byStatus: [.running: 2, .stopped: 1], volumes: 1)
    }

    func testTheWholeReport() {
        XCTAssertEqual(
            InfoCommand.text(info()),
            """
            Skiff version:      \(skiffVersion)
            Kernel:             Linux 6.1.0 x86_64
            CPUs:               2
            Total memory:       4GiB
            Cgroup version:     2
            Cgroup controllers: cpu memory
            Storage:            overlay (overlayfs: the image as the lower layer, one upper per container)
            Seccomp:            supported, libseccomp 2.5.4
            State root:         /run/skiff
            Data root:          /var/lib/skiff (writable layers, logs, volumes)
            Containers:         3
              Running:          2
              Paused:           0
              Stopped:          1
              Created:          0
            Volumes:            1

            """)
    }

    func testCgroupLines() {
        let hybrid = InfoCommand.lines(info(mountPoint: "/sys/fs/cgroup/unified", controllers: []))
        XCTAssertEqual(
            hybrid.first { $0.0 == "Cgroup version" }?.1,
            "2 (hybrid host: v2 at /sys/fs/cgroup/unified, v1 for the rest)")
        XCTAssertEqual(hybrid.first { $0.0 == "Cgroup controllers" }?.1, "(none)")
        let none = InfoCommand.lines(info(cgroupV2: false))
        XCTAssertEqual(none.first { $0.0 == "Cgroup version" }?.1, "none usable (Skiff needs cgroup v2)")
        XCTAssertNil(none.first { $0.0 == "Cgroup controllers" })
    }
}

final class StatsTableTests: XCTestCase {
    private func sample(cpu: UInt64?, time: UInt64, memory: UInt64? = nil, limit: UInt64? = nil) -> StatsSample {
        StatsSample(
            id: "c1", cpuMicros: cpu, time: time, memory: memory, memoryLimit: limit, pids: memory == nil ? nil : 3,
            readBytes: memory == nil ? nil : 1536, writeBytes: memory == nil ? nil : 0)
    }

    func testARowBetweenTwoSamples() {
        // 250 ms of CPU in 1 s: 25%; 256 MiB of 1 GiB: 25%.
        let before = sample(cpu: 1_000_000, time: 1_000_000_000)
        let now = sample(cpu: 1_250_000, time: 2_000_000_000, memory: 256 << 20, limit: 1 << 30)
        XCTAssertEqual(StatsTable.row(before, now), ["c1", "25.00%", "256MiB / 1GiB", "25.00%", "3", "1.5KiB / 0B"])
    }

    func testWhatIsNotKnownIsDashes() {
        let now = sample(cpu: nil, time: 1)
        XCTAssertEqual(StatsTable.row(nil, now), ["c1", "--", "-- / --", "--", "--", "-- / --"])
    }

    func testDockersUnits() {
        XCTAssertEqual(StatsTable.size(0), "0B")
        XCTAssertEqual(StatsTable.size(1023), "1023B")
        XCTAssertEqual(StatsTable.size(1024), "1KiB")
        XCTAssertEqual(StatsTable.size(1_572_864), "1.5MiB")
        XCTAssertEqual(StatsTable.size(3 << 30), "3GiB")
        XCTAssertEqual(StatsTable.format(0.005), "0.01")
        XCTAssertEqual(StatsTable.format(12.3), "12.30")
    }
}
