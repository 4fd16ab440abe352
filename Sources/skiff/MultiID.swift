// Commands that take several container ids (delete, kill, stop, restart): each id is
// handled on its own; a failure is one line on stderr and the others still run; the
// exit code is 1 if any failed (as with docker rm/stop/kill).
import Glibc
import SkiffRuntime

func forEachID(_ ids: [String], _ command: String, _ body: (String) throws -> Void) throws -> Int32 {
    guard !ids.isEmpty else {
        throw SkiffError(
            "\(command): requires at least one container id (usage: skiff \(command) [options] <container-id>...)")
    }
    var failed = false
    for id in ids {
        do { try body(id) } catch {
            failed = true
            let line = "skiff: \((error as? SkiffError)?.message ?? "\(error)")\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }
    return failed ? 1 : 0
}

/// A whole number of seconds >= 0 (stop -t, restart -t).
func seconds(_ args: ParsedArgs, _ flag: String, default value: Int) throws -> Int {
    guard let text = args.value(flag) else { return value }
    guard let n = Int(text), n >= 0 else {
        throw SkiffError("--\(flag) \(text): expected a whole number of seconds, 0 or more")
    }
    return n
}
