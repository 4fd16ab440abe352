import SkiffSpec
import XCTest

final class JSONParseTests: XCTestCase {
    func testScalars() throws {
        XCTAssertEqual(try JSON.parse("null"), .null)
        XCTAssertEqual(try JSON.parse(" true "), .bool(true))
        XCTAssertEqual(try JSON.parse("false"), .bool(false))
        XCTAssertEqual(try JSON.parse("\"hi\""), .string("hi"))
        XCTAssertEqual(try JSON.parse("-0"), .number("-0"))
        XCTAssertEqual(try JSON.parse("12.5e-3"), .number("12.5e-3"))
        XCTAssertEqual(try JSON.parse("\n\t\r 7 \n"), .number("7"))
    }

    func testObjectsKeepKeyOrder() throws {
        let json = try JSON.parse(#"{"z": 1, "a": [true, null], "m": {}}"#)
        XCTAssertEqual(json.objectValue?.map(\.key), ["z", "a", "m"])
        XCTAssertEqual(json["a"], [true, nil])
        XCTAssertEqual(json["m"], .object([]))
        XCTAssertEqual(json["a"]?[1], .null)
        XCTAssertNil(json["missing"])
    }

    func testRepeatedKeyLookupUsesLast() throws {
        let json = try JSON.parse(#"{"a": 1, "a": 2}"#)
        XCTAssertEqual(json["a"], 2)
        XCTAssertEqual(json.objectValue?.count, 2)
    }

    func testNumbersKeepTheirText() throws {
        let text = "[18446744073709551615,-9223372036854775808,1.5e10,0.1,1E+2,99999999999999999999]"
        let json = try JSON.parse(text)
        XCTAssertEqual(json.serialized(), text)
        XCTAssertEqual(json[0]?.uint64Value, UInt64.max)
        XCTAssertNil(json[0]?.int64Value)
        XCTAssertEqual(json[1]?.int64Value, Int64.min)
        XCTAssertNil(json[2]?.int64Value)
        XCTAssertEqual(json[2]?.doubleValue, 1.5e10)
        XCTAssertNil(json[5]?.uint64Value)
    }

    func testStringEscapes() throws {
        let json = try JSON.parse(#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#)
        XCTAssertEqual(json, .string("a\"b\\c/d\u{8}\u{c}\n\r\tAé😀"))
        XCTAssertEqual(try JSON.parse(bytes("\"héllo ✓\"")), .string("héllo ✓"))
    }

    func testSyntaxErrors() {
        let cases: [(String, String)] = [
            ("", "invalid JSON at line 1, column 1: unexpected end of input"),
            ("{\"x\": {\n\"a\": 1,\n\"b\":2 \"c\": 3}}", "invalid JSON at line 3, column 7: expected ',' or '}'"),
            ("{\n  \"a\": 1,\n  \"b\" 2\n}", "invalid JSON at line 3, column 7: expected ':'"),
            ("[1,]", "invalid JSON at line 1, column 4: expected a value"),
            ("[1 2]", "invalid JSON at line 1, column 4: expected ',' or ']'"),
            ("{\"a\":1,}", "invalid JSON at line 1, column 8: expected a string (object key)"),
            ("{a:1}", "invalid JSON at line 1, column 2: expected a string (object key)"),
            ("['a']", "invalid JSON at line 1, column 2: expected a value"),
            ("01", "invalid JSON at line 1, column 2: invalid number: leading zero"),
            ("-", "invalid JSON at line 1, column 2: invalid number: expected a digit"),
            ("+1", "invalid JSON at line 1, column 1: expected a value"),
            (".5", "invalid JSON at line 1, column 1: expected a value"),
            ("1.", "invalid JSON at line 1, column 3: invalid number: expected a digit after '.'"),
            ("1e", "invalid JSON at line 1, column 3: invalid number: expected a digit in the exponent"),
            ("NaN", "invalid JSON at line 1, column 1: expected a value"),
            ("tru", "invalid JSON at line 1, column 1: expected a value"),
            ("nulll", "invalid JSON at line 1, column 5: unexpected data after the JSON value"),
            ("{} // comment", "invalid JSON at line 1, column 4: unexpected data after the JSON value"),
            ("\"abc", "invalid JSON at line 1, column 5: unexpected end of input in a string"),
            ("\"a\tb\"", "invalid JSON at line 1, column 3: control character in a string (use an escape such as \\n)"),
            ("\"\\x\"", "invalid JSON at line 1, column 3: invalid escape sequence"),
            ("\"\\u12G4\"", "invalid JSON at line 1, column 6: invalid \\u escape: expected 4 hex digits"),
            ("\"\\ud800\"", "invalid JSON at line 1, column 8: invalid \\u escape: unpaired surrogate"),
            ("\"\\udc00\"", "invalid JSON at line 1, column 8: invalid \\u escape: unpaired surrogate"),
            ("[\"é\" x]", "invalid JSON at line 1, column 6: expected ',' or ']'"),
            ("{\"a\": [1, {\"b\": ", "invalid JSON at line 1, column 17: unexpected end of input"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(errorText { try JSON.parse(text) }, expected, "input: \(text)")
        }
    }

    func testRejectsInvalidUTF8AndBOM() {
        XCTAssertEqual(
            errorText { try JSON.parse([0x22, 0x61, 0xFF, 0x22]) },
            "invalid JSON at line 1, column 2: invalid UTF-8 in a string")
        XCTAssertEqual(
            errorText { try JSON.parse([0xEF, 0xBB, 0xBF] + bytes("{}")) },
            "invalid JSON at line 1, column 1: expected a value")
    }

    func testNestingLimit() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        XCTAssertEqual(
            errorText { try JSON.parse(deep) },
            "invalid JSON at line 1, column 513: nested too deeply (more than 512 levels)")
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        XCTAssertNoThrow(try JSON.parse(ok))
    }

    func testErrorsAreSpecErrorsWithEmptyPath() {
        do {
            _ = try JSON.parse("[")
            XCTFail("expected an error")
        } catch let error as SpecError {
            XCTAssertEqual(error.path, "")
            XCTAssertEqual(error.message, "invalid JSON at line 1, column 2: unexpected end of input")
        } catch {
            XCTFail("unexpected error type \(error)")
        }
    }
}

final class JSONSerializeTests: XCTestCase {
    let sample: JSON = [
        "name": "x",
        "list": [1, 2, ["nested": true]],
        "emptyList": [],
        "emptyObject": [:],
        "nothing": nil,
    ]

    func testCompactLikeGoMarshal() {
        XCTAssertEqual(
            sample.serialized(),
            #"{"name":"x","list":[1,2,{"nested":true}],"emptyList":[],"emptyObject":{},"nothing":null}"#)
    }

    func testIndentedLikeGoMarshalIndent() {
        let expected = """
            {
            \t"name": "x",
            \t"list": [
            \t\t1,
            \t\t2,
            \t\t{
            \t\t\t"nested": true
            \t\t}
            \t],
            \t"emptyList": [],
            \t"emptyObject": {},
            \t"nothing": null
            }
            """
        XCTAssertEqual(sample.serialized(indent: "\t"), expected)
        XCTAssertEqual(sample.serialized(indent: "  "), expected.replacingTabs(with: "  "))
    }

    func testScalarsAtTopLevel() {
        XCTAssertEqual(JSON.string("a").serialized(indent: "\t"), "\"a\"")
        XCTAssertEqual(JSON.array([]).serialized(indent: "\t"), "[]")
        XCTAssertEqual(JSON.integer(UInt64.max).serialized(), "18446744073709551615")
        XCTAssertEqual(JSON.double(2).serialized(), "2")
        XCTAssertEqual(JSON.double(0.5).serialized(), "0.5")
        XCTAssertEqual(JSON.double(.nan), .null)
    }

    func testEscapingLikeGo() {
        let s = JSON.string("a\"b\\c\n\r\t\u{1}\u{8}\u{1f}<>&\u{2028}é😀/")
        XCTAssertEqual(s.serialized(), #""a\"b\\c\n\r\t\u0001\u0008\u001f<>&\u2028é😀/""#)
        XCTAssertEqual(JSON.object([(key: "k\"ey", value: 1)]).serialized(), #"{"k\"ey":1}"#)
    }

    func testRoundTrip() throws {
        let text = #"{"a":[1,2.50,"x\u0001"],"b":{"c":null,"d":false},"e":-0}"#
        XCTAssertEqual(try JSON.parse(text).serialized(), text)
        let indented = try JSON.parse(text).serialized(indent: "\t")
        XCTAssertEqual(try JSON.parse(indented), try JSON.parse(text))
    }
}

extension String {
    fileprivate func replacingTabs(with s: String) -> String {
        var out = ""
        for c in self { if c == "\t" { out += s } else { out.append(c) } }
        return out
    }
}
