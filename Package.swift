// swift-tools-version:6.0
// Skiff: a minimal OCI container runtime in Swift.
//
// Layers (each one job):
//   CShim         - C helpers for what Glibc's Swift module hides (clone3, setns, pivot_root, mount API, SCM_RIGHTS)
//   CSeccomp/CCap - system libraries libseccomp and libcap (module maps); libcrypto (SHA-256) is
//                   loaded with dlopen when an image is hashed (Support/SHA256.swift)
//   SkiffSpec     - the OCI runtime-spec model, JSON codec and validator (no syscalls)
//   SkiffRuntime  - the engine: namespaces, rootfs, cgroups, security, processes, hooks, state
//   skiff         - the runc-compatible command line, one file per command
import PackageDescription

// Swift imports _StringProcessing (Regex, and substring search on StringProtocol) into every
// file unless told not to; Skiff uses none of it (Support/Text.swift has the substring search
// it needs), and leaving it out keeps _StringProcessing and _RegexParser (780 KB of text) out
// of the binary, which is started twice per `run` (docs/performance.md).
let noStringProcessing: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"])
]

// The release link's order of the functions a container's lifecycle runs (see the skiff target).
let hotFunctions = "\(Context.packageDirectory)/Sources/skiff/hot-functions.order"

let package = Package(
    name: "skiff",
    products: [
        .executable(name: "skiff", targets: ["skiff"])
    ],
    targets: [
        .target(name: "CShim"),
        // Linked statically from the .a files of Debian's libseccomp-dev and libcap-dev (see their
        // module maps), so no pkg-config: its `-lseccomp` / `-lcap` would bring the .so back.
        .systemLibrary(name: "CSeccomp"),
        .systemLibrary(name: "CCap"),
        .target(name: "SkiffSpec", swiftSettings: noStringProcessing),
        .target(
            name: "SkiffRuntime", dependencies: ["SkiffSpec", "CShim", "CSeccomp", "CCap"],
            swiftSettings: noStringProcessing),
        // A release build is a fully static executable (glibc, libstdc++ and the Swift runtime
        // included): no ld.so, no libraries to find, map and relocate at each start, which `run`
        // pays twice (exe protection). 30 % fewer page faults and 3 MB less peak RSS per `run`
        // (docs/performance.md). It is linked by lld with the functions a container's lifecycle
        // runs side by side at the start of .text (hot-functions.order, written by
        // scripts/hot-order): the kernel maps text 64 KiB around each fault, so scattered hot
        // functions kept nearly all 6.3 MB resident. Debug builds, which the tests use, stay
        // dynamic and unordered (faster links).
        .executableTarget(
            name: "skiff", dependencies: ["SkiffRuntime", "SkiffSpec"], exclude: ["hot-functions.order"],
            swiftSettings: noStringProcessing,
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-static-executable", "-use-ld=lld",
                        "-Xlinker", "--symbol-ordering-file=\(hotFunctions)",
                        "-Xlinker", "--no-warn-symbol-ordering",
                    ], .when(configuration: .release))
            ]),
        .testTarget(name: "SkiffSpecTests", dependencies: ["SkiffSpec"]),
        // Unit tests of the runtime's pure parts (no root): cgroup values, the device BPF
        // program, namespace flags, mount options, the quick-run spec builder.
        .testTarget(name: "SkiffRuntimeTests", dependencies: ["SkiffRuntime", "SkiffSpec"]),
        // Unit tests of the command line (argument parser, size parser): they import the
        // executable module itself (`@testable import skiff`; SwiftPM renames its entry point
        // in test builds), so the CLI keeps its one-target layout.
        .testTarget(name: "SkiffCLITests", dependencies: ["skiff", "SkiffRuntime", "SkiffSpec"]),
        .testTarget(name: "SkiffIntegrationTests", dependencies: []),
    ],
    swiftLanguageModes: [.v5]
)
