import DivSegCore
import DivSegIO
import DivSegDatasets
import DivSeg

/// The "localizer score argmax" baseline: segment an image straight from the per-class
/// localizer score maps, with no sampling and no segmenter — what the localizers alone
/// know about where the objects are.
///
/// For an image, S_c is the sampling score of **every** class the baseline knows (tags are
/// unknown at test time), on the 64×84 grid (``Localizer/score(_:kind:)``; scaled so that a
/// typical positive image peaks near 1). The maps are resized bilinearly to the image size
/// and each pixel gets the label `c + 1` of the class with the highest S_c where that score
/// is at least ``threshold`` τ, background where every class is below it (the rule of
/// ``ThresholdSearch/labels(classMaps:threshold:height:width:)``).
///
/// τ is chosen on training images with masks by ``calibrate(classes:samples:scores:thresholds:progress:)``:
/// the value of the grid (default 0.1, 0.2, …, 1.5: the scaled scores of present objects
/// peak around 1) with the highest training mIoU.
///
/// ```swift
/// let (baseline, candidates) = try LocalizerArgmaxBaseline.calibrate(
///     classes: names, samples: train.samples.filter(\.hasGroundTruth)) { sample in
///         let compact = try cache.features(for: sample.imagePath, extractor: extractor)
///         return localizers.map { $0.score(compact) }
///     }
/// let labels = try baseline.predict(scores: localizers.map { $0.score(compact) },
///                                   imageSize: (width: 640, height: 480))
/// ```
public struct LocalizerArgmaxBaseline: Sendable, Equatable, Codable {
    /// The default grid of thresholds τ.
    public static let defaultThresholds = ThresholdSearch.grid(from: 0.1, through: 1.5, by: 0.1)

    /// Foreground classes; `scores[i]` belongs to `classes[i]`, label `i + 1`.
    public let classes: [String]
    /// τ: pixels whose best score is below it are background.
    public var threshold: Float

    /// - Throws: ``BaselineError/invalidClasses(detail:)``, or
    ///   ``BaselineError/invalidSetting(name:value:requirement:)`` for a threshold that is not finite.
    public init(classes: [String], threshold: Float) throws(BaselineError) {
        try BaselineError.validate(classes: classes)
        guard threshold.isFinite else {
            throw .invalidSetting(name: "threshold", value: "\(threshold)", requirement: "finite")
        }
        self.classes = classes
        self.threshold = threshold
    }

    /// The score maps as a `[classes.count, 64, 84]` tensor.
    ///
    /// - Throws: ``BaselineError/scoreMismatch(detail:)`` for the wrong number of maps, a map
    ///   of the wrong length, or a value that is not finite.
    public func scoreTensor(_ scores: [[Float]]) throws(BaselineError) -> Tensor {
        guard scores.count == classes.count else {
            throw .scoreMismatch(detail: "\(scores.count) score maps for \(classes.count) classes")
        }
        let n = FeatureGrid.locations
        for (i, map) in scores.enumerated() {
            guard map.count == n else {
                throw .scoreMismatch(detail: "the map of '\(classes[i])' has \(map.count) values, the grid \(n)")
            }
            guard map.allSatisfy(\.isFinite) else {
                throw .scoreMismatch(detail: "the map of '\(classes[i])' holds a NaN or infinite value")
            }
        }
        return Tensor(shape: [classes.count, FeatureGrid.height, FeatureGrid.width], scalars: scores.flatMap { $0 })
    }

    /// The segmentation of an image at its original size from the score maps of all classes
    /// (class order); values only in `0…classes.count`.
    ///
    /// - Throws: ``BaselineError/scoreMismatch(detail:)``, or
    ///   ``BaselineError/invalidSetting(name:value:requirement:)`` for a size that is not positive.
    public func predict(scores: [[Float]], imageSize: (width: Int, height: Int)) throws(BaselineError) -> LabelMap {
        guard imageSize.width > 0, imageSize.height > 0 else {
            throw .invalidSetting(name: "imageSize", value: "\(imageSize.width)×\(imageSize.height)",
                                  requirement: "positive")
        }
        return ThresholdSearch.labels(classMaps: try scoreTensor(scores), threshold: threshold,
                                      height: imageSize.height, width: imageSize.width)
    }

    /// Chooses τ on images with masks: the grid value with the highest mIoU over `samples`
    /// (samples without ground truth are skipped).
    ///
    /// - Parameters:
    ///   - scores: the score maps of every class (class order) for a sample.
    ///   - progress: `(done, total)` after each sample.
    /// - Returns: the baseline with the best τ, and the mIoU of every τ tried.
    /// - Throws: ``BaselineError/noGroundTruth(images:)`` when no sample has a mask, other
    ///   ``BaselineError``s, or what `scores` or the ground truth throws.
    public static func calibrate(classes: [String], samples: [DatasetSample],
                                 scores: (DatasetSample) throws -> [[Float]],
                                 thresholds: [Float] = defaultThresholds,
                                 progress: ((Int, Int) -> Void)? = nil) throws
        -> (baseline: LocalizerArgmaxBaseline, candidates: [ThresholdSearch.Candidate]) {
        var baseline = try LocalizerArgmaxBaseline(classes: classes, threshold: thresholds.first ?? 0)
        var search = try ThresholdSearch(thresholds: thresholds, classes: classes)
        for (i, sample) in samples.enumerated() {
            if let truth = try sample.groundTruth(classes: classes) {
                try search.add(classMaps: try baseline.scoreTensor(try scores(sample)), groundTruth: truth)
            }
            progress?(i + 1, samples.count)
        }
        guard search.images > 0 else { throw BaselineError.noGroundTruth(images: samples.count) }
        baseline.threshold = try search.best().threshold
        return (baseline, search.candidates())
    }
}
