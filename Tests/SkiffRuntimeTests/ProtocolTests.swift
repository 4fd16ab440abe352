// The skiff <-> init/exec handshake (Sources/SkiffRuntime/Process/Sync.swift), without root:
// the encoding of every message, and what each side does when the other sends
// something else than what the table says (it throws, naming both; never a silent exit).
import Glibc
import XCTest

@testable import SkiffRuntime

final class ProtocolTests: XCTestCase {
    static let every: [SyncMessage] = [
        .go(hostPid: 4242), .pty, .ptyDone, .hooks, .hooksDone, .seccompListener, .seccompDone, .ready, .created,
        .start,
        .error(ChildError(step: "rootfs", code: EACCES, message: "mounts[3] /data: Permission denied")),
    ]

    func testEveryMessageRoundTrips() throws {
        for m in Self.every {
            XCTAssertEqual(try SyncMessage.decode(m.encoded()), m, m.name)
        }
        XCTAssertEqual(Set(Self.every.map(\.name)).count, Self.every.count, "names are unique")
        XCTAssertEqual(Self.every.filter(\.carriesFd).map(\.name), ["pty", "seccomp-listener"])
    }

    func testErrorKeepsStepErrnoAndAMultiLineMessage() throws {
        let e = ChildError(step: "startContainer\nhooks", code: ENOENT, message: "line one\nline two")
        guard case .error(let back) = try SyncMessage.decode(SyncMessage.error(e).encoded()) else { return XCTFail() }
        XCTAssertEqual(back.step, "startContainer hooks") // a step is one line
        XCTAssertEqual(back.code, ENOENT)
        XCTAssertEqual(back.message, "line one\nline two")
        XCTAssertEqual(back.skiffError.code, ENOENT)
        XCTAssertEqual(back.skiffError.message, "line one\nline two")
    }

    func testAnErrorFromAThrownSkiffErrorKeepsItsErrno() {
        let e = ChildError(SkiffError("open exec.fifo: Permission denied", code: EACCES), step: "waiting for start")
        XCTAssertEqual(
            e, ChildError(step: "waiting for start", code: EACCES, message: "open exec.fifo: Permission denied"))
    }

    func testMalformedMessagesAreRejected() {
        for text in [
            "", "go", "go\nabc", "go\n-1", "go\n1\n2", "error\nx\nstep\nmsg", "error\n1\nstep", "bogus", "ready\nextra",
            "READY",
        ] {
            XCTAssertThrowsError(try SyncMessage.decode(Array(text.utf8)), text.debugDescription) { error in
                XCTAssertEqual((error as? SkiffError)?.code, EPROTO, text.debugDescription)
                XCTAssertTrue((error as? SkiffError)?.message.hasPrefix("handshake: malformed message") == true)
            }
        }
    }

    // MARK: over a real socketpair

    private func pair() throws -> (SyncSocket, SyncSocket) {
        let (a, b) = try SyncSocket.pair()
        addTeardownBlock {
            a.close()
            b.close()
        }
        return (a, b)
    }

    func testEveryMessageCrossesTheSocket() throws {
        let (skiff, child) = try pair()
        for m in Self.every where !m.carriesFd { try skiff.send(m) }
        for m in Self.every where !m.carriesFd {
            let got = try XCTUnwrap(try child.receive())
            XCTAssertEqual(got.0, m)
            XCTAssertNil(got.1)
        }
    }

