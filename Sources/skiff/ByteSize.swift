// Sizes on the command line (`run --memory 1.5g`, `update --memory-swap 1g`), parsed one
// way for every flag, as Docker and runc both do it (docker/go-units RAMInBytes): a number,
// possibly with a fraction, then an optional unit k, m, g, t or p (binary multiples, either
// case), optionally followed by "i" and/or "b": "1024", "4k", "64m", "1.5g", "4MiB", "4mb".
import Glibc
import SkiffRuntime

enum ByteSize {
    /// The size in bytes. With `unlimited`, "-1" means no limit and is returned as -1.
    static func parse(_ text: String, flag: String, unlimited: Bool = false) throws -> Int64 {
        if unlimited && text == "-1" { return -1 }
        var rest = Substring(text.lowercased())
        let number = rest.prefix { $0.isNumber || $0 == "." }
        rest = rest.dropFirst(number.count)
        if rest.hasPrefix(" ") { rest = rest.dropFirst() }
        var multiplier: Double = 1
        if let unit = rest.first, let power = ["k": 1.0, "m": 2, "g": 3, "t": 4, "p": 5][unit] {
            multiplier = pow(1024, power)
            rest = rest.dropFirst()
        }
        if rest.hasPrefix("i") { rest = rest.dropFirst() }
        if rest.hasPrefix("b") { rest = rest.dropFirst() }
        // Double(".5") is 0.5 but go-units wants a digit first; the bound keeps Int64() from trapping.
        guard number.first?.isNumber == true, let value = Double(number), rest.isEmpty,
            value * multiplier < 9_223_372_036_854_775_807
        else {
            throw SkiffError(
                "\(flag): invalid size \"\(text)\" (use e.g. 512k, 64m, 1.5g\(unlimited ? ", or -1 for none" : ""))")
        }
        return Int64(value * multiplier)
    }
}
