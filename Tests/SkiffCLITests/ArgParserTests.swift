// The runc-style argument parser (Sources/skiff/Args.swift): urfave/cli's grammar, plus
// Docker's bundled short flags. Tested through the executable module itself.
import SkiffRuntime
import XCTest

@testable import skiff

final class ArgParserTests: XCTestCase {
    let flags = [
        Flag(names: ["bundle", "b"], takesValue: true, help: "the bundle"),
        Flag(names: ["detach", "d"], takesValue: false, help: "detach"),
        Flag(names: ["tty", "t"], takesValue: false, help: "tty"),
        Flag(names: ["interactive", "i"], takesValue: false, help: "stdin"),
        Flag(names: ["env", "e"], takesValue: true, help: "env"),
    ]

    func parse(_ args: [String], anywhere: Bool = false) throws -> ParsedArgs {
        try ArgParser.parse(args[...], flags: flags, stopAtPositional: !anywhere)
    }

    func testSingleOrDoubleDashValueAsNextWordOrAfterEquals() throws {
        for args in [
            ["--bundle", "/b", "id"], ["-bundle", "/b", "id"], ["--bundle=/b", "id"], ["-b", "/b", "id"],
            ["-b=/b", "id"],
        ] {
            let a = try parse(args)
            XCTAssertEqual(a.value("bundle"), "/b", "\(args)")
            XCTAssertEqual(a.positionals, ["id"], "\(args)")
        }
    }

    func testParsingStopsAtTheFirstPositional() throws {
        let a = try parse(["-d", "id", "sh", "-c", "echo --bundle"])
        XCTAssertTrue(a.bool("detach"))
        XCTAssertEqual(a.positionals, ["id", "sh", "-c", "echo --bundle"])
        XCTAssertFalse(a.has("bundle"))
        // kill and list take flags after positionals too.
        let b = try parse(["id", "-d", "KILL"], anywhere: true)
        XCTAssertTrue(b.bool("detach"))
        XCTAssertEqual(b.positionals, ["id", "KILL"])
    }

    func testDoubleDashAndLoneDash() throws {
        XCTAssertEqual(try parse(["--", "-d", "x"]).positionals, ["-d", "x"])
        XCTAssertFalse(try parse(["--", "-d"]).bool("detach"))
        XCTAssertEqual(try parse(["-", "x"]).positionals, ["-", "x"])
    }

    func testBooleansAsGoWritesThem() throws {
        XCTAssertFalse(try parse(["--detach=false"]).bool("detach"))
        XCTAssertTrue(try parse(["--detach=true"]).bool("detach"))
        XCTAssertFalse(try parse([]).bool("detach"))
        XCTAssertTrue(try parse(["--detach=false", "-d"]).bool("detach"), "the last one counts")
    }

    func testRepeatedValuesAreKeptInOrder() throws {
        let a = try parse(["-e", "A=1", "--env", "B=2", "--env=C=3"])
        XCTAssertEqual(a.all("env"), ["A=1", "B=2", "C=3"])
        XCTAssertEqual(a.value("env"), "C=3")
    }

    func testBundledShortFlags() throws {
        let a = try parse(["-it", "id"])
        XCTAssertTrue(a.bool("interactive"))
        XCTAssertTrue(a.bool("tty"))
        // Only boolean one-letter flags bundle; --it is one long name.
        XCTAssertThrowsError(try parse(["-ib", "x"])) {
            XCTAssertEqual(message($0), "flag provided but not defined: -ib")
        }
        XCTAssertThrowsError(try parse(["--it"])) { XCTAssertEqual(message($0), "flag provided but not defined: -it") }
    }

    func testErrorsSayWhichFlag() {
        XCTAssertThrowsError(try parse(["--nope"])) {
            XCTAssertEqual(message($0), "flag provided but not defined: -nope")
        }
        XCTAssertThrowsError(try parse(["--bundle"])) { XCTAssertEqual(message($0), "flag needs an argument: -bundle") }
    }

    func testUsageListsEveryNameAndValue() {
        let usage = ArgParser.usage(Array(flags.prefix(2)))
        XCTAssertEqual(
            usage.split(separator: "\n").map { $0.trimmingTrailingSpaces },
            [
                "   --bundle, -b value             the bundle",
                "   --detach, -d                   detach",
            ])
    }

    /// A command's flags: no name used twice (the first would silently win). `run` joins
    /// three lists (create's, its own, quick-run's). (main.swift's `commands` table is
    /// top-level code, which does not run in a test process: the types are named here.)
    func testNoDuplicateFlagNames() {
        let all: [Command.Type] = [
            CreateCommand.self, RunCommand.self, ExecCommand.self, SpecCommand.self, UpdateCommand.self,
            KillCommand.self, DeleteCommand.self, ListCommand.self, EventsCommand.self, PsCommand.self,
        ]
        for command in all {
            let names = command.flags.flatMap(\.names)
            XCTAssertEqual(names.count, Set(names).count, "skiff \(command.name): \(names)")
        }
    }
}

extension Substring {
    var trimmingTrailingSpaces: String { String(reversed().drop { $0 == " " }.reversed()) }
}

func message(_ error: Error) -> String {
    (error as? SkiffError)?.message ?? "\(error)"
}
