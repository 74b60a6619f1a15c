import DivSeg
import DivSegCore
import DivSegIO
import Foundation
import DivSegDatasets

/// Trains a class bundle from image tags: the localizer of one class on the images tagged
/// with it against images not tagged with it (``negativesPerPositive``; by default every
/// untagged image for the CAM-style localizer, one per positive for the paper's), written
/// as a bundle directory (manifest, localizer weights — float16 for the paper's MLP with
/// ``storage`` `.float16`, float32 for the small CAM-style one — and corpus). The manifest records the corpus as
/// `coco:coco-mini` (kind and folder name, never a machine path) and corpus.csv each image's
/// path relative to that folder with its SHA-256 (see ``DataRoots``).
///
/// ```swift
/// let coco = try Dataset.open(spec: "coco:../shared/data/coco-mini", split: "train")
/// let (bundle, report) = try BundleTrainer().train(className: "giraffe", dataset: coco,
///     spec: "coco:../shared/data/coco-mini", extractor: extractor, cache: cache,
///     backbone: identity, to: "classes/giraffe")
/// ```
public struct BundleTrainer: Sendable {
    /// The localizer architecture (TheMethod.md, "Localizers"; see ``LocalizerKind``).
    /// Default: ``LocalizerKind/cam``, chosen on coco-mini's train split (docs/RESULTS.md).
    public var kind = LocalizerKind.cam
    /// Negatives per positive; nil = the kind's own default (1 for the paper's localizer,
    /// every untagged image for the CAM-style one). Within ``negativesPerPositiveRange``.
    public var negativesPerPositive: Double?
    /// The ``negativesPerPositive`` accepted: infinity means every untagged image; below
    /// one negative per hundred positives there is nothing to contrast the class with
    /// (and a negative or NaN ratio means nothing).
    public static let negativesPerPositiveRange: ClosedRange<Double> = 0.01...Double.infinity
    /// Settings of the paper's localizer (``LocalizerKind/mlp``); its seed and negative
    /// ratio apply to both kinds.
    public var trainer = LocalizerTrainer()
    /// Settings of the CAM-style localizer (``LocalizerKind/cam``) other than seed and ratio.
    public var camTrainer = AveragePooledLocalizerTrainer()
    /// Storage of the weights in the bundle (float16 halves the size; scores change < 1e-3).
    public var storage: HDF5Storage = .float16
    public static let toolVersion = DivSegVersion.tool
    /// Whether an existing bundle at the output directory may be replaced (`train --force`).
    /// Anything else there (other files, a registry) is refused either way: see ``BundleTarget``.
    public var replaceExisting = false
    /// Called once the training images are chosen, before any feature is read: how many of
    /// them the feature cache already holds and how many need the backbone (`train` prints
    /// it). Nil: not counted.
    public var announce: (@Sendable (FeaturePlan) -> Void)?

    public init() {}

    public func train(className rawName: String, dataset: Dataset, spec: String,
                      extractor: HypercolumnExtractor, cache: FeatureCache,
                      backbone: BundleManifest.BackboneInfo, to directory: String,
                      progress: ((LocalizerTrainer.Progress) -> Void)? = nil) throws -> (ClassBundle, LocalizerReport) {
        try train(className: rawName, dataset: dataset, spec: spec, extractor: LazyHypercolumnExtractor(extractor),
                  cache: cache, backbone: backbone, to: directory, progress: progress)
    }

