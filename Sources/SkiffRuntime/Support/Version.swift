// Versions reported by `skiff --version` and `skiff features`.
import CSeccomp
import SkiffSpec

public let skiffVersion = "0.1.0"
/// The runtime-spec version Skiff implements.
public let specVersion = Spec.currentVersion

/// The libseccomp Skiff is linked with, e.g. "2.5.4".
public func libseccompVersion() -> String {
    guard let v = seccomp_version() else { return "unknown" }
    return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
}
