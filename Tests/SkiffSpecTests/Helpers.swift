import SkiffSpec
import XCTest

/// The description of the error `body` throws, or nil if it throws nothing.
func errorText<T>(_ body: () throws -> T) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// Bytes of a string, for the `[UInt8]` APIs.
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Turns leading pairs of spaces into tabs, so expected `MarshalIndent(..., "\t")`
/// output can be written readably in the test source.
func tabs(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        var rest = Substring(line)
        var prefix = ""
        while rest.hasPrefix("  ") {
            prefix += "\t"
            rest = rest.dropFirst(2)
        }
        return prefix + rest
    }.joined(separator: "\n")
}

// MARK: - Editing JSON by path

/// A step of a path like `linux.namespaces[2].type`.
enum Step {
    case key(String)
    case index(Int)
}

func steps(_ path: String) -> [Step] {
    var result: [Step] = []
    for part in path.split(separator: ".") {
        var name = Substring(part)
        var indexes: [Int] = []
        while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
            indexes.insert(Int(name[name.index(after: open)..<name.index(before: name.endIndex)])!, at: 0)
            name = name[..<open]
        }
        if !name.isEmpty { result.append(.key(String(name))) }
        result += indexes.map(Step.index)
    }
    return result
}

/// `json` with the value at `path` replaced by `value` (created if missing),
/// or removed when `value` is nil.
func setting(_ json: JSON, _ path: String, _ value: JSON?) -> JSON {
    setting(json, steps(path)[...], value)
}

private func setting(_ json: JSON, _ steps: ArraySlice<Step>, _ value: JSON?) -> JSON {
    guard let step = steps.first else { return value ?? .null }
    let rest = steps.dropFirst()
    switch step {
    case .key(let key):
        var members = json.objectValue ?? []
        if let i = members.firstIndex(where: { $0.key == key }) {
            if rest.isEmpty && value == nil {
                members.remove(at: i)
            } else {
                members[i].value = setting(members[i].value, rest, value)
            }
        } else if !(rest.isEmpty && value == nil) {
            members.append((key: key, value: setting(.null, rest, value)))
        }
        return .object(members)
    case .index(let index):
        var elements = json.arrayValue ?? []
        if index == elements.count {
            elements.append(setting(.null, rest, value))
        } else if rest.isEmpty && value == nil {
            elements.remove(at: index)
        } else {
            elements[index] = setting(elements[index], rest, value)
        }
        return .array(elements)
    }
}
