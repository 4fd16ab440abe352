// docs/tutorial.md and its French twin docs/tutorial.fr.md are executable: every ```console
// block's "$ " lines are run in order with /bin/sh, and their output must match the lines shown ("..." matches any text
// within a line; a line of just "..." matches any number of lines). Blocks tagged
// `console cgroup2` need a full cgroup v2 hierarchy (the VM suite runs them); blocks tagged
// `console vm-network` change the machine's network and run only in the VM. Both files must
// have the same commands, in the same order, so that the translation cannot drift.
import Foundation
import XCTest

final class TutorialTests: XCTestCase {
    struct Step {
        let command: String
        let expected: [String]
        let cgroup2: Bool
        let network: Bool
        let line: Int
    }

    static func steps(_ markdown: String) -> [Step] {
        var steps: [Step] = []
        var inBlock = false
        var cgroup2 = false
        var network = false
        var command: String?
        var expected: [String] = []
        var start = 0
        func flush() {
            if let c = command {
                steps.append(Step(command: c, expected: expected, cgroup2: cgroup2, network: network, line: start))
            }
            command = nil
            expected = []
        }
        for (n, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated()
        {
            if !inBlock, line.hasPrefix("```console") {
                inBlock = true
                cgroup2 = line.contains("cgroup2")
                network = line.contains("vm-network")
                continue
            }
            guard inBlock else { continue }
            if line == "```" {
                flush()
                inBlock = false
                continue
            }
            if line.hasPrefix("$ ") {
                flush()
                command = String(line.dropFirst(2))
                start = n + 1
            } else {
                expected.append(line)
            }
        }
        return steps
    }

    /// Does `actual` match `pattern` ("..." wildcards)?
    static func matches(_ actual: [String], _ pattern: [String]) -> Bool {
        guard let p = pattern.first else { return actual.isEmpty }
        if p == "..." {
            return (0...actual.count).contains { matches(Array(actual[$0...]), Array(pattern.dropFirst())) }
        }
        guard let a = actual.first, lineMatches(a, p) else { return false }
        return matches(Array(actual.dropFirst()), Array(pattern.dropFirst()))
    }

    static func lineMatches(_ line: String, _ pattern: String) -> Bool {
        let parts = pattern.components(separatedBy: "...")
        guard parts.count > 1 else { return line == pattern }
        guard line.hasPrefix(parts[0]) else { return false }
        var rest = line.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }

    func testMatcher() {
        XCTAssertTrue(Self.matches(["a", "b", "c"], ["a", "...", "c"]))
        XCTAssertTrue(Self.matches(["a", "c"], ["a", "...", "c"]))
        XCTAssertFalse(Self.matches(["a", "b"], ["a", "c"]))
        XCTAssertTrue(Self.lineMatches("pid 123 (0.4 ms)", "pid ... (... ms)"))
        XCTAssertFalse(Self.lineMatches("pid 123 (0.4 s)", "pid ... (... ms)"))
    }

    static func steps(file: String) throws -> [Step] {
        steps(try String(contentsOf: repoRoot.appendingPathComponent(file), encoding: .utf8))
    }

    /// The French lab runs the very same commands as the English one, with the same expected output.
    func testTranslationHasTheSameCommands() throws {
        let en = try Self.steps(file: "docs/tutorial.md")
        let fr = try Self.steps(file: "docs/tutorial.fr.md")
        XCTAssertGreaterThan(en.count, 20)
        for (i, (a, b)) in zip(en, fr).enumerated()
        where a.command != b.command || a.expected != b.expected || a.cgroup2 != b.cgroup2 || a.network != b.network {
            XCTFail(
                "step \(i + 1) differs:\n  tutorial.md:\(a.line):    $ \(a.command)\n  "
                    + "tutorial.fr.md:\(b.line): $ \(b.command)"
                    + (a.command == b.command ? "\n  (same command, different expected output or tag)" : ""))
            break
        }
        XCTAssertEqual(en.count, fr.count, "tutorial.md and tutorial.fr.md have different numbers of commands")
    }

    func testTutorialCommands() throws { try run("docs/tutorial.md") }

    /// In the VM (SKIFF_REQUIRE_CGROUP2=1) the French file runs only its cgroup v2 and network steps: its
    /// other steps, the same as the English ones (see above), ran in the host suite, and the VM
    /// is slow.
    func testTutorialCommandsFrench() throws {
        try run("docs/tutorial.fr.md", onlyCgroup2: ProcessInfo.processInfo.environment["SKIFF_REQUIRE_CGROUP2"] == "1")
    }

    func run(_ file: String, onlyCgroup2: Bool = false) throws {
        let s = try Sandbox()
        let text = try String(contentsOf: repoRoot.appendingPathComponent(file), encoding: .utf8)
        let steps = Self.steps(text)
        XCTAssertGreaterThan(steps.count, 20)
        XCTAssertTrue(!onlyCgroup2 || steps.contains(where: \.cgroup2))
        let haveCgroup2 =
            FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.subtree_control")
            && ((try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? "").contains(
                "memory")
        let requireCgroup2 = ProcessInfo.processInfo.environment["SKIFF_REQUIRE_CGROUP2"] == "1"
        let bin = URL(fileURLWithPath: Env.skiff).deletingLastPathComponent().path
        let env = [
            "PATH": "\(bin):/usr/sbin:/usr/bin:/sbin:/bin", "ALPINE": Env.rootfs!, "SKIFF_ROOT": s.stateRoot,
            "SKIFF_DATA": s.dataRoot,
            "HOME": s.dir.path,
            // Image layers and unpacked --rootfs tarballs stay in the sandbox too.
            "SKIFF_IMAGE_CACHE": s.dir.appendingPathComponent("images").path,
            "SKIFF_CACHE": s.dir.appendingPathComponent("rootfs-cache").path,
            // The bridge steps are not executed here (they change the host's network).
            "SKIFF_DEFAULT_NETWORK": "none",
        ]
        var skipped = 0
        var skippedNetwork = 0
        // `console vm-network` blocks make bridges and iptables rules: only in the throwaway VM
        // (its stage 2 lives in /run/vm), never on a host.
        let inVM = FileManager.default.fileExists(atPath: "/run/vm/stage2")
        if inVM && steps.contains(where: \.network) {
            for m in [
                "bridge", "veth", "br_netfilter", "nf_nat", "xt_MASQUERADE", "xt_comment", "xt_mark", "xt_addrtype",
                "xt_conntrack", "xt_multiport",
            ] { runProgram("/sbin/modprobe", [m]) }
        }
        for step in steps where step.cgroup2 || step.network || !onlyCgroup2 {
            if step.cgroup2 && !haveCgroup2 {
                if requireCgroup2 { XCTFail("tutorial line \(step.line) needs cgroup v2, which this kernel lacks") }
                skipped += 1
                continue
            }
            if step.network && !inVM {
                if requireCgroup2 { XCTFail("tutorial line \(step.line) changes the network: it must run in the VM") }
                skippedNetwork += 1
                continue
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", step.command]
            p.environment = env
            p.currentDirectoryURL = s.dir
            let out = s.dir.appendingPathComponent("tutorial.out")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            let handle = try FileHandle(forWritingTo: out)
            p.standardOutput = handle
            p.standardError = handle
            p.standardInput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try handle.close()
            let actual = (try String(contentsOf: out, encoding: .utf8)).split(
                separator: "\n", omittingEmptySubsequences: false
            ).map(String.init)
            let trimmed = actual.last == "" ? Array(actual.dropLast()) : actual
            XCTAssertTrue(
                Self.matches(trimmed, step.expected),
                "\(file):\(step.line): $ \(step.command)\n--- "
                    + "expected\n\(step.expected.joined(separator: "\n"))\n--- "
                    + "got\n\(trimmed.joined(separator: "\n"))")
        }
        if skipped > 0 {
            print(
                "TutorialTests: \(skipped) cgroup v2 steps not run here (this host has no full "
                    + "cgroup v2 hierarchy)")
        }
        if skippedNetwork > 0 {
            print(
                "TutorialTests: \(skippedNetwork) network steps not run here (they run in "
                    + "the VM)")
        }
        // The tutorial cleans up after itself: every container it made is deleted. The network
        // definitions (and their empty lease directories) outlive containers by design.
        try? FileManager.default.removeItem(atPath: s.stateRoot + "/networks")
        s.assertNothingLeftBehind()
    }
}
