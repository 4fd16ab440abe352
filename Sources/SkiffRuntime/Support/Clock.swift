// Time: the monotonic clock (timings, timeouts), sleeping, and RFC 3339 timestamps.
import Glibc

/// Monotonic clock in nanoseconds (for --explain timings and timeouts).
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Sleep for some milliseconds.
func sleepMillis(_ ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var left = timespec()
    while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
}

/// RFC 3339 time with nanoseconds in UTC: as Go prints time.Time in JSON (trailing zeros
/// of the fraction dropped), or with all nine digits (`fixedWidth`, the CRI log format).
func rfc3339Now(fixedWidth: Bool = false) -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = ts.tv_sec
    var tmv = tm()
    gmtime_r(&t, &tmv)
    func pad(_ v: Int, _ w: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    var nanos = pad(ts.tv_nsec, 9)
    while !fixedWidth && nanos.hasSuffix("0") { nanos.removeLast() }
    return "\(pad(Int(tmv.tm_year) + 1900, 4))-\(pad(Int(tmv.tm_mon) + 1, 2))-\(pad(Int(tmv.tm_mday), 2))T"
        + "\(pad(Int(tmv.tm_hour), 2)):\(pad(Int(tmv.tm_min), 2)):\(pad(Int(tmv.tm_sec), 2))"
        + (nanos.isEmpty ? "" : "." + nanos) + "Z"
}
