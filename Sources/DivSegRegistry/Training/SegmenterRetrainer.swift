import DivSeg
import DivSegCore
import DivSegIO
import Foundation

/// Trains the shared segmenter of a registry (DESIGN.md §1): on every image of the bundles'
/// corpora, each registered class tagged in the image contributes k diverse points picked on
/// its localizer's score map, background contributes k points least similar to all of them,
/// and one segmenter is trained on the pooled points. With a ``SampleStore``, picks of
/// earlier retrainings are reused (see ``retrain(_:store:progress:)``). Changing a registry
/// folder (lock, commit) is ``RegistryEditor``'s job; this type writes nothing but store
/// entries.
///
/// ```swift
/// let retrainer = SegmenterRetrainer(extractor: extractor, cache: cache)
/// let result = try retrainer.retrain(registry, store: SampleStore(registry: registry.directory))
/// print(result.report.epochLosses, result.points, result.samples.summary)
/// ```
public struct SegmenterRetrainer: Sendable {
    public var extractor: HypercolumnExtractor
    public var cache: FeatureCache
    /// Default: dense labels at score 0.2 on every 4th row and column — chosen on coco-mini's
    /// train split with CAM-style localizers (32.5 mIoU there against 21.2 for the paper's
    /// diverse k = 20; docs/RESULTS.md). `PointSampler()` gives the paper's setting.
    public var sampler: PointSampler = {
        var sampler = PointSampler(strategy: .dense)
        sampler.denseStride = 4
        return sampler
    }()
    public var trainer = SegmenterTrainer()
    /// Overrides the folder corpus paths are relative to (default: each bundle's recorded root).
    public var dataRoot: String?

    public init(extractor: HypercolumnExtractor, cache: FeatureCache) {
        self.extractor = extractor
        self.cache = cache
    }

    /// One training image: its path and the registered classes tagged in it.
    public struct TrainingImage: Sendable, Equatable {
        public var path: String
        public var classes: [String]
    }

    /// What a retraining did.
    public struct Result: Sendable {
        public var segmenter: Segmenter
        public var report: SegmenterTrainer.Report
        public var images: Int
        public var points: Int
        public var pointsPerLabel: [Int]
        public var samplingSeconds: Double
        public var trainingSeconds: Double
        /// How many picks came from the sample store and how many were computed.
        public var samples: SampleUsage
    }

    /// Progress of the two phases, for an ETA.
    public enum Phase: Sendable { case sampling(done: Int, total: Int), training(fraction: Double) }

    /// The union of the bundles' corpora, each image with its registered tags.
    public func trainingImages(of registry: Registry) throws -> [TrainingImage] {
        var tags: [String: Set<String>] = [:]
        let registered = Set(registry.bundles.map(\.name))
        for bundle in registry.bundles {
            let root = dataRoot ?? bundle.manifest.training.dataRoot
            for entry in try bundle.corpus().entries {
                let path = entry.path.hasPrefix("/") ? entry.path : (root as NSString).appendingPathComponent(entry.path)
                let present = Set(entry.tags.map(ClassNames.canonical)).intersection(registered)
                tags[path, default: []].formUnion(present)
            }
        }
        return tags.keys.sorted().map { TrainingImage(path: $0, classes: tags[$0]!.sorted()) }
    }

