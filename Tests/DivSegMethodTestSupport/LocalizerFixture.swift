import DivSeg
import DivSegCore
import DivSegIO
import DivSegTestSupport
import Foundation
import DivSegDatasets

/// Real coco-mini images for the tests of the method (localizers, baselines, diagnostics): the 8 giraffe images and 8 images without
/// a giraffe, with features in a feature cache that persists between test runs (the cache
/// validates its entries, so a changed backbone or rule is recomputed, not reused).
public enum LocalizerFixture {
    public static let dataRoot = SharedData.cocoMini

    public struct Images: Sendable {
        public let samples: [DatasetSample]
        public let positives: [String]
        public let negatives: [String]
        public let cache: FeatureCache
        public let extractor: HypercolumnExtractor

        public func features(_ path: String) throws -> CompactHypercolumns {
            try cache.features(for: path, extractor: extractor)
        }
    }

    public static let giraffe: Result<Images, any Error> = Result {
        let extractor = try HypercolumnExtractor(weightsAt: SharedData.weights)
        let dataset = try Dataset.open(spec: "coco:" + dataRoot)
        let samples = dataset.samples
        let positives = samples.filter { $0.tags.contains("giraffe") }.map(\.imagePath)
        // Every 20th untagged image: a spread of scenes, fixed across runs.
        let untagged = samples.filter { !$0.tags.contains("giraffe") }
        let negatives = stride(from: 0, to: untagged.count, by: 20).prefix(positives.count).map { untagged[$0].imagePath }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-localizer-test-cache").path
        let cache = try FeatureCache(directory: directory, weightsAt: SharedData.weights)
        try cache.precompute(positives + negatives, extractor: extractor)
        return Images(samples: samples, positives: positives, negatives: negatives, cache: cache, extractor: extractor)
    }

    /// A fresh empty directory.
    public static func temporaryDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("divseg-\(name)-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Compact features with uniform random values in [0, 1), for tests that need no image.
    public static func randomFeatures(seed: UInt64) -> CompactHypercolumns {
        var rng = SplitMix64(seed: seed)
        func group(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: rng.floats(shape.reduce(1, *)))
        }
        return CompactHypercolumns(grid: group(CompactHypercolumns.gridShape), block4: group(CompactHypercolumns.block4Shape),
                                   block5: group(CompactHypercolumns.block5Shape), global: rng.floats(512))
    }

    /// Largest |a − b| relative to the largest |b|.
    public static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        let scale = b.map(abs).max() ?? 0
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        return worst / max(scale, .leastNormalMagnitude)
    }
}
