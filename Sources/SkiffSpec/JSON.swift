// JSON: a small, exact JSON value type.
//
// Two choices make it fit for config.json:
//  * numbers keep their literal text, so 64-bit integers such as
//    18446744073709551615 survive a parse/serialize round trip unchanged
//    (a Double would silently round them);
//  * objects keep their keys in document order, so a config read and
//    written back keeps its layout.
//
// Parsing lives in JSONParser.swift, writing in JSONSerializer.swift.

/// A JSON value.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    /// A number, kept as its literal text (e.g. `"-1"`, `"1.5e3"`).
    case number(String)
    case string(String)
    case array([JSON])
    /// An object; members are kept in order. When a key appears twice, the
    /// lookups (`json["key"]`, decoding) use the last one, as Go does.
    case object([(key: String, value: JSON)])
}

extension JSON: Equatable {
    /// Structural equality. Numbers compare by literal text, so `1` and `1.0`
    /// differ; objects compare members in order.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.key != y.key || x.value != y.value {
                return false
            }
            return true
        default: return false
        }
    }
}

// MARK: - Building values

extension JSON {
    /// A number from any integer, e.g. `.integer(UInt64.max)`.
    public static func integer<T: BinaryInteger>(_ value: T) -> JSON {
        .number(String(value))
    }

    /// A number from a floating-point value (non-finite values become `null`).
    public static func double(_ value: Double) -> JSON {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 {
            return .number(String(Int64(value)))
        }
        return .number(String(describing: value))
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .number(String(value)) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// Keeps the keys in the order written.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

// MARK: - Reading values

extension JSON {
    /// The value of member `key` of an object (the last one if repeated), or nil.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Element `index` of an array, or nil when out of bounds or not an array.
    public subscript(index: Int) -> JSON? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number as an Int64, if it is an integer literal in range.
    public var int64Value: Int64? {
        guard case .number(let text) = self else { return nil }
        return IntegerLiteral(text).exactly(Int64.self)
    }

    /// The number as a UInt64, if it is a non-negative integer literal in range.
    public var uint64Value: UInt64? {
        guard case .number(let text) = self else { return nil }
        return IntegerLiteral(text).exactly(UInt64.self)
    }

    /// The number as a Double (possibly rounded).
    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [(key: String, value: JSON)]? {
        if case .object(let o) = self { return o }
        return nil
    }
}

// MARK: - Integer literals

/// The integer read from a JSON number literal, without going through Double.
enum IntegerLiteral {
    /// The literal has a fraction or an exponent (`1.0`, `1e3`).
    case notInteger
    /// The literal is an integer too large for 64 bits.
    case tooLarge
    case value(negative: Bool, magnitude: UInt64)

    /// Reads a literal already checked by the parser (`-?digits[.digits][e±digits]`).
    init(_ text: String) {
        var negative = false
        var magnitude: UInt64 = 0
        var sawDigit = false
        for (i, byte) in text.utf8.enumerated() {
            if i == 0 && byte == UInt8(ascii: "-") {
                negative = true
                continue
            }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                self = .notInteger
                return
            }
            sawDigit = true
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (plusDigit, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if o1 || o2 {
                // Keep scanning: "1e99999999999999999999" is still not an integer.
                self =
                    text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") })
                    ? .notInteger : .tooLarge
                return
            }
            magnitude = plusDigit
        }
        self = sawDigit ? .value(negative: negative, magnitude: magnitude) : .notInteger
    }

    /// The value as `T`, or nil when it is not an integer or does not fit.
    func exactly<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard case .value(let negative, let magnitude) = self else { return nil }
        if !negative { return T(exactly: magnitude) }
        if magnitude == 0 { return 0 }
        guard T.isSigned, magnitude <= UInt64(Int64.max) + 1 else { return nil }
        let signed: Int64 = magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        return T(exactly: signed)
    }
}

// MARK: - Codable

/// JSON values can be fields of Codable types, to carry free-form data.
/// JSONCodec passes them through unchanged (see decodeValue/encodeValue);
/// the implementations below serve other coders.
extension JSON: Codable {
    public init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: DictionaryKey.self) {
            self = .object(
                try object.allKeys.map { (key: $0.stringValue, value: try object.decode(JSON.self, forKey: $0)) })
        } else if var array = try? decoder.unkeyedContainer() {
            var elements: [JSON] = []
            while !array.isAtEnd { elements.append(try array.decode(JSON.self)) }
            self = .array(elements)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let b = try? value.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? value.decode(Int64.self) {
                self = .integer(i)
            } else if let u = try? value.decode(UInt64.self) {
                self = .integer(u)
            } else if let d = try? value.decode(Double.self) {
                self = .double(d)
            } else {
                self = .string(try value.decode(String.self))
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let text):
            var c = encoder.singleValueContainer()
            if let i = Int64(text) {
                try c.encode(i)
            } else if let u = UInt64(text) {
                try c.encode(u)
            } else {
                try c.encode(Double(text) ?? 0)
            }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let elements):
            var c = encoder.unkeyedContainer()
            for element in elements { try c.encode(element) }
        case .object(let members):
            var c = encoder.container(keyedBy: DictionaryKey.self)
            for (key, value) in members { try c.encode(value, forKey: DictionaryKey(key)) }
        }
    }
}
