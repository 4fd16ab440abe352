// Mount options as runc reads them (Sources/SkiffRuntime/Rootfs/Mounts.swift), and the other
// small pure helpers of the rootfs and cgroup code.
import CShim
import XCTest

@testable import SkiffRuntime

final class MountOptionsTests: XCTestCase {
    func testFlagsPropagationAndData() {
        let o = MountOptions(["ro", "nosuid", "bind", "rprivate", "size=65536k", "mode=755"])
        XCTAssertEqual(o.flags, SK_MS_RDONLY | SK_MS_NOSUID | SK_MS_BIND)
        XCTAssertEqual(o.propagation, [SK_MS_PRIVATE | SK_MS_REC])
        XCTAssertEqual(o.dataString, "size=65536k,mode=755")
        XCTAssertTrue(o.isBind)
        XCTAssertEqual(MountOptions.describe(o.flags), "MS_RDONLY|MS_NOSUID|MS_BIND")
    }

    func testLaterOptionsClearEarlierOnes() {
        let o = MountOptions(["ro", "nodev", "noexec", "rw", "dev", "exec", "strictatime", "nostrictatime"])
        XCTAssertEqual(o.flags, 0)
        XCTAssertNil(o.dataString)
        XCTAssertEqual(MountOptions.describe(0), "0")
    }

    func testRbindAndPropagationOrderAndIgnoredTmpcopyup() {
        let o = MountOptions(["rbind", "shared", "rslave", "tmpcopyup", "defaults"])
        XCTAssertEqual(o.flags, SK_MS_BIND | SK_MS_REC)
        XCTAssertEqual(o.propagation, [SK_MS_SHARED, SK_MS_SLAVE | SK_MS_REC])
        XCTAssertNil(o.dataString, "tmpcopyup is runc's extension, not filesystem data")
    }

    func testEveryTableEntryIsASingleKnownBit() {
        for (name, entry) in MountOptions.table where name != "defaults" && name != "rbind" {
            XCTAssertEqual(entry.flag.nonzeroBitCount, 1, name)
            // Setting and clearing are each other's inverse: "noX" sets what "X" clears.
            let set = MountOptions([name]).flags
            XCTAssertEqual(set, entry.clear ? 0 : entry.flag, name)
        }
    }

    func testCgroupPaths() throws {
        XCTAssertEqual(try Cgroup.containerPath(nil, id: "c").path, "/skiff/c")
        XCTAssertEqual(
            try Cgroup.containerPath("", id: "c", root: "/tmp/state").path, "/skiff/\(Cgroup.rootTag("/tmp/state"))-c")
        XCTAssertEqual(try Cgroup.containerPath("/a/./b/", id: "c").path, "/a/b")
        XCTAssertThrowsError(try Cgroup.containerPath("/a/../b", id: "c")) {
            XCTAssertEqual(message($0), "linux.cgroupsPath: must not contain \"..\" components")
        }
        XCTAssertThrowsError(try Cgroup.containerPath("/", id: "c")) {
            XCTAssertEqual(message($0), "linux.cgroupsPath: \"/\" is the root of the cgroup hierarchy")
        }
    }

    /// The integration harness computes the same tag to find leftover cgroups
    /// (Tests/SkiffIntegrationTests/CgroupTests.swift): both must stay 32-bit FNV-1a.
    func testRootTagIsFNV1a() {
        XCTAssertEqual(Cgroup.rootTag(""), "811c9dc5")
        XCTAssertEqual(Cgroup.rootTag("a"), "e40c292c")
        XCTAssertEqual(Cgroup.rootTag("/run/skiff").count, 8)
    }

    func testMountinfoUnescape() {
        XCTAssertEqual(Cgroup.unescapeOctal("/mnt/a\\040b\\011c\\134d"), "/mnt/a b\tc\\d")
        XCTAssertEqual(Cgroup.unescapeOctal("/plain"), "/plain")
        XCTAssertEqual(Cgroup.unescapeOctal("/bad\\09"), "/bad\\09")
    }

    func testSysctlPaths() {
        XCTAssertEqual(Sysctl.relativePath("net.ipv4.ip_forward"), "net/ipv4/ip_forward")
        XCTAssertEqual(Sysctl.relativePath("net/ipv4/conf/eth0.100/forwarding"), "net/ipv4/conf/eth0.100/forwarding")
        XCTAssertEqual(Sysctl.relativePath("kernel.msgmax"), "kernel/msgmax")
    }
}