    /// Like ``train(className:dataset:spec:extractor:cache:backbone:to:progress:)`` with a
    /// backbone loaded only if an image must go through it: a CAM-style bundle whose images
    /// all have cached state (or full) entries never loads the weights, which is most of
    /// the time of a `train` on a warm cache.
    ///
    /// ```swift
    /// let (bundle, report) = try BundleTrainer().train(className: "giraffe", dataset: coco,
    ///     spec: "coco:../shared/data/coco-mini", extractor: LazyHypercolumnExtractor(weightsAt: weights),
    ///     cache: cache, backbone: identity, to: "classes/giraffe")
    /// ```
    public func train(className rawName: String, dataset: Dataset, spec: String,
                      extractor: LazyHypercolumnExtractor, cache: FeatureCache,
                      backbone: BundleManifest.BackboneInfo, to directory: String,
                      progress: ((LocalizerTrainer.Progress) -> Void)? = nil) throws -> (ClassBundle, LocalizerReport) {
        // Before the (long) training: refuse a target that would be lost or is a registry.
        try BundleTarget.check(directory, replace: replaceExisting)
        let name = ClassNames.canonical(rawName)
        // The name becomes a directory name in registries: refuse it before any work.
        if let problem = ClassNameRule.problem(name: name) {
            throw RegistryError.invalidClassName(name: name, reason: problem)
        }
        if let negativesPerPositive, !Self.negativesPerPositiveRange.contains(negativesPerPositive) {
            throw LocalizerError.invalidSetting(name: "negativesPerPositive", value: "\(negativesPerPositive)",
                                                requirement: "\(Self.negativesPerPositiveRange.requirementText) "
                                                    + "(inf = every untagged image)")
        }
        let positives = dataset.samples.filter { $0.tags.contains(name) }
        var others = dataset.samples.filter { !$0.tags.contains(name) }
        // Checked before the ratio is derived: with no candidates it would be 0 and the
        // trainer would complain about the ratio instead of the missing images.
        guard !positives.isEmpty else { throw LocalizerError.noPositives(className: name) }
        guard !others.isEmpty else { throw LocalizerError.noNegatives(className: name) }
        // The negatives are drawn here (seeded) so that the corpus records exactly them.
        var rng = SplitMix64(seed: trainer.seed ^ 0x6E65_6761_7469_7665)
        others.shuffle(using: &rng)
        let wanted = negativesPerPositive ?? (kind == .mlp ? trainer.negativesPerPositive : camTrainer.negativesPerPositive)
        let count = wanted >= Double(others.count) ? others.count
            : min(others.count, max(1, Int((Double(positives.count) * wanted).rounded())))
        let negatives = Array(others.prefix(count))
        let ratio = Double(negatives.count) / Double(max(1, positives.count))
        if let announce {
            announce(FeaturePlan(cache: cache, imagePaths: (positives + negatives).map(\.imagePath),
                                 entry: kind == .cam ? .state : .full))
        }
        let localizer: any Localizer
        let report: LocalizerReport
        let optimizer: String
        // SHA-256 of image files already read for the feature cache (the same bytes' digest).
        var digests: [String: String] = [:]
        switch kind {
        case .mlp:
            var localTrainer = trainer
            localTrainer.negativesPerPositive = ratio
            (localizer, report) = try localTrainer.train(
                className: name, positives: positives.map(\.imagePath), negativeCandidates: negatives.map(\.imagePath),
                cache: cache, extractor: try extractor.extractor(), progress: progress)
            optimizer = "adam (\(trainer.epochs) epochs at lr, \(trainer.fineTuneEpochs) at lr×\(trainer.fineTuneFactor))"
        case .cam:
            var localTrainer = camTrainer
            localTrainer.seed = trainer.seed
            localTrainer.negativesPerPositive = ratio
            (localizer, report) = try localTrainer.train(
                className: name, positives: positives.map(\.imagePath), negativeCandidates: negatives.map(\.imagePath),
                // The compact state (0.35 MB per image) is all a CAM-style localizer reads; the
                // image digests computed for the cache keys are kept for the corpus file.
                states: { path, flipped in
                    let (state, digest) = try cache.stateAndDigest(for: path, extractor: extractor, flipped: flipped)
                    if !flipped { digests[path] = digest }
                    return state
                },
                progress: progress)
            let r = camTrainer.regression
            optimizer = "adam (\(r.epochs) epochs, batch \(r.batchSize), L2 \(r.weightDecay))"
        }

        let root = BundleTrainer.dataRoot(of: dataset, spec: spec)
        let corpus = CorpusFile(entries: try (positives + negatives).map { sample in
            CorpusFile.Entry(path: BundleTrainer.relativePath(sample.imagePath, to: root), tags: Array(sample.tags),
                             sha256: try digests[sample.imagePath] ?? FileDigest.sha256(ofFileAt: sample.imagePath))
        }.sorted { $0.path < $1.path })
        let vocIndex = ClassNames.voc.firstIndex(of: name).map { $0 + 1 }
        let color = vocIndex.map { ColorPalette.voc.color(of: UInt8($0)) }.map { [Int($0.r), Int($0.g), Int($0.b)] }
            ?? BundleTrainer.color(for: name)
        // A multi-word dataset class ("traffic light") is named with '_' (`traffic_light`,
        // see ClassNames.canonical); the dataset's spelling stays in the manifest as display
        // name and alias, so `show "traffic light"` and COCO's tags keep finding it.
        let spelled = ClassNames.spelled(name)
        let aliases = (ClassNames.cocoAliases.filter { $0.value == name }.map(\.key) + (spelled == name ? [] : [spelled])).sorted()
        let manifest = BundleManifest(
            name: name, displayName: spelled.prefix(1).uppercased() + spelled.dropFirst(), aliases: aliases,
            preferredLabel: vocIndex, color: color,
            localizer: .init(file: "localizer.h5", sha256: "", inputChannels: localizer.inputChannels,
                             hiddenUnits: localizer.hiddenUnits, loss: localizer.objective.rawValue,
                             storage: kind == .mlp && storage == .float16 ? "float16" : "float32"),
            backbone: backbone, scoreScale: localizer.scoreScale,
            training: .init(corpus: BundleTrainer.corpusIdentity(of: dataset, spec: spec).description,
                            split: dataset.split, positives: report.trainingPositives,
                            negatives: report.trainingNegatives, epochs: report.epochs + report.fineTuneEpochs,
                            optimizer: optimizer,
                            learningRate: kind == .mlp ? trainer.learningRate : camTrainer.regression.learningRate, seed: trainer.seed, seconds: report.seconds,
                            finalLoss: Float(report.finalLoss),
                            heldOutImages: report.heldOutPositives + report.heldOutNegatives,
                            heldOutAccuracy: report.evaluatedOn == .heldOut ? report.accuracy : nil,
                            heldOutAUC: report.evaluatedOn == .heldOut ? report.auc : nil),
            created: ISO8601DateFormatter().string(from: Date()), toolVersion: BundleTrainer.toolVersion)
        let bundle = try ClassBundle.write(to: directory, manifest: manifest, corpus: corpus,
                                            replace: replaceExisting) { path in
            try localizer.save(to: path, storage: storage)
        }
        return (bundle, report)
    }

