// Logging the way runc does it (engines parse it): text or one JSON object per line,
// to stderr or to the file given with --log. Plus the teaching channel, --explain.
import Glibc
import SkiffSpec

public enum LogLevel: Int, Comparable {
    case debug, info, warning, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    var name: String { ["debug", "info", "warning", "error"][rawValue] }
}

public enum Log {
    public static var level: LogLevel = .warning
    public static var json = false
    /// Where log lines go: stderr unless --log names a file.
    public static var fd: Int32 = 2
    public static var toFile: Bool { fd != 2 }

    /// Open the --log file (append); every process of this invocation writes to it.
    public static func open(path: String) throws {
        fd = try sys("open log file \(path)") { Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) }
    }

    public static func debug(_ msg: @autoclosure () -> String) { if level <= .debug { write(.debug, msg()) } }
    public static func info(_ msg: @autoclosure () -> String) { if level <= .info { write(.info, msg()) } }
    public static func warn(_ msg: @autoclosure () -> String) { if level <= .warning { write(.warning, msg()) } }
    public static func error(_ msg: String) { write(.error, msg) }

    static func write(_ lvl: LogLevel, _ msg: String) {
        let time = rfc3339Now()
        let line: String
        if json {
            line = JSON.object([("level", .string(lvl.name)), ("msg", .string(msg)), ("time", .string(time))])
                .serialized(indent: nil)
        } else {
            line = "time=\"\(time)\" level=\(lvl.name) msg=\(JSON.string(msg).serialized(indent: nil))"
        }
        try? writeAll(fd, Array((line + "\n").utf8))
    }
}

/// `--explain`: one line per kernel-visible step, printed by the code that does the step:
/// plain words, then the call with its key arguments, its result and how long it took.
public enum Explain {
    public static var enabled = false
    /// Where the lines go: stderr, or a copy of it when stderr becomes the container's
    /// (a detached container's init writes into its log pipe, Init.swift).
    static var fd: Int32 = 2

    /// Time `body` and, when explaining, print "what  call = result (0.4 ms)".
    @discardableResult
    static func step<T>(
        _ what: String, _ call: @autoclosure () -> String,
        result: (T) -> String? = { _ in nil }, _ body: () throws -> T
    ) rethrows -> T {
        guard enabled else { return try body() }
        let start = monotonicNanos()
        let value = try body()
        let ms = Double(monotonicNanos() - start) / 1_000_000
        var text = "\(what.padding(18))\(call())"
        if let r = result(value) { text += " = \(r)" }
        text += " (\(formatMillis(ms)) ms)\n"
        try? writeAll(fd, Array(text.utf8))
        return value
    }

    /// A step that is a note rather than a call (e.g. "container exited  status 0").
    static func note(_ what: String, _ detail: @autoclosure () -> String) {
        guard enabled else { return }
        try? writeAll(fd, Array("\(what.padding(18))\(detail())\n".utf8))
    }

    static func formatMillis(_ ms: Double) -> String {
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension String {
    /// Left-justify in a column (at least two spaces after the text).
    func padding(_ width: Int) -> String {
        count + 2 > width ? self + "  " : self + String(repeating: " ", count: width - count)
    }
}
