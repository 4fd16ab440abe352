// Small string helpers of the runtime (the CLI has its own column helpers: the text it
// prints is laid out there).

extension String {
    /// Without leading and trailing whitespace and newlines ("512\n" -> "512").
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