    /// Samples points on every training image and trains the segmenter; the result carries
    /// the registry's fingerprint. Does not write anything but sample-store entries.
    ///
    /// With a `store`, each image's picks are looked up by their ``SampleKey`` first and only
    /// the missing ones are computed (and stored): foreground picks per (image, class,
    /// localizer), background picks per (image, present classes). Picks are the same either
    /// way, and their rows are rounded as ``SamplePicks`` describes, so the segmenter is
    /// bit-identical with or without the store. The training set is ordered by image path,
    /// then class name, then background. ``SamplingStrategy/dense`` labels are stored per
    /// label under a key of the whole present set (``SampleKey/dense(image:classes:label:context:)``).
    ///
    /// ```swift
    /// let result = try retrainer.retrain(registry, store: SampleStore(registry: registry.directory))
    /// print(result.samples.summary)
    /// ```
    public func retrain(_ registry: Registry, store: SampleStore? = nil,
                        progress: ((Phase) -> Void)? = nil) throws -> Result {
        guard !registry.bundles.isEmpty else { throw RegistryError.empty(registry.directory) }
        let images = try trainingImages(of: registry)
        // Names come from user files: check them here too, so that a duplicate or reserved
        // name is an error and never a trap in the dictionaries below.
        var seen: Set<String> = []
        for bundle in registry.bundles {
            if let problem = ClassNameRule.problem(name: bundle.name) {
                throw RegistryError.invalidClassName(name: bundle.name, reason: "\(problem) (bundle '\(bundle.directory)')")
            }
            guard seen.insert(bundle.name).inserted else {
                throw RegistryError.invalidClassName(name: bundle.name, reason: "two bundles use it ('\(bundle.directory)')")
            }
        }
        let localizers = try Dictionary(registry.bundles.map { bundle in
            do { return (bundle.name, try LocalizerFile.load(contentsOf: bundle.localizerPath)) } catch {
                throw BundleError.badLocalizer(bundle: bundle.directory, detail: "\(error)")
            }
        }, uniquingKeysWith: { first, _ in first })
        let channel = Dictionary(registry.segmenterClasses.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let identities = Dictionary(registry.bundles.map { ($0.name, SampleKey.LocalizerIdentity($0)) }, uniquingKeysWith: { first, _ in first })
        let context = SampleKey.Context(sampler: sampler, weightsSHA256: cache.weightsSHA256, featureRule: cache.featureRule)
        let start = Date()
        var usage = SampleUsage()
        var set: SegmenterTrainingSet?
        var rows: [Float] = [], labels: [Int32] = [], globalCount: Int?
        for (index, image) in images.enumerated() {
            let picks = try samplePicks(image, localizers: localizers, identities: identities, context: context,
                                        store: store, usage: &usage)
            for (name, pick) in picks {
                if globalCount == nil { globalCount = pick.global.count }
                guard pick.global.count == globalCount, pick.channels == FeatureGrid.channels else {
                    throw SegmenterError.dimensionMismatch(what: "The features of '\(image.path)'",
                                                           got: "\(pick.channels) + \(pick.global.count) values",
                                                           expected: "\(FeatureGrid.channels) + \(globalCount!)")
                }
                let label = Int32(name.map { channel[$0]! } ?? 0)
                for r in 0..<pick.count {
                    rows.append(contentsOf: pick.row(r))
                    rows.append(contentsOf: pick.global)
                    labels.append(label)
                }
            }
            progress?(.sampling(done: index + 1, total: images.count))
        }
        if let globalCount {
            set = try SegmenterTrainingSet(features: rows, labels: labels, globalCount: globalCount)
        }
        let samplingSeconds = Date().timeIntervalSince(start)
        guard let trainingSet = set else { throw RegistryError.empty(registry.directory) }
        let trainStart = Date()
        var (segmenter, report) = try trainer.train(on: trainingSet, classes: registry.segmenterClasses) { p in
            progress?(.training(fraction: p.fraction))
        }
        segmenter.fingerprint = registry.fingerprint
        return Result(segmenter: segmenter, report: report, images: images.count, points: trainingSet.count,
                      pointsPerLabel: trainingSet.labelCounts(), samplingSeconds: samplingSeconds,
                      trainingSeconds: Date().timeIntervalSince(trainStart), samples: usage)
    }

    /// The picks of one image, foreground per class (in name order, `name` set) then
    /// background (`name` nil), from the store where it has them.
    private func samplePicks(_ image: TrainingImage, localizers: [String: any ClassLocalizer],
                             identities: [String: SampleKey.LocalizerIdentity], context: SampleKey.Context,
                             store: SampleStore?, usage: inout SampleUsage) throws -> [(name: String?, picks: SamplePicks)] {
        let digest: String
        do { digest = try FileDigest.sha256(ofFileAt: image.path) } catch {
            throw FeatureCache.CacheError.unreadableImage(path: image.path, reason: "\(error)")
        }
        let present = image.classes.map { ($0, identities[$0]!) }
        // One entry per label; the dense baseline keys every label by the whole present set.
        let names: [String?] = image.classes.map { Optional($0) } + [nil]
        let keys: [SampleKey] = names.map { name in
            if sampler.strategy == .dense {
                return SampleKey.dense(image: digest, classes: present, label: name ?? "background", context: context)
            }
            guard let name else { return SampleKey.background(image: digest, classes: present, context: context) }
            return SampleKey.foreground(image: digest, className: name, localizer: identities[name]!, context: context)
        }
        func lookup(_ key: SampleKey) -> SamplePicks? {
            guard let store else { return nil }
            switch store.read(key, channels: FeatureGrid.channels, locationCount: FeatureGrid.locations) {
            case .hit(let picks): return picks
            case .missing: return nil
            case .damaged(let reason):
                usage.damagedEntries += 1
                store.log?("sample store: entry '\(store.path(for: key))' for '\(image.path)' (\(key.kind == .foreground ? "foreground" : "background")) \(reason); recomputing")
                return nil
            }
        }
        var found = keys.map(lookup)
        let reused = found.compactMap { $0?.count }.reduce(0, +)
        if found.contains(where: { $0 == nil }) {
            let compact = try cache.features(for: image.path, extractor: extractor)
            let full = compact.expanded()
            var recomputed = 0
            func keep(_ index: Int, _ locations: [Int]) {
                let picks = SamplePicks(locations: locations, hypercolumns: full, global: compact.global)
                if let store, !store.write(picks, for: keys[index], className: names[index]) { usage.failedWrites += 1 }
                found[index] = picks
                recomputed += picks.count
            }
            if sampler.strategy == .dense {
                // Labels from every class's score jointly; no feature similarities needed.
                let scores = image.classes.enumerated().map { (label: $0.offset + 1, scores: localizers[$0.element]!.score(compact)) }
                let points = try sampler.densePoints(scores: scores)
                for index in names.indices where found[index] == nil {
                    let label = index == names.count - 1 ? 0 : index + 1
                    keep(index, points.filter { $0.label == label }.map(\.location))
                }
            } else {
                let similarity = try FeatureSimilarity(hypercolumns: full)
                for (i, name) in image.classes.enumerated() where found[i] == nil {
                    keep(i, try sampler.foregroundPicks(scores: localizers[name]!.score(compact), similarity: similarity))
                }
                if found[names.count - 1] == nil {
                    let taken = found.dropLast().flatMap { $0!.locations }
                    keep(names.count - 1, try sampler.backgroundPicks(foreground: taken, similarity: similarity))
                }
            }
            usage.imagesResampled += 1
            usage.picksRecomputed += recomputed
        } else {
            usage.imagesReused += 1
        }
        usage.picksReused += reused
        return zip(names, found).map { (name: $0, picks: $1!) }
    }
}
