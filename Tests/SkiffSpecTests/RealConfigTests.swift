import SkiffSpec
import XCTest

/// A config in the style containerd's CRI plugin writes for a Kubernetes
/// container in a user namespace, with seccomp, resources, hooks and devices.
/// Keys are in the order of the Go structs and maps are sorted, so encoding
/// the decoded Spec must give back exactly this document.
let containerdConfig = #"""
    {
      "ociVersion": "1.1.0",
      "process": {
        "user": {
          "uid": 65534,
          "gid": 65534,
          "umask": 18,
          "additionalGids": [65534, 10001]
        },
        "args": ["/pause"],
        "env": [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "KUBERNETES_SERVICE_HOST=10.96.0.1",
          "EMPTY="
        ],
        "cwd": "/",
        "capabilities": {
          "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL", "CAP_AUDIT_WRITE"],
          "effective": ["CAP_CHOWN", "CAP_KILL"],
          "permitted": ["CAP_CHOWN", "CAP_KILL"]
        },
        "rlimits": [
          {"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
          {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
        ],
        "noNewPrivileges": true,
        "apparmorProfile": "cri-containerd.apparmor.d",
        "oomScoreAdj": -998,
        "selinuxLabel": "system_u:system_r:container_t:s0:c4,c5"
      },
      "root": {
        "path": "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc123/rootfs",
        "readonly": true
      },
      "hostname": "web-0",
      "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime",
          "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec",
          "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec",
          "nodev", "relatime", "ro"]},
        {"destination": "/etc/hosts", "type": "bind", "source": "/var/lib/kubelet/pods/uid/etc-hosts",
          "options": ["rbind", "rprivate", "rw"]},
        {"destination": "/data", "type": "bind", "source": "/var/lib/volumes/data", "options": ["rbind", "idmap"],
         "uidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
         "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]},
        {"destination": "/dev/shm", "type": "bind",
          "source": "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm", "options": ["rbind", "ro",
          "nosuid", "nodev", "noexec"]}
      ],
      "hooks": {
        "createRuntime": [
          {"path": "/usr/bin/nvidia-container-runtime-hook", "args": ["nvidia-container-runtime-hook", "prestart"],
            "env": ["NVIDIA_VISIBLE_DEVICES=all"], "timeout": 10}
        ],
        "poststop": [
          {"path": "/usr/local/bin/cleanup"}
        ]
      },
      "annotations": {
        "io.kubernetes.cri.container-name": "web",
        "io.kubernetes.cri.container-type": "container",
        "io.kubernetes.cri.sandbox-id": "abc123",
        "note": "tab\there \"quoted\" \u0001 caf\u00e9 <b>&amp;</b>"
      },
      "linux": {
        "uidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
        "sysctl": {
          "kernel.shm_rmid_forced": "1",
          "net.ipv4.ip_unprivileged_port_start": "0",
          "net.ipv4.ping_group_range": "0 2147483647"
        },
        "resources": {
          "devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 136, "access": "rwm"},
            {"allow": true, "type": "b", "major": 8, "minor": 0, "access": "r"}
          ],
          "memory": {"limit": 536870912, "reservation": 268435456, "swap": 1073741824, "swappiness": 0,
            "disableOOMKiller": false, "checkBeforeUpdate": true},
          "cpu": {"shares": 512, "quota": 50000, "burst": 10000, "period": 100000, "realtimeRuntime": -1,
            "cpus": "0-3", "mems": "0", "idle": 0},
          "pids": {"limit": 4096},
          "blockIO": {
            "weight": 500,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 300}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 104857600}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]
          },
          "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}, {"pageSize": "1GB", "limit": 0}],
          "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
          "rdma": {"mlx4_0": {"hcaObjects": 1000}, "mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
          "unified": {"memory.high": "402653184", "memory.oom.group": "1"}
        },
        "cgroupsPath": "kubepods-besteffort-podabc.slice:cri-containerd:abc123",
        "namespaces": [
          {"type": "pid"},
          {"type": "ipc", "path": "/proc/4242/ns/ipc"},
          {"type": "uts"},
          {"type": "mount"},
          {"type": "network", "path": "/var/run/netns/cni-1234"},
          {"type": "user"},
          {"type": "cgroup"}
        ],
        "devices": [
          {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
          {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0, "fileMode": 432},
          {"path": "/dev/myfifo", "type": "p", "major": 0, "minor": 0}
        ],
        "seccomp": {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
          "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
          "syscalls": [
            {"names": ["accept", "accept4", "read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0,
              "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295,
              "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288,
              "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"}
          ]
        },
        "rootfsPropagation": "rslave",
        "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/sys/firmware"],
        "readonlyPaths": ["/proc/bus", "/proc/sys", "/proc/sysrq-trigger"],
        "mountLabel": "system_u:object_r:container_file_t:s0:c4,c5",
        "personality": {"domain": "LINUX"}
      }
    }
    """#

final class RealConfigTests: XCTestCase {
    func testContainerdStyleConfigDecodes() throws {
        let spec = try Spec.parse(bytes(containerdConfig))
        XCTAssertEqual(spec.process?.user.umask, 0o22)
        XCTAssertEqual(spec.process?.user.additionalGids, [65534, 10001])
        XCTAssertEqual(spec.process?.rlimits?[1].hard, UInt64.max)
        XCTAssertEqual(spec.process?.oomScoreAdj, -998)
        XCTAssertEqual(spec.mounts?.count, 9)
        XCTAssertEqual(spec.mounts?[7].uidMappings, [LinuxIDMapping(containerID: 0, hostID: 200_000, size: 65536)])
        XCTAssertEqual(spec.hooks?.createRuntime?.first?.timeout, 10)
        XCTAssertEqual(spec.annotations?["note"], "tab\there \"quoted\" \u{1} café <b>&amp;</b>")
        let linux = try XCTUnwrap(spec.linux)
        XCTAssertEqual(linux.namespace(.network)?.path, "/var/run/netns/cni-1234")
        XCTAssertFalse(linux.createsNamespace(.network))
        XCTAssertTrue(linux.createsNamespace(.user))
        XCTAssertEqual(linux.resources?.memory?.limit, 536_870_912)
        XCTAssertEqual(linux.resources?.cpu?.quota, 50000)
        XCTAssertEqual(
            linux.resources?.devices?[2], LinuxDeviceCgroup(allow: true, type: "c", major: 136, access: "rwm"))
        XCTAssertEqual(linux.resources?.rdma?["mlx4_0"], LinuxRdma(hcaObjects: 1000))
        XCTAssertEqual(linux.devices?[0].fileMode, 0o666)
        XCTAssertEqual(linux.seccomp?.defaultAction, .errno)
        XCTAssertEqual(linux.seccomp?.architectures, [.x86_64, .x86, .x32])
        XCTAssertEqual(
            linux.seccomp?.syscalls?[3].args?[0],
            LinuxSeccompArg(index: 0, value: 2_114_060_288, valueTwo: 0, op: .maskedEqual))
        XCTAssertEqual(linux.seccomp?.syscalls?[4].errnoRet, 38)
        XCTAssertEqual(linux.personality?.domain, .linux)
    }

    func testContainerdStyleConfigRoundTripsExactly() throws {
        let original = try JSON.parse(containerdConfig)
        let spec = try JSONCodec.decode(Spec.self, from: original)
        // Same document, member for member, number for number.
        XCTAssertEqual(JSONCodec.encodeJSON(spec), original)
        // And through text, indented and compact.
        for indent in ["\t", "  ", nil] as [String?] {
            XCTAssertEqual(try Spec.parse(bytes(spec.json(indent: indent))), spec)
        }
    }

    func testRuncDefaultRoundTrips() throws {
        let spec = Spec.runcDefault()
        let again = try JSONCodec.decode(Spec.self, from: bytes(spec.json()))
        XCTAssertEqual(again, spec)
        XCTAssertEqual(again.json(), spec.json())
    }

    func testBuildingASpecInCode() throws {
        var spec = Spec.runcDefault()
        spec.process?.terminal = false
        spec.process?.args = ["/bin/echo", "hi"]
        spec.linux?.uidMappings = [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)]
        spec.linux?.gidMappings = [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)]
        spec.linux?.namespaces?.append(LinuxNamespace(type: .user))
        spec.linux?.resources?.memory = LinuxMemory(limit: 64 << 20, swap: -1)
        spec.linux?.resources?.pids = LinuxPids(limit: 100)
        spec.linux?.seccomp = LinuxSeccomp(
            defaultAction: .allow,
            syscalls: [LinuxSyscall(names: ["mount", "umount2"], action: .errno, errnoRet: 1)])
        spec.hooks = Hooks(poststart: [Hook(path: "/bin/true", timeout: 3)])
        spec.annotations = ["org.example/owner": "me"]
        XCTAssertNoThrow(try spec.validate())
        XCTAssertEqual(try Spec.parse(bytes(spec.json())), spec)
        XCTAssertTrue(spec.json(indent: nil).contains(#""memory":{"limit":67108864,"swap":-1},"pids":{"limit":100}"#))
    }
}
