// `skiff stop`: what `docker stop` does, on top of the runtime's kill. SIGTERM to init,
// a grace period, then SIGKILL to every process of the container.
//
// Why the grace period is often used up: a signal sent from outside a pid namespace to
// its init (pid 1) is delivered only if init installed a handler for it; SIGKILL and
// SIGSTOP are the exceptions (pid_namespaces(7)). `sleep 1000` as pid 1 has no handler,
// so SIGTERM does nothing and only SIGKILL ends it (exit code 137 = 128 + 9). `--init`
// (InitReaper.swift) puts a pid 1 in front that hands SIGTERM on to the program.
import CShim
import Glibc

extension Runtime {
    /// Stop a container; returns whether SIGKILL was needed. A stopped container is left as it is.
    @discardableResult
    public func stop(id: String, timeoutSeconds: Int) throws -> Bool {
        let record = try store.load(id)
        var status = store.status(of: record)
        if status == .stopped { return false }
        if isQuickRun(record) { try? writeFile(stopRequestPath(id), "") } // no --restart after this
        if status == .paused {
            try resume(id: id)
            status = .running
        }
        if status == .running {
            do { try kill(id: id, signal: SIGTERM, all: false) } catch {
                if store.status(of: record) != .stopped { throw error }
            }
            let deadline = monotonicNanos() + UInt64(timeoutSeconds) * 1_000_000_000
            while store.status(of: record) != .stopped && monotonicNanos() < deadline { sleepMillis(20) }
        }
        var escalated = false
        if store.status(of: record) != .stopped {
            escalated = true
            // created (init waits for start, it has no program yet) or still running.
            let pids = processes(of: record)
            Explain.step("kill processes", "kill(\(pids), SIGKILL)") { for pid in pids { Glibc.kill(pid, SIGKILL) } }
            if Cgroup.available && !record.cgroupPath.isEmpty { Cgroup.signalAll(record.cgroupPath, SIGKILL) }
            for _ in 0..<1000 where store.status(of: record) != .stopped { sleepMillis(10) }
            guard store.status(of: record) == .stopped else {
                throw SkiffError("container \"\(id)\" did not exit after SIGKILL")
            }
        }
        waitForMonitor(id)
        return escalated
    }
}
