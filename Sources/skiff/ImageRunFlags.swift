// `--image PATH[:TAG]` for `skiff run` and `skiff spec`: the quick-run flags apply, and the
// image's config (Env, Entrypoint+Cmd, WorkingDir, User) fills what they leave unset.
import SkiffRuntime
import SkiffSpec

let imageFlag = Flag(
    names: ["image"], takesValue: true,
    help: "run an OCI image layout or docker save archive (DIR or TAR, optionally :TAG)")

/// The spec for `--image`: layers unpacked (or found) in the cache, config applied.
func imageQuickRunSpec(_ args: ParsedArgs, image reference: String, id: String) throws -> (Spec, QuickRunOptions) {
    if args.has("rootfs") { throw SkiffError("--image and --rootfs: give one of them") }
    let (image, layerDirs) = try ImageRun.prepare(reference)
    let quick = try quickRunOptions(args, rootfs: layerDirs.last ?? "", command: args.positionals)
    return (try ImageRun.spec(quick, image: image, layerDirs: layerDirs, id: id), quick)
}
