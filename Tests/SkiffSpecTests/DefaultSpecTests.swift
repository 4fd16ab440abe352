import SkiffSpec
import XCTest

/// What `runc spec` (runc 1.1.x, cgroup v2 host) writes, with "skiff" as the
/// hostname; written with two-space indents here and turned into tabs.
let runcSpecOutput = tabs(
    """
    {
      "ociVersion": "1.0.2-dev",
      "process": {
        "terminal": true,
        "user": {
          "uid": 0,
          "gid": 0
        },
        "args": [
          "sh"
        ],
        "env": [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "TERM=xterm"
        ],
        "cwd": "/",
        "capabilities": {
          "bounding": [
            "CAP_AUDIT_WRITE",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE"
          ],
          "effective": [
            "CAP_AUDIT_WRITE",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE"
          ],
          "permitted": [
            "CAP_AUDIT_WRITE",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE"
          ]
        },
        "rlimits": [
          {
            "type": "RLIMIT_NOFILE",
            "hard": 1024,
            "soft": 1024
          }
        ],
        "noNewPrivileges": true
      },
      "root": {
        "path": "rootfs",
        "readonly": true
      },
      "hostname": "skiff",
      "mounts": [
        {
          "destination": "/proc",
          "type": "proc",
          "source": "proc"
        },
        {
          "destination": "/dev",
          "type": "tmpfs",
          "source": "tmpfs",
          "options": [
            "nosuid",
            "strictatime",
            "mode=755",
            "size=65536k"
          ]
        },
        {
          "destination": "/dev/pts",
          "type": "devpts",
          "source": "devpts",
          "options": [
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5"
          ]
        },
        {
          "destination": "/dev/shm",
          "type": "tmpfs",
          "source": "shm",
          "options": [
            "nosuid",
            "noexec",
            "nodev",
            "mode=1777",
            "size=65536k"
          ]
        },
        {
          "destination": "/dev/mqueue",
          "type": "mqueue",
          "source": "mqueue",
          "options": [
            "nosuid",
            "noexec",
            "nodev"
          ]
        },
        {
          "destination": "/sys",
          "type": "sysfs",
          "source": "sysfs",
          "options": [
            "nosuid",
            "noexec",
            "nodev",
            "ro"
          ]
        },
        {
          "destination": "/sys/fs/cgroup",
          "type": "cgroup",
          "source": "cgroup",
          "options": [
            "nosuid",
            "noexec",
            "nodev",
            "relatime",
            "ro"
          ]
        }
      ],
      "linux": {
        "resources": {
          "devices": [
            {
              "allow": false,
              "access": "rwm"
            }
          ]
        },
        "namespaces": [
          {
            "type": "pid"
          },
          {
            "type": "network"
          },
          {
            "type": "ipc"
          },
          {
            "type": "uts"
          },
          {
            "type": "mount"
          },
          {
            "type": "cgroup"
          }
        ],
        "maskedPaths": [
          "/proc/acpi",
          "/proc/asound",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/sys/firmware",
          "/proc/scsi"
        ],
        "readonlyPaths": [
          "/proc/bus",
          "/proc/fs",
          "/proc/irq",
          "/proc/sys",
          "/proc/sysrq-trigger"
        ]
      }
    }
    """)

final class DefaultSpecTests: XCTestCase {
    func testWritesLikeRuncSpec() {
        let text = Spec.runcDefault().json()
        XCTAssertEqual(text, runcSpecOutput)
        if text != runcSpecOutput {
            // Show the first differing line to make a failure easy to read.
            let a = text.split(separator: "\n")
            let b = runcSpecOutput.split(separator: "\n")
            if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                XCTFail("line \(i + 1): got \(a[i]) expected \(b[i])")
            }
        }
    }

    func testParsesBackAndValidates() throws {
        let spec = try Spec.parse(bytes(runcSpecOutput))
        XCTAssertEqual(spec, Spec.runcDefault())
        XCTAssertEqual(spec.process?.capabilities?.inheritable, nil)
        XCTAssertEqual(spec.process?.capabilities?.ambient, nil)
        XCTAssertEqual(spec.linux?.namespaces?.map(\.type), [.pid, .network, .ipc, .uts, .mount, .cgroup])
        XCTAssertEqual(spec.linux?.createsNamespace(.uts), true)
        XCTAssertEqual(spec.linux?.createsNamespace(.user), false)
    }

    func testCompactForm() {
        XCTAssertTrue(
            Spec.runcDefault().json(indent: nil).hasPrefix(
                #"{"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"]"#))
    }
}
