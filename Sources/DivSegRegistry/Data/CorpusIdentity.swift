import Foundation

/// Which image collection a bundle was trained on, without saying where it is on any machine:
/// the dataset kind and the name of its folder, e.g. `coco:coco-mini`. It is what a manifest
/// records in `training.corpus`; `corpus.csv` lists each image by its path relative to that
/// folder plus its SHA-256, and ``DataRoots`` finds the folder on the machine that retrains.
///
/// Bundles never record a machine path, because a registry is copied, cloned and shipped:
/// a path of the machine that trained it means nothing elsewhere (issue 9 §3).
///
/// ```swift
/// CorpusIdentity(recorded: "coco:coco-mini").name                   // "coco-mini"
/// CorpusIdentity(recorded: "coco:../shared/data/coco-mini").name     // "coco-mini" (older manifests)
/// CorpusIdentity(kind: "tags", root: "/photos/holiday").description   // "tags:holiday"
/// ```
public struct CorpusIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The dataset kind ("coco", "voc", "tags"; empty when unknown).
    public var kind: String
    /// The name of the corpus folder (its last path component; empty when unknown).
    public var name: String

    public init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    /// The identity of the corpus folder `root` of a dataset of `kind`.
    public init(kind: String, root: String) {
        self.init(kind: kind, name: ((root as NSString).standardizingPath as NSString).lastPathComponent)
    }

    /// Parses a manifest's `training.corpus`. Manifests written before identities existed
    /// recorded the dataset spec with its path (`coco:../shared/data/coco-mini`,
    /// `tags:/data/photos/tags.csv`); of those only the folder name is kept, because the
    /// path itself belonged to the machine that trained the bundle.
    public init(recorded: String) {
        guard let colon = recorded.firstIndex(of: ":") else {
            self.init(kind: "", name: "")
            return
        }
        let kind = String(recorded[..<colon])
        let rest = String(recorded[recorded.index(after: colon)...])
        guard rest.contains("/") || rest.lowercased().hasSuffix(".csv") else {
            self.init(kind: kind, name: rest)
            return
        }
        var path = (rest as NSString).standardizingPath
        // A tags spec named the CSV file; its images were relative to the file's folder.
        if path.lowercased().hasSuffix(".csv") { path = (path as NSString).deletingLastPathComponent }
        let name = (path as NSString).lastPathComponent
        self.init(kind: kind, name: name == "." || name == ".." || name == "/" ? "" : name)
    }

    /// `kind:name`, what manifests record.
    public var description: String { "\(kind):\(name)" }
}
