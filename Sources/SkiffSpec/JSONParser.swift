// A strict RFC 8259 JSON parser.
//
// Strict means: no comments, no trailing commas, no single quotes, no
// leading zeros or "+1" or ".5" or NaN, no raw control characters inside
// strings, no lone UTF-16 surrogates in \u escapes, no invalid UTF-8 and
// no byte-order mark. Errors say where the problem is, in lines and
// columns counted from 1:
//
//     invalid JSON at line 3, column 7: expected ',' or '}'

extension JSON {
    /// Parses one JSON document (surrounded by optional whitespace).
    /// Throws a `SpecError` with an empty path on a syntax error.
    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        var parser = JSONParser(bytes)
        return try parser.parseDocument()
    }

    /// Parses one JSON document from text.
    public static func parse(_ text: String) throws -> JSON {
        try parse(Array(text.utf8))
    }

    /// Parses one JSON document but builds only the members `projection` keeps: the
    /// others are checked as strictly as the rest and skipped without being built.
    public static func parse(_ bytes: [UInt8], keeping projection: JSONProjection) throws -> JSON {
        var parser = JSONParser(bytes)
        return try parser.parseDocument(projection)
    }
}

/// Which members of JSON objects to build when parsing (JSON.parse(_:keeping:)), for a
/// reader that needs a few fields of a large document: `skiff list` reads ten fields of
/// each container's state.json, not the whole config it carries. Skipping a member is
/// several times cheaper than building it and then throwing it away.
public struct JSONProjection: Sendable {
    /// Members projected further (their value, when it is an object, by their projection).
    public var members: [String: JSONProjection]
    /// Whether the members not named in `members` are kept whole or skipped.
    public var keepsOthers: Bool

    public init(members: [String: JSONProjection] = [:], keepsOthers: Bool) {
        self.members = members
        self.keepsOthers = keepsOthers
    }

    /// The whole value.
    public static let whole = JSONProjection(keepsOthers: true)

    /// Only the named members of an object.
    public static func only(_ members: [String: JSONProjection]) -> JSONProjection {
        JSONProjection(members: members, keepsOthers: false)
    }
}

struct JSONParser {
    /// Deeper nesting than this is refused, so a hostile document cannot
    /// overflow the stack.
    static let maxDepth = 512

    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument(_ projection: JSONProjection? = nil) throws -> JSON {
        skipWhitespace()
        let value = try parseValue(projection)
        skipWhitespace()
        if pos < bytes.count {
            throw error("unexpected data after the JSON value")
        }
        return value
    }

    // MARK: Values