    func testAnFdTravelsWithPty() throws {
        let (skiff, child) = try pair()
        var p: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&p), 0)
        defer {
            close(p[0])
            close(p[1])
        }
        try child.send(.pty, fd: p[0])
        let (message, fd) = try XCTUnwrap(try skiff.receive())
        XCTAssertEqual(message, .pty)
        let received = try XCTUnwrap(fd)
        defer { close(received) }
        XCTAssertNotEqual(received, p[0])
        XCTAssertEqual(write(p[1], "x", 1), 1)
        var byte: UInt8 = 0
        XCTAssertEqual(read(received, &byte, 1), 1)
        XCTAssertEqual(byte, UInt8(ascii: "x"))
    }

    func testExpectReturnsTheExpectedMessage() throws {
        let (skiff, child) = try pair()
        try skiff.send(.go(hostPid: 77))
        XCTAssertEqual(try child.expect(.go(hostPid: 1)).0, .go(hostPid: 77))
    }

    /// The child waits for "go" and gets something else: it throws, naming both.
    func testExpectThrowsOnAnUnexpectedMessage() throws {
        let (skiff, child) = try pair()
        try skiff.send(.start)
        XCTAssertThrowsError(try child.expect(.go(hostPid: 1))) { error in
            XCTAssertEqual((error as? SkiffError)?.message, "handshake: expected \"go\", received \"start\"")
            XCTAssertEqual((error as? SkiffError)?.code, EPROTO)
        }
    }

    func testExpectThrowsWhenTheOtherSideIsGone() throws {
        let (skiff, child) = try SyncSocket.pair()
        defer { child.close() }
        skiff.close()
        XCTAssertThrowsError(try child.expect(.hooksDone)) { error in
            XCTAssertEqual(
                (error as? SkiffError)?.message,
                "handshake: the other side closed the socket while \"hooks-done\" was expected")
        }
    }

    func testExpectThrowsTheOtherSidesError() throws {
        let (skiff, child) = try pair()
        try child.send(
            .error(ChildError(step: "process", code: EPERM, message: "setuid 1000: Operation not permitted")))
        XCTAssertThrowsError(try skiff.expect(.ready)) { error in
            XCTAssertEqual((error as? SkiffError)?.message, "setuid 1000: Operation not permitted")
            XCTAssertEqual((error as? SkiffError)?.code, EPERM)
        }
    }

    /// skiff's loop hands pty/hooks/seccomp-listener to its handler, in order, until ready.
    func testReceiveUntilReadyHandsOverEachMessageThenStops() throws {
        let (skiff, child) = try pair()
        var p: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&p), 0)
        defer {
            close(p[0])
            close(p[1])
        }
        try child.send(.pty, fd: p[0])
        try child.send(.hooks)
        try child.send(.seccompListener, fd: p[1])
        try child.send(.ready)
        try child.send(.hooks) // after ready: not read by the loop
        var seen: [String] = []
        let answers: [String: SyncMessage] = ["pty": .ptyDone, "hooks": .hooksDone, "seccomp-listener": .seccompDone]
        // swift-format-ignore: OnlyOneTrailingClosureArgument
        try skiff.receiveUntilReady(first: .go(hostPid: 5), eof: { SkiffError("eof") }) { message, fd in
            seen.append(message.name + (fd == nil ? "" : "+fd"))
            if let fd { close(fd) }
            return answers[message.name]!
        }
        XCTAssertEqual(seen, ["pty+fd", "hooks", "seccomp-listener+fd"])
        XCTAssertEqual(try skiff.receive()?.0, .hooks)
        // "go" first, then each answer, in order.
        for m: SyncMessage in [.go(hostPid: 5), .ptyDone, .hooksDone, .seccompDone] {
            XCTAssertEqual(try child.receive()?.0, m)
        }
    }

    /// `ask` sends and returns the answer in one call; a wrong answer throws, naming both.
    func testAskReturnsTheAnswer() throws {
        let (skiff, child) = try pair()
        try skiff.send(.hooksDone) // already waiting: the answer to the question below
        XCTAssertEqual(try child.ask(.hooks, expect: .hooksDone).0, .hooksDone)
        XCTAssertEqual(try skiff.receive()?.0, .hooks)
        try skiff.send(.start)
        XCTAssertThrowsError(try child.ask(.ready, expect: .created)) { error in
            XCTAssertEqual((error as? SkiffError)?.message, "handshake: expected \"created\", received \"start\"")
        }
    }

    /// `finish` sends the last message and returns at EOF (init closed its end, or execve did).
    func testFinishWaitsForTheEndOfTheHandshake() throws {
        let (skiff, child) = try SyncSocket.pair()
        defer { skiff.close() }
        try child.send(.ready) // stands for an answer that must not come: finish refuses it
        XCTAssertThrowsError(try skiff.finish(.created)) { error in
            XCTAssertEqual(
                (error as? SkiffError)?.message, "handshake: expected the end of the handshake, received \"ready\"")
        }
        defer { child.close() }
        _ = shutdown(child.fd, Int32(SHUT_WR)) // the child's end says EOF, and still receives
        XCTAssertNoThrow(try skiff.finish(.start))
        XCTAssertEqual(try child.receive()?.0, .created)
        XCTAssertEqual(try child.receive()?.0, .start)
    }

    func testReceiveUntilReadyRejectsWhatOnlySkiffSends() throws {
        for m: SyncMessage in [.go(hostPid: 3), .hooksDone, .ptyDone, .seccompDone, .created, .start] {
            let (skiff, child) = try pair()
            try child.send(m)
            XCTAssertThrowsError(
                try skiff.receiveUntilReady(first: nil, eof: { SkiffError("eof") }) { _, _ in
                    XCTFail("handled \(m.name)")
                    return .hooksDone
                }
            ) { error in
                XCTAssertEqual(
                    (error as? SkiffError)?.message, "handshake: the child sent \"\(m.name)\", which only skiff sends")
                XCTAssertEqual((error as? SkiffError)?.code, EPROTO)
            }
        }
    }

    func testReceiveUntilReadyThrowsTheChildsErrorOrEOF() throws {
        let (skiff, child) = try pair()
        try child.send(.hooks)
        try child.send(
            .error(ChildError(step: "rootfs", code: ENOENT, message: "mounts[0] /x: No such file or directory")))
        var handled = 0
        XCTAssertThrowsError(
            try skiff.receiveUntilReady(first: nil, eof: { SkiffError("eof") }) { _, _ in
                handled += 1
                return .hooksDone
            }
        ) {
            error in
            XCTAssertEqual((error as? SkiffError)?.message, "mounts[0] /x: No such file or directory")
            XCTAssertEqual((error as? SkiffError)?.code, ENOENT)
        }
        XCTAssertEqual(handled, 1)

        let (skiff2, child2) = try SyncSocket.pair()
        defer { skiff2.close() }
        child2.close()
        XCTAssertThrowsError(
            try skiff2.receiveUntilReady(first: nil, eof: { SkiffError("container init exited during setup") }) {
                _, _ in .hooksDone
            }
        ) { error in
            XCTAssertEqual((error as? SkiffError)?.message, "container init exited during setup")
        }
    }

    /// After create, init reports to init.error instead of the socket; `start` reads it.
    func testReportFileRoundTrips() throws {
        let path = "/tmp/skiff-protocol-test-\(getpid())"
        defer { unlink(path) }
        let e = ChildError(step: "exec", code: ENOEXEC, message: "exec /x: Exec format error")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertNil(ChildExit.readReport(path), "an empty report is no failure")
        try writeAll(fd, SyncMessage.error(e).encoded())
        close(fd)
        XCTAssertEqual(ChildExit.readReport(path), e)
        XCTAssertNil(ChildExit.readReport(path + ".missing"))
    }
}
