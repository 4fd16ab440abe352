// linux.resources -> cgroup v2 files (Sources/SkiffRuntime/Cgroups/CgroupResources.swift): the
// conversions runc uses, the exact writes, what `update` merges. Pure functions: no root.
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class CgroupResourcesTests: XCTestCase {
    func testCPUSharesToWeightAsRunc() {
        // runc's ConvertCPUSharesToCgroupV2Value: 1 + (shares-2) * 9999 / 262142.
        XCTAssertEqual(CgroupResources.cpuWeight(shares: 0), 0)
        XCTAssertEqual(CgroupResources.cpuWeight(shares: 2), 1)
        XCTAssertEqual(CgroupResources.cpuWeight(shares: 1024), 39)
        XCTAssertEqual(CgroupResources.cpuWeight(shares: 262_144), 10_000)
    }

    func testBlkioWeightToIOWeight() {
        XCTAssertEqual(CgroupResources.ioWeight(blkioWeight: 0), 0)
        XCTAssertEqual(CgroupResources.ioWeight(blkioWeight: 10), 1)
        XCTAssertEqual(CgroupResources.ioWeight(blkioWeight: 500), 4950)
        XCTAssertEqual(CgroupResources.ioWeight(blkioWeight: 1000), 10_000)
    }

    func testSwapIsMemoryPlusSwapOnV1AndSwapAloneOnV2() throws {
        XCTAssertEqual(try CgroupResources.swapMax(swap: 0, limit: -1), "max")
        XCTAssertEqual(try CgroupResources.swapMax(swap: -1, limit: 100), "max")
        XCTAssertNil(try CgroupResources.swapMax(swap: 0, limit: 100))
        XCTAssertEqual(try CgroupResources.swapMax(swap: 300, limit: 100), "200")
        XCTAssertEqual(try CgroupResources.swapMax(swap: 100, limit: 100), "0")
        XCTAssertThrowsError(try CgroupResources.swapMax(swap: 50, limit: 100)) {
            XCTAssertEqual(
                message($0),
                "linux.resources.memory.swap: must not be less than the memory limit (it counts memory plus swap)")
        }
        XCTAssertThrowsError(try CgroupResources.swapMax(swap: 50, limit: 0)) {
            XCTAssertEqual(message($0), "linux.resources.memory.swap: a swap limit needs a memory limit")
        }
    }

    func testLimitText() {
        XCTAssertNil(CgroupResources.limitText(nil))
        XCTAssertNil(CgroupResources.limitText(0))
        XCTAssertEqual(CgroupResources.limitText(-1), "max")
        XCTAssertEqual(CgroupResources.limitText(4096), "4096")
    }

    /// Every kind of setting, and the exact files and values written, in order.
    func testEveryWriteForAFullResourceSet() throws {
        let r = LinuxResources(
            memory: LinuxMemory(limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20),
            cpu: LinuxCPU(shares: 1024, quota: 50_000, burst: 1000, period: 100_000, cpus: "0-1", mems: "0", idle: 0),
            pids: LinuxPids(limit: 64),
            blockIO: LinuxBlockIO(
                weight: 500, weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 100)],
                throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1_048_576)],
                throttleWriteIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 16, rate: 10)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 4 << 20)],
            rdma: ["mlx5_0": LinuxRdma(hcaHandles: 3, hcaObjects: 100)],
            unified: ["io.max": "8:0 wbps=1\n8:16 rbps=2", "memory.high": "1G"])
        let writes = try CgroupResources.writes(r, bfq: false, exists: { $0 == "hugetlb.2MB.rsvd.max" })
        XCTAssertEqual(
            writes.map { "\($0.file)=\($0.value)" },
            [
                "memory.swap.max=67108864",
                "memory.max=67108864",
                "memory.low=33554432",
                "cpu.weight=39",
                "cpu.idle=0",
                "cpu.max.burst=1000",
                "cpu.max=50000 100000",
                "cpuset.cpus=0-1",
                "cpuset.mems=0",
                "pids.max=64",
                "io.weight=default 4950",
                "io.max=8:0 rbps=1048576",
                "io.max=8:16 wiops=10",
                "hugetlb.2MB.max=4194304",
                "hugetlb.2MB.rsvd.max=4194304",
                "rdma.max=mlx5_0 hca_handle=3 hca_object=100",
                "io.max=8:0 wbps=1",
                "io.max=8:16 rbps=2",
                "memory.high=1G",
            ])
        // Each write names the spec field it comes from (error messages use it).
        XCTAssertEqual(writes[0].field, "linux.resources.memory.swap")
        XCTAssertEqual(writes[11].field, "linux.resources.blockIO.throttleReadBpsDevice[0]")
        XCTAssertEqual(writes[16].field, "linux.resources.unified[\"io.max\"]")
        // Burst may be refused until cpu.max is raised: retried after the others.
        XCTAssertTrue(writes[5].retryAfterOthers)
        XCTAssertFalse(writes[0].optionalFile)
    }

    func testBFQWeightsAndPerDeviceWeights() throws {
        let r = LinuxResources(
            blockIO: LinuxBlockIO(weight: 500, weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 100)]))
        XCTAssertEqual(
            try CgroupResources.writes(r, bfq: true).map { "\($0.file)=\($0.value)" },
            ["io.bfq.weight=500", "io.bfq.weight=8:0 100"])
        // Without BFQ, a per-device weight has no file to go to (as in runc).
        XCTAssertEqual(
            try CgroupResources.writes(r, bfq: false).map { "\($0.file)=\($0.value)" }, ["io.weight=default 4950"])
    }

    func testUnlimitedAndUnsetValues() throws {
        let r = LinuxResources(
            memory: LinuxMemory(limit: -1, reservation: 0), cpu: LinuxCPU(quota: -1, period: 0),
            pids: LinuxPids(limit: -1))
        let writes = try CgroupResources.writes(r, bfq: false)
        XCTAssertEqual(
            writes.map { "\($0.file)=\($0.value)" },
            ["memory.swap.max=max", "memory.max=max", "cpu.max=max", "pids.max=max"])
        // memory.swap.max may be missing (no swap accounting): setting it to max is then moot.
        XCTAssertTrue(writes[0].optionalFile)
        XCTAssertEqual(try CgroupResources.writes(LinuxResources(pids: LinuxPids(limit: 0)), bfq: false).count, 0)
    }

    func testRequirementsNameTheFirstFieldPerController() throws {
        let r = LinuxResources(
            memory: LinuxMemory(reservation: 1), cpu: LinuxCPU(shares: 2, cpus: "0"),
            pids: LinuxPids(limit: 5), unified: ["cgroup.type": "threaded", "hugetlb.1GB.max": "0"])
        let req = try CgroupResources.requirements(r)
        XCTAssertEqual(req.map(\.controller), ["memory", "cpu", "cpuset", "pids", "hugetlb"])
        XCTAssertEqual(
            req.map(\.field),
            [
                "linux.resources.memory.reservation", "linux.resources.cpu.shares",
                "linux.resources.cpu.cpus", "linux.resources.pids.limit",
                "linux.resources.unified[\"hugetlb.1GB.max\"]",
            ])
        XCTAssertEqual(try CgroupResources.requirements(nil).count, 0)
    }

    func testSettingsCgroupV2CannotExpressAreRefused() {
        XCTAssertThrowsError(try CgroupResources.requirements(LinuxResources(cpu: LinuxCPU(realtimeRuntime: 1000)))) {
            XCTAssertEqual(
                message($0),
                "linux.resources.cpu.realtimeRuntime: realtime CPU limits are a cgroup v1 feature; cgroup v2 has none")
        }
        for key in ["memorymax", "../memory.max", "a/b.c"] {
            XCTAssertThrowsError(try CgroupResources.requirements(LinuxResources(unified: [key: "1"])), key) {
                XCTAssertEqual(
                    message($0),
                    "linux.resources.unified[\"\(key)\"]: must be a file name of the form CONTROLLER.PARAMETER")
            }
        }
    }

    func testUpdateMergesGivenFieldsAndRewritesWholeGroups() throws {
        let base = LinuxResources(
            memory: LinuxMemory(limit: 100, swap: 200), cpu: LinuxCPU(quota: 1000, period: 100_000),
            pids: LinuxPids(limit: 10), hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 1)])
        let update = LinuxResources(
            memory: LinuxMemory(limit: 150), cpu: LinuxCPU(quota: 2000),
            hugepageLimits: [
                LinuxHugepageLimit(pageSize: "2MB", limit: 2), LinuxHugepageLimit(pageSize: "1GB", limit: 3),
            ])
        let merged = CgroupResources.merge(base, update)
        XCTAssertEqual(merged.memory, LinuxMemory(limit: 150, swap: 200))
        XCTAssertEqual(merged.cpu, LinuxCPU(quota: 2000, period: 100_000))
        XCTAssertEqual(merged.pids, LinuxPids(limit: 10))
        XCTAssertEqual(
            merged.hugepageLimits,
            [LinuxHugepageLimit(pageSize: "2MB", limit: 2), LinuxHugepageLimit(pageSize: "1GB", limit: 3)])
        // What is written: the whole memory group (swap needs the new limit) and the whole
        // cpu.max (quota with its period); pids, untouched, is not written again.
        let subset = CgroupResources.updateSubset(merged: merged, update: update)
        XCTAssertEqual(
            try CgroupResources.writes(subset, bfq: false).map { "\($0.file)=\($0.value)" },
            ["memory.swap.max=50", "memory.max=150", "cpu.max=2000 100000", "hugetlb.2MB.max=2", "hugetlb.1GB.max=3"])
    }
}

/// The text of a thrown error.
func message(_ error: Error) -> String {
    (error as? SkiffError)?.message ?? "\(error)"
}
