// Small string helpers of the runtime (the CLI has its own column helpers: the text it
// prints is laid out there).

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines ("512\n" -> "512"). The one
    /// trimming helper: the CLI uses it too (an --env-file line).
    public func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

// Substring search, the two calls Skiff needs from it.
//
// The standard library's `contains(_: some StringProtocol)` and `firstRange(of:)` live in
// the _StringProcessing module (with Regex), which Swift imports implicitly into every
// file. Skiff turns that import off (Package.swift), so the binary does not carry
// _StringProcessing and _RegexParser (780 KB of text mapped at every start of skiff, which
// `run` starts twice: docs/performance.md). These two take its place.
//
// They compare UTF-8 bytes, which is what every caller wants: it looks for ASCII markers in
// kernel files and tool output ("Seccomp:", " -j CNI-"), not for user-perceived characters.
extension StringProtocol {
    /// Whether `part` occurs in this string.
    public func includes(_ part: some StringProtocol) -> Bool { find(part) != nil }

    /// Where `part` first occurs in this string (an empty `part` occurs at the start).
    public func find(_ part: some StringProtocol) -> Range<Index>? {
        let needle = Array(part.utf8)
        guard let first = needle.first else { return startIndex..<startIndex }
        let hay = utf8
        var i = hay.startIndex
        while i != hay.endIndex {
            if hay[i] == first && hay[i...].starts(with: needle) {
                return i..<hay.index(i, offsetBy: needle.count)
            }
            hay.formIndex(after: &i)
        }
        return nil
    }
}