    /// A value; an object is built as `projection` says (nil: whole).
    private mutating func parseValue(_ projection: JSONProjection? = nil) throws -> JSON {
        guard let byte = peek() else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(projection)
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("expected a value")
        }
    }

    private mutating func parseObject(_ projection: JSONProjection?) throws -> JSON {
        try enter()
        pos += 1 // '{'
        var members: [(key: String, value: JSON)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw error(peek() == nil ? "unexpected end of input" : "expected a string (object key)")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error(peek() == nil ? "unexpected end of input" : "expected ':'")
            }
            pos += 1
            skipWhitespace()
            if let projection {
                if let inner = projection.members[key] {
                    let whole = inner.keepsOthers && inner.members.isEmpty
                    members.append((key: key, value: try parseValue(whole ? nil : inner)))
                } else if projection.keepsOthers {
                    members.append((key: key, value: try parseValue()))
                } else {
                    try skipValue()
                }
            } else {
                members.append((key: key, value: try parseValue()))
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                depth -= 1
                return .object(members)
            case nil: throw error("unexpected end of input")
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws -> JSON {
        try enter()
        pos += 1 // '['
        var elements: [JSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"):
                pos += 1
                depth -= 1
                return .array(elements)
            case nil: throw error("unexpected end of input")
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > JSONParser.maxDepth {
            throw error("nested too deeply (more than \(JSONParser.maxDepth) levels)")
        }
    }

    private mutating func expectLiteral(_ word: String) throws {
        let start = pos
        for expected in word.utf8 {
            guard peek() == expected else {
                pos = start
                throw error("expected a value")
            }
            pos += 1
        }
    }

    // MARK: Skipping (JSONProjection)

    /// Check a value as parseValue would, without building it.
    private mutating func skipValue() throws {
        guard let byte = peek() else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): try skipContainer(close: UInt8(ascii: "}"), members: true)
        case UInt8(ascii: "["): try skipContainer(close: UInt8(ascii: "]"), members: false)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw error("expected a value")
        }
    }

    /// An object (`members`: "key": value pairs) or an array, with the same errors.
    private mutating func skipContainer(close: UInt8, members: Bool) throws {
        try enter()
        pos += 1
        skipWhitespace()
        if peek() == close {
            pos += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            if members {
                guard peek() == UInt8(ascii: "\"") else {
                    throw error(peek() == nil ? "unexpected end of input" : "expected a string (object key)")
                }
                try skipString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else {
                    throw error(peek() == nil ? "unexpected end of input" : "expected ':'")
                }
                pos += 1
                skipWhitespace()
            }
            try skipValue()
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case close:
                pos += 1
                depth -= 1
                return
            case nil: throw error("unexpected end of input")
            default: throw error(members ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// A string, with its escapes and UTF-8 checked, not decoded into a String.
    private mutating func skipString() throws {
        pos += 1 // opening quote
        let start = pos
        var ascii = true
        var scratch: [UInt8] = [] // what escapes decode to, thrown away
        while true {
            guard let b = peek() else { throw error("unexpected end of input in a string") }
            switch b {
            case UInt8(ascii: "\""):
                // Escapes are ASCII and checked on their own: the raw bytes are valid UTF-8
                // exactly when the string is.
                if !ascii { _ = try makeString(bytes[start..<pos], startingAt: start) }
                pos += 1
                return
            case UInt8(ascii: "\\"):
                scratch.removeAll(keepingCapacity: true)
                try parseEscape(into: &scratch)
            case 0..<0x20:
                throw error("control character in a string (use an escape such as \\n)")
            default:
                if b >= 0x80 { ascii = false }
                pos += 1
            }
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws -> JSON {
        let start = pos
        try scanNumber()
        // The literal is plain ASCII, so this conversion cannot fail.
        return .number(String(decoding: bytes[start..<pos], as: UTF8.self))
    }

    /// number = [ "-" ] ( "0" / digit1-9 *digit ) [ "." 1*digit ] [ ( "e" / "E" ) [ "+" / "-" ] 1*digit ]
    private mutating func scanNumber() throws {
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek(), isDigit(first) else {
            throw error("invalid number: expected a digit")
        }
        pos += 1
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) {
            throw error("invalid number: leading zero")
        }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard let d = peek(), isDigit(d) else {
                throw error("invalid number: expected a digit after '.'")
            }
            skipDigits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            pos += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { pos += 1 }
            guard let d = peek(), isDigit(d) else {
                throw error("invalid number: expected a digit in the exponent")
            }
            skipDigits()
        }
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let b = peek(), isDigit(b) { pos += 1 }
    }

    // MARK: Strings

    private mutating func parseString() throws -> String {
        pos += 1 // opening quote
        let start = pos
        // Fast path: no escapes, so the bytes are the string.
        while let b = peek(), b != UInt8(ascii: "\""), b != UInt8(ascii: "\\"), b >= 0x20 {
            pos += 1
        }
        if peek() == UInt8(ascii: "\"") {
            let s = try makeString(bytes[start..<pos], startingAt: start)
            pos += 1
            return s
        }
        // Slow path: copy what we have, then decode escapes.
        var buffer = Array(bytes[start..<pos])
        while true {
            guard let b = peek() else { throw error("unexpected end of input in a string") }
            switch b {
            case UInt8(ascii: "\""):
                let s = try makeString(buffer[...], startingAt: start)
                pos += 1
                return s
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw error("control character in a string (use an escape such as \\n)")
            default:
                buffer.append(b)
                pos += 1
            }
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws {
        pos += 1 // backslash
        guard let c = peek() else { throw error("unexpected end of input in a string") }
        pos += 1
        switch c {
        case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xD800...0xDBFF).contains(code) {
                // A high surrogate must be followed by \u and a low surrogate.
                guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else {
                    throw error("invalid \\u escape: unpaired surrogate")
                }
                pos += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("invalid \\u escape: unpaired surrogate")
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(code) {
                throw error("invalid \\u escape: unpaired surrogate")
            }
            // Not a surrogate, so always a valid scalar.
            let scalar = Unicode.Scalar(code)!
            buffer.append(contentsOf: UTF8.encode(scalar)!)
        default:
            pos -= 1
            throw error("invalid escape sequence")
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let b = peek() else { throw error("unexpected end of input in a string") }
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape: expected 4 hex digits")
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }

    /// Turns raw string bytes into a String, refusing invalid UTF-8.
    private func makeString(_ raw: ArraySlice<UInt8>, startingAt start: Int) throws -> String {
        if let s = String(validating: raw, as: UTF8.self) { return s }
        var copy = self
        copy.pos = start
        throw copy.error("invalid UTF-8 in a string")
    }

    // MARK: Helpers

    private func peek(_ offset: Int = 0) -> UInt8? {
        pos + offset < bytes.count ? bytes[pos + offset] : nil
    }

    private mutating func skipWhitespace() {
        while let b = peek(),
            b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\t")
        {
            pos += 1
        }
    }

    /// A syntax error at the current position.
    private func error(_ message: String) -> SpecError {
        var line = 1
        var lineStart = 0
        let end = min(pos, bytes.count)
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        // Columns count characters (Unicode scalars), not bytes.
        var column = 1
        for i in lineStart..<end where bytes[i] & 0xC0 != 0x80 {
            column += 1
        }
        return SpecError(path: "", message: "invalid JSON at line \(line), column \(column): \(message)")
    }
}
