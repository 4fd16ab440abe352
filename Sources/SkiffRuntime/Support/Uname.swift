// The kernel's name for itself (uname(2)), read in one place: `skiff info` shows it, the
// seccomp cache keys on it, images name the architecture after it.
import Glibc

struct Uname {
    let sysname: String
    let release: String
    let machine: String

    static func current() -> Uname {
        var u = utsname()
        uname(&u)
        // Each field is a fixed-size C char array, NUL-terminated.
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return Uname(sysname: text(u.sysname), release: text(u.release), machine: text(u.machine))
    }
}