    /// The folder a dataset spec's image paths are relative to (the spec's folder; a tags
    /// CSV's own folder).
    public static func dataRoot(of spec: String) -> String {
        guard let colon = spec.firstIndex(of: ":") else { return FileManager.default.currentDirectoryPath }
        let path = String(spec[spec.index(after: colon)...])
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        let standardized = (absolute as NSString).standardizingPath
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: standardized, isDirectory: &isDirectory), !isDirectory.boolValue {
            return (standardized as NSString).deletingLastPathComponent
        }
        return standardized
    }

    /// The data root of a dataset's bundles: `corpus.csv` paths are relative to it, and it is
    /// the folder a user points `--data-root` at. The spec's folder when every image is inside
    /// it; otherwise (a tags CSV listing images elsewhere) the deepest folder that holds them
    /// all, so that corpus.csv never records an absolute path.
    ///
    /// ```swift
    /// BundleTrainer.dataRoot(of: coco, spec: "coco:../shared/data/coco-mini")   // "…/shared/data/coco-mini"
    /// ```
    public static func dataRoot(of dataset: Dataset, spec: String) -> String {
        let root = dataRoot(of: spec)
        let images = dataset.samples.map { DataRoots.absolute($0.imagePath) }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        if images.allSatisfy({ $0.hasPrefix(prefix) }) { return root }
        var common = images.first.map { ($0 as NSString).deletingLastPathComponent.split(separator: "/", omittingEmptySubsequences: true) } ?? []
        for image in images.dropFirst() {
            let folders = (image as NSString).deletingLastPathComponent.split(separator: "/", omittingEmptySubsequences: true)
            common = Array(zip(common, folders).prefix { $0 == $1 }.map(\.0))
        }
        return "/" + common.joined(separator: "/")
    }

    /// The portable identity recorded for a dataset's bundles: its kind and the name of its
    /// data root (``dataRoot(of:spec:)``), e.g. `coco:coco-mini`.
    public static func corpusIdentity(of dataset: Dataset, spec: String) -> CorpusIdentity {
        let kind = spec.firstIndex(of: ":").map { String(spec[..<$0]) } ?? dataset.kind.rawValue
        return CorpusIdentity(kind: kind, root: dataRoot(of: dataset, spec: spec))
    }

    static func relativePath(_ path: String, to root: String) -> String {
        let standardized = DataRoots.absolute(path)
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return standardized.hasPrefix(prefix) ? String(standardized.dropFirst(prefix.count)) : standardized
    }

    /// A stable, saturated colour for a class without a VOC colour.
    static func color(for name: String) -> [Int] {
        var hash: UInt64 = 1469598103934665603
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        let hue = Double(hash % 360) / 60
        let x = 1 - abs(hue.truncatingRemainder(dividingBy: 2) - 1)
        let (r, g, b): (Double, Double, Double) = switch Int(hue) {
        case 0: (1, x, 0)
        case 1: (x, 1, 0)
        case 2: (0, 1, x)
        case 3: (0, x, 1)
        case 4: (x, 0, 1)
        default: (1, 0, x)
        }
        return [r, g, b].map { Int(55 + 200 * $0) }
    }
}
