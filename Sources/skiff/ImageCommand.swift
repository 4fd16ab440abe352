// skiff image ls | prune: the layer cache that `run --image` fills.
import SkiffRuntime

enum ImageCommand: Command {
    static let name = "image"
    static let summary = "list (ls) or remove (prune) the cached image layers"
    static let arguments = "ls | prune"
    static let flags: [Flag] = []

    static func run(_ args: ParsedArgs, _ global: Global) throws -> Int32 {
        switch args.positionals.first {
        case "ls", "list": printOut(list())
        case "prune": printOut(prune(global))
        default: throw SkiffError("image: expected ls or prune (usage: skiff image ls|prune)")
        }
        return 0
    }

    static func size(_ bytes: Int64) -> String {
        let tenths = (bytes * 10) >> 20 // (Swift's >> binds tighter than *)
        return bytes >= 1 << 20 ? "\(tenths / 10).\(tenths % 10)MB" : "\((bytes + 1023) >> 10)kB"
    }

    static func list() -> String {
        let layers = LayerCache.layers()
        let bytes = Dictionary(layers.map { ($0.digest, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        var s = "IMAGE".padded(60) + " ID".padded(22) + " LAYERS  SIZE\n"
        for image in LayerCache.images() {
            let total = image.layers.reduce(Int64(0)) { $0 + (bytes[$1] ?? 0) }
            s +=
                image.reference.padded(60) + " " + String(image.id.prefix(19)).padded(21) + " "
                + String(image.layers.count).padded(7) + " " + size(total) + "\n"
        }
        s += "\nLAYER".padded(24) + "SIZE      USED BY\n"
        for l in layers {
            let shared = l.images.count > 1 ? " (shared)" : ""
            s +=
                String(l.digest.prefix(23)).padded(23) + size(l.bytes).padded(10)
                + "\(l.images.count) image(s)\(shared)\n"
        }
        s += "\ntotal \(size(layers.reduce(0) { $0 + $1.bytes })) in \(LayerCache.root)\n"
        return s
    }

    /// Remove every layer no container of this --root uses.
    static func prune(_ global: Global) -> String {
        let store = global.runtime.store
        var inUse = Set<String>()
        for id in store.ids() {
            if let record = try? store.load(id), let o = record.overlay { inUse.formUnion(o.lowerDirs) }
        }
        let removed = LayerCache.prune(inUse: inUse)
        var s = removed.map { "deleted \($0.digest)\n" }.joined()
        s += "reclaimed \(size(removed.reduce(0) { $0 + $1.bytes }))\n"
        return s
    }
}
