// SpecEnum: string values from a closed list.
//
// Several spec fields take one of a fixed set of strings (namespace types,
// seccomp actions, ...). Modelling them as Swift enums lets the runtime
// switch over them exhaustively, and rejects a typo while decoding with a
// message that names the field and the bad value:
//
//     linux.namespaces[2].type: unknown namespace "pidd"

/// A string enumeration of the OCI spec. `kind` names what the values are
/// ("namespace", "action", ...) for error messages.
public protocol SpecEnum: RawRepresentable, CaseIterable, Codable, Hashable, Sendable
where RawValue == String {
    /// What one value is called in error messages, e.g. "namespace".
    static var kind: String { get }
}

extension SpecEnum {
    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw SpecError(path: renderPath(decoder.codingPath), message: "unknown \(Self.kind) \(quoted(raw))")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
