// SpecError: the one error type of this module.
//
// Every problem found while reading a config.json (bad JSON syntax, a value
// of the wrong type, a missing field, a rule of the spec that is broken) is
// reported as a SpecError that names *where* in the document the problem is,
// using the same path a person would type to find it:
//
//     process.args: expected an array of strings
//     linux.namespaces[2].type: unknown namespace "pidd"
//     linux.sysctl["net.ipv4.ip_forward"]: expected a string

/// A problem in a configuration document, with the JSON path where it was found.
public struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where the problem is, e.g. `linux.namespaces[2].type`. Empty for the document itself.
    public var path: String
    /// What is wrong, e.g. `unknown namespace "pidd"`.
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `"path: message"`, or just the message when the path is empty.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}

// MARK: - Paths

/// The coding key used for the entries of a `[String: Value]` dictionary.
/// Paths show these keys in brackets (`sysctl["net.core.somaxconn"]`) because
/// such keys often contain dots themselves.
struct DictionaryKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// The coding key used for the elements of an array.
struct IndexKey: CodingKey {
    var index: Int
    var stringValue: String { String(index) }
    var intValue: Int? { index }
    init(_ index: Int) { self.index = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { index = intValue }
}

/// Renders coding keys as a path: `linux.namespaces[2].type`, `annotations["a.b"]`.
func renderPath(_ keys: [CodingKey]) -> String {
    var out = ""
    for key in keys {
        if key is DictionaryKey {
            out += "[" + quoted(key.stringValue) + "]"
        } else if let index = key.intValue {
            out += "[\(index)]"
        } else {
            if !out.isEmpty { out += "." }
            out += key.stringValue
        }
    }
    return out
}

/// A string in double quotes, escaped like a JSON string (and like Go's %q for
/// ordinary text), for use inside error messages.
func quoted(_ s: String) -> String {
    var out = "\""
    appendEscaped(s, to: &out)
    out += "\""
    return out
}
