import DivSeg
import DivSegCore
import Foundation

/// Fills a registry's sample store for one shard of its training images without training
/// (`retrain --sample-only --shard i/n`): the per-image stage of a retraining, split across
/// processes or cluster jobs. A final `retrain` then finds every pick stored, opens no image
/// and only trains — and trains exactly the segmenter one process would have, because picks
/// are the same whether read or computed (``SegmenterRetrainer/retrain(_:store:progress:)``).
///
/// Images are the registry's training images in path order
/// (``SegmenterRetrainer/trainingImages(of:)``), assigned to shards by ``Shard/select(_:)``.
///
/// No registry lock is taken: the registry is only read (``Registry/open(_:backbone:)``, under
/// the shared commit lock for the moment of reading), and the only writes are sample-store
/// entries — content-keyed files written atomically under a unique temporary name and renamed
/// into place, so any number of shards (and a concurrent `add`/`retrain`) can write one store.
/// Two shards never compute the same entry, and if two processes did, both would write the
/// same bytes.
///
/// ```swift
/// let filler = SampleStoreFiller(retrainer: retrainer)
/// let report = try filler.fill(registry: "classes", backbone: identity, shard: try Shard(parsing: "2/4"))
/// print(report.usage.summary)
/// ```
public struct SampleStoreFiller: Sendable {
    /// Sampler settings, feature cache, backbone and data roots: the same as the final retraining's.
    public var retrainer: SegmenterRetrainer
    /// The dense background rule; nil takes the registry's recorded rule, as `retrain` does.
    public var background: DenseBackground?
    /// The label refinement; nil takes the registry's recorded one (else the retrainer's), as
    /// `retrain` does.
    public var refinement: LabelRefinement?
    /// Receives one line per damaged entry or failed write.
    public var log: (@Sendable (String) -> Void)?

    public init(retrainer: SegmenterRetrainer, background: DenseBackground? = nil) {
        self.retrainer = retrainer
        self.background = background
    }

    /// What a fill did.
    public struct Report: Sendable {
        /// The shard filled.
        public var shard: Shard
        /// Training images of the registry, and those of this shard.
        public var totalImages: Int
        public var shardImages: Int
        /// Picks found in the store and computed.
        public var usage: SampleUsage
        public var seconds: Double
        /// The store's folder.
        public var store: String

        /// One line for people.
        public var summary: String {
            "shard \(shard): \(shardImages) of \(totalImages) training images; \(usage.summary); "
                + String(format: "%.1f s", seconds)
        }
    }

    /// Computes and stores the missing picks of the shard's images; `progress(done, total)`
    /// after each image. Images whose entries all exist are skipped without reading them
    /// (the final retraining checks every entry it reads and recomputes a damaged one).
    ///
    /// - Throws: ``RegistryError/empty(_:)``, ``RegistryError/invalidClassName(name:reason:)``,
    ///   ``CorpusImageError`` (one error for all of the shard's missing images), sampling and
    ///   feature errors.
    @discardableResult
    ///
    /// - Parameter store: the store the final retraining reads (``RegistryEditor/sampleStore``);
    ///   nil: `<registry>/.samples`.
    public func fill(registry directory: String, backbone: BundleManifest.BackboneInfo, shard: Shard,
                     store: SampleStore? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> Report {
        let start = Date()
        let registry = try Registry.open(directory, backbone: backbone)
        guard !registry.bundles.isEmpty else { throw RegistryError.empty(directory) }
        var retrainer = retrainer
        // The rule the final retraining will use (RegistryEditor: option, else the ledger's).
        retrainer.sampler.denseBackground = background ?? registry.ledger.background ?? .threshold
        retrainer.refinement = refinement ?? registry.ledger.labelRefinement ?? retrainer.refinement
        let (all, owners) = try retrainer.corpusIndex(of: registry)
        try SegmenterRetrainer.checkClassNames(of: registry)
        let images = shard.select(all)
        var store = store ?? SampleStore(registry: directory)
        store.log = log
        let identities = Dictionary(registry.bundles.map { ($0.name, SampleKey.LocalizerIdentity($0)) }, uniquingKeysWith: { a, _ in a })
        // The retrainer's own context (flipped maps included), so the final retraining finds
        // exactly these keys.
        let context = SampleKey.Context(sampler: retrainer.sampler, weightsSHA256: retrainer.cache.weightsSHA256,
                                        featureRule: retrainer.cache.featureRule, augmentation: retrainer.augmentation,
                                        refinement: retrainer.refinement)
        // As in a retraining: the images that need their file are found up front.
        let locator = ImageLocator(roots: retrainer.dataRoots, registry: directory, owners: owners)
        var files: [String: String] = [:]
        var missing: [SegmenterRetrainer.TrainingImage] = []
        var needed = 0
        for image in images where !retrainer.sampleKeys(image, identities: identities, context: context).keys.allSatisfy(store.contains) {
            needed += 1
            if let file = try locator.locate(image) { files[image.path] = file } else { missing.append(image) }
        }
        if let first = missing.first { throw try locator.missingError(first, missing: missing.count, needed: needed) }
        var localizers: [String: any Localizer] = [:]
        if needed > 0 {
            localizers = try Dictionary(registry.bundles.map { ($0.name, try $0.loadLocalizer()) }, uniquingKeysWith: { a, _ in a })
        }
        var usage = SampleUsage()
        for (index, image) in images.enumerated() {
            if let file = files[image.path] {
                _ = try retrainer.samplePicks(image, file: { file }, localizers: localizers, identities: identities,
                                              context: context, store: store, usage: &usage)
            } else {
                // Every entry exists: nothing to compute (the final retraining reads and checks them).
                usage.imagesReused += 1
            }
            progress?(index + 1, images.count)
        }
        return Report(shard: shard, totalImages: all.count, shardImages: images.count, usage: usage,
                      seconds: Date().timeIntervalSince(start), store: store.directory)
    }
}
