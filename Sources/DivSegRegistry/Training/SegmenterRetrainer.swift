import DivSeg
import DivSegCore
import DivSegIO
import Foundation

/// Trains the shared segmenter of a registry (DESIGN.md §1): on every image of the bundles'
/// corpora, each registered class tagged in the image contributes k diverse points picked on
/// its localizer's score map, background contributes k points least similar to all of them,
/// and one segmenter is trained on the pooled points.
///
/// ```swift
/// let result = try SegmenterRetrainer(extractor: extractor, cache: cache).retrain(registry)
/// print(result.report.finalLoss, result.points)
/// ```
public struct SegmenterRetrainer: Sendable {
    public var extractor: HypercolumnExtractor
    public var cache: FeatureCache
    public var sampler = PointSampler()
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
    /// the registry's fingerprint. Does not write anything.
    public func retrain(_ registry: Registry, progress: ((Phase) -> Void)? = nil) throws -> Result {
        guard !registry.bundles.isEmpty else { throw RegistryError.empty(registry.directory) }
        let images = try trainingImages(of: registry)
        let localizers = try Dictionary(uniqueKeysWithValues: registry.bundles.map { bundle in
            do { return (bundle.name, try Localizer(contentsOf: bundle.localizerPath)) } catch {
                throw BundleError.badLocalizer(bundle: bundle.directory, detail: "\(error)")
            }
        })
        let channel = Dictionary(uniqueKeysWithValues: registry.segmenterClasses.enumerated().map { ($1, $0) })
        let start = Date()
        var set: SegmenterTrainingSet?
        for (index, image) in images.enumerated() {
            let compact = try cache.features(for: image.path, extractor: extractor)
            let full = compact.expanded()
            let similarity = try FeatureSimilarity(hypercolumns: full)
            let scores = image.classes.map { (label: channel[$0]!, scores: localizers[$0]!.score(compact)) }
            let points = try sampler.samplePoints(classScores: scores, similarity: similarity)
            if set == nil { set = SegmenterTrainingSet(globalCount: compact.global.count) }
            try set!.append(points: points, hypercolumns: full, global: compact.global)
            progress?(.sampling(done: index + 1, total: images.count))
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
                      trainingSeconds: Date().timeIntervalSince(trainStart))
    }
}
