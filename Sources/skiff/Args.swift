// A small command-line parser for runc's grammar (urfave/cli, Go flag style):
//   skiff [global flags] COMMAND [flags] ARGS...
// Flags may be written -name or --name, with the value as the next word or after "=".
// Flag parsing stops at the first positional argument or at "--", so
// `skiff exec ID sh -c ...` passes "-c" to the container.
import SkiffRuntime

struct Flag {
    let names: [String] // e.g. ["bundle", "b"]
    let takesValue: Bool
    let help: String
}

struct ParsedArgs {
    var values: [String: [String]] = [:] // by first name
    var positionals: [String] = []

    func has(_ name: String) -> Bool { values[name] != nil }
    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func bool(_ name: String) -> Bool {
        guard let v = values[name]?.last else { return false }
        return v != "false"
    }
}

enum ArgParser {
    /// Parse flags from `args` until the first positional; the rest are positionals.
    /// With `stopAtPositional` false (kill, list), flags may also follow positionals.
    static func parse(_ args: ArraySlice<String>, flags: [Flag], stopAtPositional: Bool = true) throws -> ParsedArgs {
        var out = ParsedArgs()
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            i += 1
            if arg == "--" {
                out.positionals += args[i...]
                break
            }
            guard arg.hasPrefix("-"), arg != "-" else {
                out.positionals.append(arg)
                if stopAtPositional {
                    out.positionals += args[i...]
                    break
                }
                continue
            }
            var name = String(arg.drop { $0 == "-" })
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let flag = flags.first(where: { $0.names.contains(name) }) else {
                // Docker-style bundled short flags: -it is -i -t.
                let letters = name.map(String.init)
                if !arg.hasPrefix("--"), inline == nil, letters.count > 1,
                    letters.allSatisfy({ l in flags.contains { $0.names.contains(l) && !$0.takesValue } })
                {
                    for l in letters {
                        out.values[flags.first { $0.names.contains(l) }!.names[0], default: []].append("true")
                    }
                    continue
                }
                throw SkiffError("flag provided but not defined: -\(name)")
            }
            let key = flag.names[0]
            if flag.takesValue {
                if let inline {
                    out.values[key, default: []].append(inline)
                    continue
                }
                guard i < args.endIndex else { throw SkiffError("flag needs an argument: -\(name)") }
                out.values[key, default: []].append(args[i])
                i += 1
            } else {
                out.values[key, default: []].append(inline ?? "true")
            }
        }
        return out
    }

    static func usage(_ flags: [Flag]) -> String {
        flags.map { f in
            let names = f.names.map { $0.count == 1 ? "-\($0)" : "--\($0)" }.joined(separator: ", ")
            return "   \((names + (f.takesValue ? " value" : "")).padded(30)) \(f.help)"
        }.joined(separator: "\n")
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
