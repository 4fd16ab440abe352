// JSONCodec: Swift's Codable on top of the JSON type.
//
// The model types (Spec, Process, ...) only declare `Codable`; the compiler
// writes their init(from:) and encode(to:). This file and its two helpers,
// JSONDecoder.swift and JSONEncoder.swift, supply the Decoder and Encoder
// those generated methods talk to. They are our own, not Foundation's, so
// that this module needs nothing but the standard library, and so that the
// errors are written for people:
//
//     process.user.uid: expected an unsigned 32-bit integer
//     root.path: missing required field
//
// Behaviour, in the manner of Go's encoding/json:
//  * unknown keys are ignored when decoding;
//  * nil optionals are left out when encoding (`omitempty`);
//  * struct members are written in declaration (CodingKeys) order;
//  * dictionary entries are written sorted by key.

/// Decodes Decodable values from JSON and encodes Encodable values to JSON.
public enum JSONCodec {
    /// Parses `bytes` as JSON and decodes a `T` from it.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: JSON.parse(bytes))
    }

    /// Decodes a `T` from an already parsed JSON value.
    /// Errors are `SpecError`s naming the path of the offending value.
    public static func decode<T: Decodable>(_ type: T.Type, from json: JSON) throws -> T {
        do {
            return try decodeValue(T.self, from: json, at: [])
        } catch let error as SpecError {
            throw error
        } catch let error as DecodingError {
            // Only hand-written init(from:) implementations throw these.
            throw SpecError(error)
        }
    }

    /// Encodes `value` as JSON text: compact when `indent` is nil, else
    /// indented by `indent` per level like Go's json.MarshalIndent.
    public static func encode<T: Encodable>(_ value: T, indent: String? = nil) -> String {
        encodeJSON(value).serialized(indent: indent)
    }

    /// Encodes `value` as a JSON value.
    ///
    /// The encoder itself never fails; a type whose own `encode(to:)` throws
    /// is a programming error and stops the program.
    public static func encodeJSON<T: Encodable>(_ value: T) -> JSON {
        let root = EncodedNode()
        do {
            try encodeValue(value, into: root, at: [])
        } catch {
            fatalError("JSONCodec: encoding \(T.self) failed: \(error)")
        }
        return root.json
    }
}

extension SpecError {
    /// Converts a standard DecodingError into a SpecError.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(path: renderPath(context.codingPath + [key]), message: "missing required field")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(path: renderPath(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(path: "", message: "\(error)")
        }
    }
}

// MARK: - Scalars

/// A type stored as a single JSON scalar (string, boolean or number).
/// The decoder and encoder handle these directly instead of going through
/// containers, which gives precise error messages and exact integers.
protocol JSONScalar {
    init(json: JSON, at path: [CodingKey]) throws
    var json: JSON { get }
}

extension String: JSONScalar {
    init(json: JSON, at path: [CodingKey]) throws {
        guard case .string(let s) = json else { throw typeError(path, "expected a string") }
        self = s
    }
    var json: JSON { .string(self) }
}

extension Bool: JSONScalar {
    init(json: JSON, at path: [CodingKey]) throws {
        guard case .bool(let b) = json else { throw typeError(path, "expected a boolean") }
        self = b
    }
    var json: JSON { .bool(self) }
}

extension Double: JSONScalar {
    init(json: JSON, at path: [CodingKey]) throws {
        guard case .number(let text) = json, let d = Double(text) else {
            throw typeError(path, "expected a number")
        }
        self = d
    }
    var json: JSON { .double(self) }
}

extension Float: JSONScalar {
    init(json: JSON, at path: [CodingKey]) throws {
        guard case .number(let text) = json, let f = Float(text) else {
            throw typeError(path, "expected a number")
        }
        self = f
    }
    var json: JSON { isFinite ? .number(String(describing: self)) : .null }
}

/// Integers are read from the literal text, never through Double, and say
/// which kind of integer was expected:
///
///     expected an integer                      (Int, Int64)
///     expected an unsigned 32-bit integer      (UInt32)
///     99999999999999999999 is out of range for a 64-bit integer
extension JSONScalar where Self: FixedWidthInteger {
    init(json: JSON, at path: [CodingKey]) throws {
        let (expected, range) = Self.jsonNames
        guard case .number(let text) = json else { throw typeError(path, "expected \(expected)") }
        let literal = IntegerLiteral(text)
        switch literal {
        case .notInteger:
            throw typeError(path, "expected \(expected)")
        case .tooLarge:
            throw typeError(path, "\(text) is out of range for \(range)")
        case .value(let negative, let magnitude):
            if negative && magnitude != 0 && !Self.isSigned {
                throw typeError(path, "expected \(expected)")
            }
            guard let value = literal.exactly(Self.self) else {
                throw typeError(path, "\(text) is out of range for \(range)")
            }
            self = value
        }
    }

    var json: JSON { .number(String(self)) }

    /// ("an unsigned 32-bit integer", "an unsigned 32-bit integer") and so on.
    static var jsonNames: (expected: String, range: String) {
        let article = bitWidth == 8 ? "an" : "a"
        if isSigned {
            let range = "\(article) \(bitWidth)-bit integer"
            return (bitWidth == 64 ? "an integer" : range, range)
        }
        let name = "an unsigned \(bitWidth)-bit integer"
        return (name, name)
    }
}

extension Int: JSONScalar {}
extension Int8: JSONScalar {}
extension Int16: JSONScalar {}
extension Int32: JSONScalar {}
extension Int64: JSONScalar {}
extension UInt: JSONScalar {}
extension UInt8: JSONScalar {}
extension UInt16: JSONScalar {}
extension UInt32: JSONScalar {}
extension UInt64: JSONScalar {}

/// A decoding error at `path`.
func typeError(_ path: [CodingKey], _ message: String) -> SpecError {
    SpecError(path: renderPath(path), message: message)
}
