// The Decoder behind JSONCodec.decode: it walks a parsed JSON tree.
//
// Swift's generated init(from:) asks the decoder for containers (keyed for
// structs, unkeyed for arrays, single-value for scalars and enums) and then
// for values by key. Every request carries the coding path, which becomes
// the path in error messages.

/// Decodes a `T` from `json`, which sits at `path` in the document.
/// Scalars, `[String]` and string-keyed dictionaries are handled here
/// directly; everything else goes through `T.init(from:)`.
func decodeValue<T: Decodable>(_ type: T.Type, from json: JSON, at path: [CodingKey]) throws -> T {
    if let scalar = T.self as? JSONScalar.Type {
        return try scalar.init(json: json, at: path) as! T
    }
    if T.self == [String].self {
        // One message for the whole list reads better than "args[3]: expected a string".
        guard case .array(let elements) = json else { throw typeError(path, "expected an array of strings") }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let s) = element else { throw typeError(path, "expected an array of strings") }
            strings.append(s)
        }
        return strings as! T
    }
    if let dictionary = T.self as? JSONDecodableDictionary.Type {
        return try dictionary.init(json: json, at: path) as! T
    }
    if T.self == JSON.self {
        return json as! T
    }
    return try T(from: TreeDecoder(json: json, codingPath: path))
}

/// `[String: Value]` dictionaries: a JSON object whose every member is a Value.
protocol JSONDecodableDictionary {
    init(json: JSON, at path: [CodingKey]) throws
}

extension Dictionary: JSONDecodableDictionary where Key == String, Value: Decodable {
    init(json: JSON, at path: [CodingKey]) throws {
        guard case .object(let members) = json else { throw typeError(path, "expected an object") }
        self.init(minimumCapacity: members.count)
        for (key, value) in members {
            self[key] = try decodeValue(Value.self, from: value, at: path + [DictionaryKey(key)])
        }
    }
}

// MARK: - Decoder

struct TreeDecoder: Decoder {
    let json: JSON
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = json else {
            throw typeError(codingPath, codingPath.isEmpty ? "expected a JSON object" : "expected an object")
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let elements) = json else { throw typeError(codingPath, "expected an array") }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleValueContainer(json: json, codingPath: codingPath)
    }
}

// MARK: - Keyed (JSON objects)

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// Member values by key; for a repeated key the last one wins, as in Go.
    let values: [String: JSON]
    /// Keys in document order, without repeats.
    let keys: [String]
    let codingPath: [CodingKey]

    init(members: [(key: String, value: JSON)], codingPath: [CodingKey]) {
        var values: [String: JSON] = [:]
        var keys: [String] = []
        for (key, value) in members {
            if values.updateValue(value, forKey: key) == nil { keys.append(key) }
        }
        self.values = values
        self.keys = keys
        self.codingPath = codingPath
    }

    var allKeys: [Key] { keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { values[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSON {
        guard let value = values[key.stringValue] else {
            throw typeError(codingPath + [key], "missing required field")
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try member(key).isNull
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(T.self, from: member(key), at: codingPath + [key])
    }

    // The protocol lists every scalar type separately; all go the same way.
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(generic: type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(generic: type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(generic: type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(generic: type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(generic: type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(generic: type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(generic: type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(generic: type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(generic: type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(generic: type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(generic: type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(generic: type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(generic: type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(generic: type, key) }

    private func decode<T: Decodable>(generic type: T.Type, _ key: Key) throws -> T {
        try decodeValue(T.self, from: member(key), at: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(json: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try TreeDecoder(json: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        TreeDecoder(json: values["super"] ?? .null, codingPath: codingPath + [DictionaryKey("super")])
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        TreeDecoder(json: values[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

// MARK: - Unkeyed (JSON arrays)

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSON]
    let codingPath: [CodingKey]
    var currentIndex = 0

    init(elements: [JSON], codingPath: [CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private func current() throws -> JSON {
        guard !isAtEnd else {
            throw typeError(codingPath + [IndexKey(currentIndex)], "missing array element")
        }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        if try current().isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try decodeValue(T.self, from: current(), at: codingPath + [IndexKey(currentIndex)])
        currentIndex += 1
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try decode(generic: type) }
    mutating func decode(_ type: String.Type) throws -> String { try decode(generic: type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try decode(generic: type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try decode(generic: type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try decode(generic: type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decode(generic: type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decode(generic: type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decode(generic: type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decode(generic: type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decode(generic: type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(generic: type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(generic: type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(generic: type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(generic: type) }

    private mutating func decode<T: Decodable>(generic type: T.Type) throws -> T {
        let value = try decodeValue(T.self, from: current(), at: codingPath + [IndexKey(currentIndex)])
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let decoder = try TreeDecoder(json: current(), codingPath: codingPath + [IndexKey(currentIndex)])
        let container = try decoder.container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let decoder = try TreeDecoder(json: current(), codingPath: codingPath + [IndexKey(currentIndex)])
        let container = try decoder.unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> Decoder {
        let decoder = try TreeDecoder(json: current(), codingPath: codingPath + [IndexKey(currentIndex)])
        currentIndex += 1
        return decoder
    }
}

// MARK: - Single value

private struct SingleValueContainer: SingleValueDecodingContainer {
    let json: JSON
    let codingPath: [CodingKey]

    func decodeNil() -> Bool { json.isNull }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(T.self, from: json, at: codingPath)
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: String.Type) throws -> String { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeValue(type, from: json, at: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeValue(type, from: json, at: codingPath) }
}
