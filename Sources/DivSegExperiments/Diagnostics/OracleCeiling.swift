import DivSegCore
import DivSegIO
import Dispatch
import DivSegDatasets
import DivSeg

/// The ceiling row (TheMethod.md, "Localizers"): a segmenter trained on ``OracleSampler`` points (drawn
/// from the ground-truth masks of the training images) with the same trainer as the
/// registry's, evaluated on held-out images with the usual protocol. What the features and
/// segmenter can reach when the localizers are perfect.
///
/// ```swift
/// let (ceiling, segmenter, scores) = try OracleCeiling.run(
///     trainSamples: train.samples, evalSamples: val.samples, classes: names) {
///         try cache.features(for: $0, extractor: extractor)
///     }
/// print(scores.table())
/// ```
public struct OracleCeiling: Sendable, Equatable, Codable {
    /// The sampler used.
    public var oracle: OracleSampler
    /// Training images with masks that contributed points, and the points (per label).
    public var trainImages: Int
    public var points: Int
    public var pointsPerLabel: [Int]
    /// Segmenter epochs, final epoch loss and training seconds.
    public var epochs: Int
    /// Whether the loss was class-balanced (``SegmenterTrainer/classBalanced``; `nil` in
    /// reports written before it was recorded).
    public var classBalanced: Bool?
    public var finalLoss: Double?
    public var trainingSeconds: Double
    /// Evaluation images (with masks).
    public var evalImages: Int
    /// The scores on them (percent).
    public var scores: SegmentationScores.Summary

    /// Where a run is.
    public enum Phase: Sendable, Equatable {
        case sampling(done: Int, total: Int)
        case training(fraction: Double)
        case evaluation(done: Int, total: Int)
    }

    /// Samples oracle points on `trainSamples`, trains a segmenter on them with `trainer`
    /// and evaluates it on `evalSamples` (features → logits on the grid → bilinear upsampling
    /// → argmax, as ``SegmentationPipeline``).
    ///
    /// - Parameters:
    ///   - classes: foreground classes; segmenter classes are `["background"] + classes`.
    ///   - features: the features of an image, by path.
    /// - Throws: ``DiagnosticsError``, ``SegmenterError``, ``BaselineError`` (evaluation),
    ///   or what `features` or the ground truth throws.
    public static func run(trainSamples: [DatasetSample], evalSamples: [DatasetSample], classes: [String],
                           oracle: OracleSampler = OracleSampler(), trainer: SegmenterTrainer = SegmenterTrainer(),
                           features: (String) throws -> CompactHypercolumns,
                           progress: ((Phase) -> Void)? = nil) throws
        -> (ceiling: OracleCeiling, segmenter: Segmenter, scores: SegmentationScores) {
        let built = try oracle.trainingSet(samples: trainSamples, classes: classes, features: features) { done, total in
            progress?(.sampling(done: done, total: total))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let (segmenter, report) = try trainer.train(on: built.set, classes: ["background"] + classes) { p in
            progress?(.training(fraction: p.fraction))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var evaluated = 0
        let scores = try PredictionEvaluator.evaluate(samples: evalSamples, classes: classes, progress: { done, total in
            progress?(.evaluation(done: done, total: total))
        }) { sample, size in
            evaluated += 1
            let logits = try segmenter.logits(try features(sample.imagePath))
            return LabelUpsampler.labels(fromLogits: logits, height: size.height, width: size.width)
        }
        let ceiling = OracleCeiling(oracle: oracle, trainImages: built.images, points: built.set.count,
                                    pointsPerLabel: built.pointsPerLabel, epochs: trainer.epochs,
                                    classBalanced: trainer.classBalanced,
                                    finalLoss: report.epochLosses.last, trainingSeconds: seconds,
                                    evalImages: evaluated, scores: scores.summary)
        return (ceiling, segmenter, scores)
    }
}
