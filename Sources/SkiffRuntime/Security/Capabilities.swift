// process.capabilities: the five capability sets, applied with libcap.
//
//   bounding     the most the process can ever hold again, even by running a setuid or
//                file-capability program; dropped ones are gone for good
//   permitted    what the process may switch on
//   effective    what is switched on now (the kernel checks this set)
//   inheritable  what may pass through execve to programs carrying file capabilities
//   ambient      what passes through execve to ordinary programs: the only way a
//                non-root user keeps a capability in the program it runs
//
// The order is the one runc follows (finalizeNamespace), because each step needs what
// the next one takes away:
//   1. drop from the bounding set every capability not listed (needs CAP_SETPCAP);
//   2. PR_SET_KEEPCAPS, so that changing to a non-root uid keeps the permitted set;
//   3. setgroups, setgid, setuid (ProcessSetup.setUser);
//   4. clear PR_SET_KEEPCAPS;
//   5. capset with exactly the spec's effective, permitted and inheritable sets, and
//      raise the ambient ones.
// Step 5 builds the sets from zero: nothing skiff itself inherited from its caller
// reaches the container. A container gets inheritable capabilities only when its spec
// lists them (CVE-2022-29162: runc once gave every container inheritable capabilities,
// and a non-root process could then gain them by running a program with file caps).
import CCap
import CShim
import Glibc
import SkiffSpec

struct CapabilityPlan {
    var bounding: [Int] = []
    var effective: [Int] = []
    var permitted: [Int] = []
    var inheritable: [Int] = []
    var ambient: [Int] = []
    /// Capabilities held in effective and permitted beyond the spec's until
    /// `dropExtra()` (CAP_SYS_ADMIN, to load a seccomp filter right before execve when
    /// no_new_privs is off; see Seccomp.swift).
    var extra: [Int] = []
    /// The highest capability number the running kernel knows.
    let lastCap: Int

    /// Resolve the names. Unknown names are an error; names this kernel is too old to
    /// know are skipped with a warning, as runc does.
    init(_ caps: LinuxCapabilities?, field: String = "process.capabilities") throws {
        lastCap = max(0, Int(cap_max_bits()) - 1)
        func numbers(_ names: [String]?, _ set: String) throws -> [Int] {
            var out: [Int] = []
            for name in names ?? [] {
                guard let n = LinuxCapabilities.number(of: name) else {
                    throw SkiffError("\(field).\(set): unknown capability \"\(name)\"")
                }
                if n > lastCap {
                    Log.warn("\(field).\(set): \(name) is not known to this kernel; ignored")
                    continue
                }
                if !out.contains(n) { out.append(n) }
            }
            return out.sorted()
        }
        bounding = try numbers(caps?.bounding, "bounding")
        effective = try numbers(caps?.effective, "effective")
        permitted = try numbers(caps?.permitted, "permitted")
        inheritable = try numbers(caps?.inheritable, "inheritable")
        ambient = try numbers(caps?.ambient, "ambient")
        if let stray = effective.first(where: { !permitted.contains($0) }) {
            throw SkiffError(
                "\(field).effective: \(Self.name(stray)) is not in the permitted set (the kernel "
                    + "requires effective ⊆ permitted)")
        }
        for cap in ambient where !(permitted.contains(cap) && inheritable.contains(cap)) {
            // The kernel refuses such an ambient capability; runc warns and goes on.
            Log.debug(
                "\(field).ambient: \(Self.name(cap)) ignored: an ambient capability must also be permitted "
                    + "and inheritable")
        }
        ambient = ambient.filter { permitted.contains($0) && inheritable.contains($0) }
    }

    static func name(_ cap: Int) -> String {
        cap < LinuxCapabilities.knownNames.count ? LinuxCapabilities.knownNames[cap] : "capability \(cap)"
    }

    static func names(_ caps: [Int]) -> String {
        caps.isEmpty ? "none" : caps.map { name($0).replacingPrefix("CAP_", with: "") }.joined(separator: ",")
    }

