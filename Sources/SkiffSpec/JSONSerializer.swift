// Writing JSON text, in the same shapes Go's encoding/json produces:
//
//   indent nil    -> like json.Marshal:        {"a":[1,2],"b":{}}
//   indent "\t"   -> like json.MarshalIndent:  {
//                                                  "a": [
//                                                      1,
//                                                      2
//                                                  ],
//                                                  "b": {}
//                                              }
//
// Strings are escaped as Go does, except that '<', '>' and '&' are left
// alone (Go turns them into \u003c etc. for embedding in HTML).

extension JSON {
    /// The JSON text of this value. `indent` nil gives compact output;
    /// otherwise each nesting level is indented by `indent` (e.g. "\t").
    /// No trailing newline is added.
    public func serialized(indent: String? = nil) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text): out += text
        case .string(let s):
            out += "\""
            appendEscaped(s, to: &out)
            out += "\""
        case .array(let elements):
            if elements.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                element.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                out += "\""
                appendEscaped(member.key, to: &out)
                out += indent == nil ? "\":" : "\": "
                member.value.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }
}

/// Appends `s` escaped for the inside of a JSON string literal:
/// `\"`, `\\`, `\n`, `\r`, `\t`, `\u00XX` for the other control characters,
/// and `\u2028`/`\u2029` (line/paragraph separators), as Go does.
func appendEscaped(_ s: String, to out: inout String) {
    let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{2028}": out += "\\u2028"
        case "\u{2029}": out += "\\u2029"
        default:
            if scalar.value < 0x20 {
                out += "\\u00"
                out.append(hex[Int(scalar.value >> 4)])
                out.append(hex[Int(scalar.value & 0xF)])
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
}
