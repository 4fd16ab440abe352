// Which namespaces clone3 creates and which the child unshares later
// (Sources/SkiffRuntime/Namespaces/Namespaces.swift: NamespacePlan).
import CShim
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class NamespacePlanTests: XCTestCase {
    func plan(_ namespaces: [LinuxNamespace]) -> NamespacePlan {
        var spec = Spec.runcDefault()
        spec.linux?.namespaces = namespaces
        return NamespacePlan(spec)
    }

    func testRuncDefaultAllButCgroupAreMadeByClone3() {
        let p = NamespacePlan(Spec.runcDefault())
        XCTAssertEqual(
            NamespacePlan.describe(p.cloneFlags), "CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS")
        // The cgroup namespace is unshared after the child is in its cgroup, or it would be
        // rooted at skiff's cgroup.
        XCTAssertEqual(NamespacePlan.describe(p.unshareFlags), "CLONE_NEWCGROUP")
        XCTAssertEqual(p.cloneFlags & p.unshareFlags, 0)
    }

    func testAJoinedUserNamespaceDelaysEverythingButPid() {
        let p = plan([
            LinuxNamespace(type: .pid), LinuxNamespace(type: .mount), LinuxNamespace(type: .network),
            LinuxNamespace(type: .user, path: "/proc/1/ns/user"),
        ])
        XCTAssertEqual(p.cloneFlags, SK_CLONE_NEWPID)
        XCTAssertEqual(p.unshareFlags, SK_CLONE_NEWNS | SK_CLONE_NEWNET)
        XCTAssertTrue(p.has(.user))
        XCTAssertFalse(p.isNew(.user))
        XCTAssertEqual(p.joined.map(\.1), ["/proc/1/ns/user"])
    }

    func testANewUserNamespaceIsMadeByClone3WithTheOthers() {
        let p = plan([LinuxNamespace(type: .user), LinuxNamespace(type: .uts), LinuxNamespace(type: .cgroup)])
        XCTAssertEqual(p.cloneFlags, SK_CLONE_NEWUSER | SK_CLONE_NEWUTS)
        XCTAssertEqual(p.unshareFlags, SK_CLONE_NEWCGROUP)
    }

    func testTimeNamespaceIsNeitherClonedNorUnsharedHere() {
        // Its offsets must be written before a process enters it: handled apart.
        let p = plan([LinuxNamespace(type: .time), LinuxNamespace(type: .ipc)])
        XCTAssertEqual(p.cloneFlags, SK_CLONE_NEWIPC)
        XCTAssertEqual(p.unshareFlags, 0)
        XCTAssertTrue(p.isNew(.time))
    }

    func testAnEmptyPathMeansNew() {
        let p = plan([LinuxNamespace(type: .network, path: ""), LinuxNamespace(type: .uts, path: "/run/netns/x")])
        XCTAssertEqual(p.new, [.network])
        XCTAssertEqual(p.cloneFlags, SK_CLONE_NEWNET)
    }

    func testFlagNames() {
        XCTAssertEqual(NamespacePlan.describe(0), "0")
        XCTAssertEqual(LinuxNamespaceType.mount.flagName, "CLONE_NEWNS")
        XCTAssertEqual(LinuxNamespaceType.network.procName, "net")
        XCTAssertEqual(LinuxNamespaceType.time.cloneFlag, 0x80)
        let all = LinuxNamespaceType.allCases.reduce(UInt64(0)) { $0 | $1.cloneFlag }
        XCTAssertEqual(all.nonzeroBitCount, LinuxNamespaceType.allCases.count, "one distinct bit per type")
    }
}