    /// Step 1: drop every capability the bounding set does not list. As crun does, each is
    /// dropped without reading the set first (one prctl per capability, not two):
    /// dropping one that is already gone is a no-op. Only without CAP_SETPCAP does the
    /// kernel refuse (EPERM) even that; the drop is then an error only if the capability
    /// is still in the set, as when skiff read the whole set first.
    func applyBounding() throws {
        let drop = (0...lastCap).filter { !bounding.contains($0) }
        try Explain.step("bounding set", "prctl(PR_CAPBSET_DROP) × \(drop.count), keeping \(Self.names(bounding))") {
            for cap in drop where cap_drop_bound(cap_value_t(cap)) != 0 {
                let e = errno
                if e == EPERM && cap_get_bound(cap_value_t(cap)) == 0 { continue } // not there: nothing to drop
                throw SkiffError("process.capabilities.bounding: drop \(Self.name(cap)): \(errnoText(e))")
            }
        }
    }

    /// Steps 2 to 4 around the user change.
    func keepingCapabilities(_ changeUser: () throws -> Void) throws {
        try sys("prctl(PR_SET_KEEPCAPS, 1)") { sk_set_keepcaps(1) }
        try changeUser()
        try sys("prctl(PR_SET_KEEPCAPS, 0)") { sk_set_keepcaps(0) }
    }

    /// Step 5: exactly the spec's sets (plus `extra`), then the ambient ones.
    func apply() throws {
        let eff = Array(Set(effective + extra)).sorted()
        let perm = Array(Set(permitted + extra)).sorted()
        try Explain.step(
            "set capabilities",
            "capset(effective=\(Self.names(eff)), permitted=\(Self.names(perm)), "
                + "inheritable=\(Self.names(inheritable)))"
        ) {
            try Self.capset(effective: eff, permitted: perm, inheritable: inheritable)
        }
        // Whatever ambient set skiff inherited is cleared; then the spec's is raised. One
        // prctl: libcap's cap_reset_ambient asks about each capability first (42 calls).
        // (Kernels before 4.3 have no ambient set and refuse the call: nothing to clear.)
        _ = sk_clear_ambient()
        if !ambient.isEmpty {
            try Explain.step("ambient caps", "prctl(PR_CAP_AMBIENT_RAISE, \(Self.names(ambient)))") {
                for cap in ambient where cap_set_ambient(cap_value_t(cap), CAP_SET) != 0 {
                    throw SkiffError("process.capabilities.ambient: raise \(Self.name(cap)): \(errnoText())")
                }
            }
        }
    }

    /// The --explain line for `dropExtra`, printed by the caller beforehand (once the
    /// seccomp filter is in place skiff writes nothing more).
    func explainDrop() {
        if extra.isEmpty { return }
        Explain.note(
            "drop capabilities", "capset(effective=\(Self.names(effective)), permitted=\(Self.names(permitted)))")
    }

    /// Give up `extra` (after the seccomp filter is loaded, right before execve).
    func dropExtra() throws {
        if extra.isEmpty { return }
        try Self.capset(effective: effective, permitted: permitted, inheritable: inheritable)
    }

    private static func capset(effective: [Int], permitted: [Int], inheritable: [Int]) throws {
        guard let caps = cap_init() else { throw SkiffError("process.capabilities: cap_init: \(errnoText())") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        for (flag, list) in [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)]
        where !list.isEmpty {
            let values = list.map { cap_value_t($0) }
            guard cap_set_flag(caps, flag, Int32(values.count), values, CAP_SET) == 0 else {
                throw SkiffError("process.capabilities: cap_set_flag: \(errnoText())")
            }
        }
        if cap_set_proc(caps) == 0 { return }
        let e = errno
        // The usual reason: asking for a capability skiff itself does not hold.
        let missing = permitted.filter { !currentPermitted().contains($0) }
        if e == EPERM && !missing.isEmpty {
            throw SkiffError(
                "process.capabilities.permitted: skiff does not hold "
                    + "\(missing.map(name).joined(separator: ", ")), so it cannot give it")
        }
        throw SkiffError("process.capabilities: capset: \(errnoText(e))")
    }

    /// This process's permitted set.
    static func currentPermitted() -> Set<Int> {
        guard let caps = cap_get_proc() else { return [] }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        var out = Set<Int>()
        for cap in 0..<Int(cap_max_bits()) {
            var value = CAP_CLEAR
            if cap_get_flag(caps, cap_value_t(cap), CAP_PERMITTED, &value) == 0 && value == CAP_SET { out.insert(cap) }
        }
        return out
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with new: String) -> String {
        hasPrefix(prefix) ? new + dropFirst(prefix.count) : self
    }
}
