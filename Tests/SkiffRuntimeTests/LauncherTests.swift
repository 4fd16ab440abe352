// The launcher's decisions (Sources/SkiffRuntime/Process/Launcher.swift), without root:
// each row of its table where init and exec differ, checked on a real socketpair where a
// message goes to the child.
import Glibc
import SkiffSpec
import XCTest

@testable import SkiffRuntime

final class LauncherTests: XCTestCase {
    private func spec(_ json: String) throws -> Spec { try Spec.parse(Array(json.utf8)) }

    private func launcher(_ kind: LaunchKind, spec: Spec) -> Launcher {
        Launcher(
            kind: kind, id: "c1", bundle: "/b", spec: spec, process: spec.process!, consoleSocket: nil,
            foreground: true, pidFile: nil)
    }

    private let config = """
        {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
         "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
         "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}, {"type": "cgroup"}]}}
        """

    func testTerminalAndConsoleSocketMustAgree() {
        XCTAssertNoThrow(try LaunchKind.checkTerminal(true, consoleSocket: nil, foreground: true, hint: "h"))
        XCTAssertNoThrow(try LaunchKind.checkTerminal(true, consoleSocket: "/s", foreground: false, hint: "h"))
        XCTAssertNoThrow(try LaunchKind.checkTerminal(false, consoleSocket: nil, foreground: false, hint: "h"))
        XCTAssertThrowsError(try LaunchKind.checkTerminal(true, consoleSocket: nil, foreground: false, hint: "h")) {
            XCTAssertEqual(
                ($0 as? SkiffError)?.message, "cannot allocate tty if skiff will detach without setting console socket")
        }
        XCTAssertThrowsError(
            try LaunchKind.checkTerminal(false, consoleSocket: "/s", foreground: true, hint: "use --tty")
        ) {
            XCTAssertEqual(
                ($0 as? SkiffError)?.message, "cannot use console socket if skiff will not allocate a tty (use --tty)")
        }
    }

    func testInitClonesIntoItsNewNamespacesExecIntoNone() throws {
        let spec = try spec(config)
        let plan = NamespacePlan(spec)
        let initLauncher = launcher(.initProcess(plan: plan, timeOffsets: [:]), spec: spec)
        XCTAssertEqual(initLauncher.cloneFlags, plan.cloneFlags)
        XCTAssertNotEqual(initLauncher.cloneFlags, 0)
        XCTAssertEqual(launcher(.exec(containerInit: 42, namespaces: []), spec: spec).cloneFlags, 0)
    }

    func testAChildThatDiesBeforeReadyIsNamedByKind() throws {
        let spec = try spec(config)
        let initDied = launcher(.initProcess(plan: NamespacePlan(spec), timeOffsets: [:]), spec: spec).childDied()
        XCTAssertEqual(initDied.message, "container init exited during setup")
        let execDied = launcher(.exec(containerInit: 42, namespaces: []), spec: spec).childDied()
        XCTAssertEqual(execDied.message, "exec: process exited during setup")
    }

    func testTheSeccompAgentSeesTheContainerAsEachKindFindsIt() throws {
        let spec = try spec(config)
        let initState = launcher(.initProcess(plan: NamespacePlan(spec), timeOffsets: [:]), spec: spec).agentState(7)
        XCTAssertEqual(initState.status, .creating)
        XCTAssertEqual(initState.pid, 7)
        let execState = launcher(.exec(containerInit: 42, namespaces: []), spec: spec).agentState(7)
        XCTAssertEqual(execState.status, .running)
        XCTAssertEqual(execState.pid, 42, "the container's init, not the exec'd process")
    }

    func testHooksAreInitsOnlyExecSendingThemIsAProtocolError() throws {
        let spec = try spec(config)
        var master: Int32?
        // init: the (empty) prestart and createRuntime hooks run, then "hooks-done" is the answer.
        let initLauncher = launcher(.initProcess(plan: NamespacePlan(spec), timeOffsets: [:]), spec: spec)
        XCTAssertEqual(try initLauncher.handle(.hooks, fd: nil, pid: 7, master: &master), .hooksDone)
        // exec: the same message is refused, naming it.
        let execLauncher = launcher(.exec(containerInit: 42, namespaces: []), spec: spec)
        XCTAssertThrowsError(try execLauncher.handle(.hooks, fd: nil, pid: 7, master: &master)) {
            XCTAssertEqual(($0 as? SkiffError)?.code, EPROTO)
            XCTAssertEqual(
                ($0 as? SkiffError)?.message,
                "handshake: exec's process sent \"hooks\", which only a container's init sends")
        }
    }

    func testThePtyMasterIsKeptForEitherKind() throws {
        let spec = try spec(config)
        for kind in [
            LaunchKind.initProcess(plan: NamespacePlan(spec), timeOffsets: [:]),
            .exec(containerInit: 1, namespaces: []),
        ] {
            var master: Int32?
            XCTAssertEqual(try launcher(kind, spec: spec).handle(.pty, fd: 99, pid: 7, master: &master), .ptyDone)
            XCTAssertEqual(master, 99)
        }
    }
}
