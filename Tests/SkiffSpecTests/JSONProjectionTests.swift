// JSON.parse(_:keeping:): only the projected members are built; the rest is skipped but
// checked as strictly as a full parse (Sources/SkiffSpec/JSONParser.swift).
import SkiffSpec
import XCTest

final class JSONProjectionTests: XCTestCase {
    let document = #"""
        {"id": "c1", "pid": 42, "config": {"ociVersion": "1.0.2",
          "process": {"args": ["sh", "-c", "echo \"hi\" \u00e9"], "env": ["A=1"], "user": {"uid": 0}},
          "mounts": [{"destination": "/proc", "options": ["nosuid", "ro"]}], "x": [1.5e3, -0, true, false, null]},
         "annotations": {"k": "v"}}
        """#

    func testKeepsOnlyTheProjectedMembers() throws {
        let projection = JSONProjection(
            members: ["config": .only(["process": .only(["args": .whole])])], keepsOthers: true)
        let json = try JSON.parse(bytes(document), keeping: projection)
        let full = try JSON.parse(document)
        XCTAssertEqual(json.objectValue?.map(\.key), ["id", "pid", "config", "annotations"])
        XCTAssertEqual(json["id"], full["id"])
        XCTAssertEqual(json["pid"], full["pid"])
        XCTAssertEqual(json["annotations"], full["annotations"])
        XCTAssertEqual(json["config"]?.objectValue?.map(\.key), ["process"])
        XCTAssertEqual(json["config"]?["process"]?.objectValue?.map(\.key), ["args"])
        XCTAssertEqual(json["config"]?["process"]?["args"], full["config"]?["process"]?["args"])
        XCTAssertEqual(try JSON.parse(bytes(document), keeping: .whole), full)
        XCTAssertEqual(try JSON.parse(bytes(document), keeping: .only([:])), .object([]))
    }

    /// A value that is not an object where a projection expects one is kept whole, so that
    /// the decoder reports its type.
    func testNonObjectsAreKeptWhole() throws {
        let json = try JSON.parse(bytes(#"{"config": [1, 2], "other": 3}"#), keeping: .only(["config": .only([:])]))
        XCTAssertEqual(json, .object([(key: "config", value: [1, 2])]))
    }

    /// Every malformed document fails the same way, with the same position, whether the
    /// bad part is built or skipped.
    func testSkippedMembersAreCheckedAsStrictly() {
        let bad = [
            "", "{\"a\": 1,}", "{a:1}", "[1,]", "[1 2]", "['a']", "01", "-", "+1", "1.", "1e", "NaN", "tru",
            "\"abc", "\"a\tb\"", "\"\\x\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "[\"é\" x]",
            "{\"a\": [1, {\"b\": ", "{\"a\" 1}", "{\"a\": 1 \"b\": 2}",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for text in bad {
            let doc = bytes("{\"keep\": 1, \"skip\": ") + bytes(text) + bytes("}")
            let full = errorText { try JSON.parse(doc) }
            XCTAssertNotNil(full, text)
            XCTAssertEqual(errorText { try JSON.parse(doc, keeping: .only(["keep": .whole])) }, full, text)
        }
        let invalidUTF8 = bytes("{\"skip\": ") + [0x22, 0x61, 0xFF, 0x22] + bytes("}")
        XCTAssertEqual(
            errorText { try JSON.parse(invalidUTF8, keeping: .only([:])) },
            "invalid JSON at line 1, column 11: invalid UTF-8 in a string")
        XCTAssertEqual(
            errorText { try JSON.parse(bytes("{} x"), keeping: .only([:])) },
            "invalid JSON at line 1, column 4: unexpected data after the JSON value")
    }
}
