import DivSegIO
import DivSegDatasets
import DivSeg
import DivSegCore

/// Scores any per-image predictor — a baseline, an oracle-trained segmenter on cached
/// features — with the protocol of TheMethod.md: one ``ConfusionMatrix`` over all pixels
/// of the samples at original resolution, 255 ignored, classes not listed count as
/// background.
///
/// ```swift
/// let scores = try PredictionEvaluator.evaluate(samples: val.samples, classes: cam.classes) { sample, size in
///     try cam.predict(features: try cache.features(for: sample.imagePath, extractor: extractor),
///                     imageSize: size)
/// }
/// print(scores.table())
/// ```
public enum PredictionEvaluator {
    /// Evaluates `predict` on every sample with ground truth (others are skipped).
    ///
    /// - Parameters:
    ///   - classes: foreground classes; label `i + 1` = `classes[i]`, 0 background.
    ///   - predict: the labels of a sample at the given size (the ground truth's, which is the
    ///     image's original size), each in `0…classes.count`.
    ///   - progress: `(done, total)` after each sample.
    /// - Throws: ``BaselineError/invalidClasses(detail:)``,
    ///   ``BaselineError/evaluationFailed(detail:)`` (a prediction of the wrong size or with
    ///   a label out of range, or no pixel evaluated at all), or what `predict` or the ground
    ///   truth throws.
    public static func evaluate(samples: [DatasetSample], classes: [String],
                                progress: ((Int, Int) -> Void)? = nil,
                                predict: (DatasetSample, (width: Int, height: Int)) throws -> LabelMap) throws
        -> SegmentationScores {
        try BaselineError.validate(classes: classes)
        var matrix = ConfusionMatrix(classCount: classes.count + 1)
        for (i, sample) in samples.enumerated() {
            if let truth = try sample.groundTruth(classes: classes) {
                let prediction = try predict(sample, (width: truth.width, height: truth.height))
                do {
                    try matrix.add(groundTruth: truth, prediction: prediction)
                } catch {
                    throw BaselineError.evaluationFailed(detail: "\(sample.id): \(error.description)")
                }
            }
            progress?(i + 1, samples.count)
        }
        do {
            return try SegmentationScores(matrix: matrix, classNames: ["background"] + classes)
        } catch {
            throw BaselineError.evaluationFailed(detail: error.description)
        }
    }
}
