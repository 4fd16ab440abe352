// The Encoder behind JSONCodec.encode: it builds a JSON tree.
//
// Generated encode(to:) methods ask for a container and put values into it.
// Containers are structs, so they share a reference-type node which they
// fill in; when encoding is done the nodes are turned into a JSON value.
//
// Optional properties are written with encodeIfPresent, whose standard
// implementation skips nil: that is how nil fields are left out.

/// A JSON value under construction.
final class EncodedNode {
    enum Kind { case unset, scalar, object, array }

    var kind = Kind.unset
    var scalar = JSON.null
    /// Object members in the order first written.
    var members: [(key: String, node: EncodedNode)] = []
    var elements: [EncodedNode] = []

    func makeObject() {
        if kind != .object {
            kind = .object
            members = []
        }
    }

    func makeArray() {
        if kind != .array {
            kind = .array
            elements = []
        }
    }

    func set(_ value: JSON) {
        kind = .scalar
        scalar = value
    }

    /// The node for member `key`; writing a key twice replaces the value
    /// but keeps the first position.
    func member(_ key: String) -> EncodedNode {
        makeObject()
        if let existing = members.first(where: { $0.key == key }) {
            existing.node.kind = .unset
            return existing.node
        }
        let node = EncodedNode()
        members.append((key: key, node: node))
        return node
    }

    func appendElement() -> EncodedNode {
        makeArray()
        let node = EncodedNode()
        elements.append(node)
        return node
    }

    var json: JSON {
        switch kind {
        case .unset: return .object([]) // a value that wrote nothing, as Foundation does
        case .scalar: return scalar
        case .object: return .object(members.map { (key: $0.key, value: $0.node.json) })
        case .array: return .array(elements.map(\.json))
        }
    }
}

/// Encodes `value` into `node`, which sits at `path` in the document.
func encodeValue<T: Encodable>(_ value: T, into node: EncodedNode, at path: [CodingKey]) throws {
    if let scalar = value as? JSONScalar {
        node.set(scalar.json)
    } else if let dictionary = value as? JSONEncodableDictionary {
        try dictionary.encodeSorted(into: node, at: path)
    } else if let json = value as? JSON {
        node.set(json)
    } else {
        try value.encode(to: TreeEncoder(node: node, codingPath: path))
    }
}

/// `[String: Value]` dictionaries, written with their keys sorted (byte-wise,
/// as Go does) so the output does not depend on hashing.
protocol JSONEncodableDictionary {
    func encodeSorted(into node: EncodedNode, at path: [CodingKey]) throws
}

extension Dictionary: JSONEncodableDictionary where Key == String, Value: Encodable {
    func encodeSorted(into node: EncodedNode, at path: [CodingKey]) throws {
        node.makeObject()
        for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            try encodeValue(self[key]!, into: node.member(key), at: path + [DictionaryKey(key)])
        }
    }
}

// MARK: - Encoder

struct TreeEncoder: Encoder {
    let node: EncodedNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        SingleValueContainer(node: node, codingPath: codingPath)
    }
}

// MARK: - Keyed (JSON objects)

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodedNode
    let codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        node.member(key.stringValue).set(.null)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: node.member(key.stringValue), at: codingPath + [key])
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Float, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { node.member(key.stringValue).set(value.json) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        TreeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
        TreeEncoder(node: node.member("super"), codingPath: codingPath + [DictionaryKey("super")])
    }

    mutating func superEncoder(forKey key: Key) -> Encoder {
        TreeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

// MARK: - Unkeyed (JSON arrays)

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodedNode
    let codingPath: [CodingKey]

    var count: Int { node.elements.count }

    private func next() -> (EncodedNode, [CodingKey]) {
        let path = codingPath + [IndexKey(node.elements.count)]
        return (node.appendElement(), path)
    }

    mutating func encodeNil() throws { next().0.set(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let (element, path) = next()
        try encodeValue(value, into: element, at: path)
    }

    mutating func encode(_ value: Bool) throws { next().0.set(value.json) }
    mutating func encode(_ value: String) throws { next().0.set(value.json) }
    mutating func encode(_ value: Double) throws { next().0.set(value.json) }
    mutating func encode(_ value: Float) throws { next().0.set(value.json) }
    mutating func encode(_ value: Int) throws { next().0.set(value.json) }
    mutating func encode(_ value: Int8) throws { next().0.set(value.json) }
    mutating func encode(_ value: Int16) throws { next().0.set(value.json) }
    mutating func encode(_ value: Int32) throws { next().0.set(value.json) }
    mutating func encode(_ value: Int64) throws { next().0.set(value.json) }
    mutating func encode(_ value: UInt) throws { next().0.set(value.json) }
    mutating func encode(_ value: UInt8) throws { next().0.set(value.json) }
    mutating func encode(_ value: UInt16) throws { next().0.set(value.json) }
    mutating func encode(_ value: UInt32) throws { next().0.set(value.json) }
    mutating func encode(_ value: UInt64) throws { next().0.set(value.json) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
        NestedKey
    > {
        let (element, path) = next()
        return TreeEncoder(node: element, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let (element, path) = next()
        return TreeEncoder(node: element, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
        let (element, path) = next()
        return TreeEncoder(node: element, codingPath: path)
    }
}

// MARK: - Single value

private struct SingleValueContainer: SingleValueEncodingContainer {
    let node: EncodedNode
    let codingPath: [CodingKey]

    mutating func encodeNil() throws { node.set(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: node, at: codingPath)
    }

    mutating func encode(_ value: Bool) throws { node.set(value.json) }
    mutating func encode(_ value: String) throws { node.set(value.json) }
    mutating func encode(_ value: Double) throws { node.set(value.json) }
    mutating func encode(_ value: Float) throws { node.set(value.json) }
    mutating func encode(_ value: Int) throws { node.set(value.json) }
    mutating func encode(_ value: Int8) throws { node.set(value.json) }
    mutating func encode(_ value: Int16) throws { node.set(value.json) }
    mutating func encode(_ value: Int32) throws { node.set(value.json) }
    mutating func encode(_ value: Int64) throws { node.set(value.json) }
    mutating func encode(_ value: UInt) throws { node.set(value.json) }
    mutating func encode(_ value: UInt8) throws { node.set(value.json) }
    mutating func encode(_ value: UInt16) throws { node.set(value.json) }
    mutating func encode(_ value: UInt32) throws { node.set(value.json) }
    mutating func encode(_ value: UInt64) throws { node.set(value.json) }
}
