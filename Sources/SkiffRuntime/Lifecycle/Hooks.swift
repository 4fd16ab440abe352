// OCI hooks: programs the spec asks to run at fixed moments of the lifecycle, each
// given the container's state JSON on stdin.
//
//   prestart, createRuntime   skiff, runtime namespaces, after the namespaces exist, before pivot_root
//   createContainer           the container's init, its namespaces, before pivot_root
//   startContainer            the container's init, after `start`, just before the program's execve
//   poststart                 skiff, after the program started (failures are only logged)
//   poststop                  skiff, after the container is deleted (failures are only logged)
import CShim
import Glibc
import SkiffSpec

enum Hooks {
    /// Run the hooks of one kind in order; the first failure throws, naming the hook.
    static func run(_ hooks: [Hook]?, kind: String, state: State) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let stdin = JSONCodec.encode(state)
        for (i, hook) in hooks.enumerated() {
            try Explain.step("hook \(kind)", "\(hook.path) \((hook.args ?? []).dropFirst().joined(separator: " "))") {
                do {
                    try Subprocess.run(
                        hook.path, args: hook.args?.isEmpty == false ? hook.args! : [hook.path],
                        env: hook.env ?? [], stdin: stdin, timeout: hook.timeout)
                } catch let e as SkiffError {
                    throw SkiffError("hooks.\(kind)[\(i)] \(hook.path): \(e.message)")
                }
            }
        }
    }

    /// poststart and poststop: a failure is logged, never fatal.
    static func runLogged(_ hooks: [Hook]?, kind: String, state: State) {
        do { try run(hooks, kind: kind, state: state) } catch { Log.warn("\(error)") }
    }

    /// The state a hook reads, at a given moment of the lifecycle.
    static func state(_ id: String, _ status: ContainerState, pid: Int32?, bundle: String, spec: Spec) -> State {
        State(
            ociVersion: spec.ociVersion, id: id, status: status, pid: pid.map(Int.init), bundle: bundle,
            annotations: spec.annotations)
    }
}
