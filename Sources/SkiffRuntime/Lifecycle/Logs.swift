// `skiff logs`: read a detached container's log (CRI format, written by its monitor,
// Detached.swift) and print it as the container wrote it: stdout records on stdout,
// stderr records on stderr; with `follow`, keep printing until the container stops.
import Glibc

public struct LogRecord: Equatable {
    public let time: String
    public let stream: String
    /// A partial line: the next record of the stream continues it.
    public let partial: Bool
    public let content: [UInt8]
}

public enum LogFile {
    /// Now, in RFC 3339 with nanoseconds (the CRI format keeps all nine digits).
    static func timestamp() -> String { rfc3339Now(fixedWidth: true) }

    /// The complete records in `bytes` (up to the last newline) and how many bytes they used.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> (records: [LogRecord], used: Int) {
        var out: [LogRecord] = []
        var start = bytes.startIndex
        for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
            let line = bytes[start..<i]
            start = i + 1
            // TIME STREAM F|P CONTENT
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            let content = fields.count == 4 ? Array(fields[3]) : []
            out.append(
                LogRecord(
                    time: String(decoding: fields[0], as: UTF8.self),
                    stream: String(decoding: fields[1], as: UTF8.self),
                    partial: fields[2].first == UInt8(ascii: "P"), content: content))
        }
        return (out, start - bytes.startIndex)
    }
}

public struct LogsOptions {
    public var follow = false
    /// Only the last N lines (nil: all).
    public var tail: Int?
    public var timestamps = false
    public init() {}
}

extension Runtime {
    /// Print container `id`'s log through `emit(stream, bytes)`.
    public func logs(id: String, options: LogsOptions, emit: (String, [UInt8]) -> Void) throws {
        let record = try store.load(id)
        let path = logPath(id)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if isQuickRun(record) {
                throw SkiffError(
                    "container \"\(id)\" has no log yet: only a detached run (run -d, or start after it stopped) "
                        + "captures its output"
                )
            }
            throw SkiffError(
                "container \"\(id)\" has no captured output: a bundle container writes to skiff's own stdout and "
                    + "stderr (only detached quick-run containers, run -d --rootfs, keep a log)"
            )
        }
        defer { close(fd) }
        var lineStart = true
        func show(_ records: [LogRecord]) {
            for r in records {
                var bytes = r.content
                if options.timestamps && lineStart { bytes = Array((r.time + " ").utf8) + bytes }
                if !r.partial { bytes.append(UInt8(ascii: "\n")) }
                lineStart = !r.partial
                emit(r.stream, bytes)
            }
        }
        var pending = readAll(fd)[...]
        var (records, used) = LogFile.parse(pending)
        pending = pending.dropFirst(used)
        if let tail = options.tail {
            // The last `tail` lines: count full records from the end.
            var lines = 0
            var from = records.count
            while from > 0 {
                if !records[from - 1].partial {
                    if lines == tail { break }
                    lines += 1
                }
                from -= 1
            }
            records = Array(records[from...])
        }
        show(records)
        guard options.follow else { return }
        // Until the container has stopped and its monitor has written everything.
        while true {
            let more = readAll(fd)
            if more.isEmpty {
                let (current, status) = (
                    (try? store.load(id)) ?? record, store.status(of: (try? store.load(id)) ?? record)
                )
                if status == .stopped || status == .created {
                    waitForMonitor(current.id)
                    pending += readAll(fd)
                    show(LogFile.parse(pending).records)
                    return
                }
                sleepMillis(100)
                continue
            }
            pending += more
            (records, used) = LogFile.parse(pending)
            pending = pending.dropFirst(used)
            show(records)
        }
    }
}
