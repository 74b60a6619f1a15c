import DivSegCore
import DivSegIO

/// Scores a segmentation pipeline on dataset samples with ground truth (VOC protocol: one
/// confusion matrix over all pixels at original resolution, 255 ignored; classes the
/// segmenter does not know count as background).
///
/// ```swift
/// let scores = try SegmentationEvaluator(pipeline: pipeline).evaluate(dataset.samples)
/// print(scores.table())
/// ```
public struct SegmentationEvaluator: Sendable {
    /// Must label pixels with segmenter channel indices (the default of ``SegmentationPipeline``).
    public let pipeline: SegmentationPipeline
    /// Where features come from (e.g. a ``FeatureCache``); nil computes them.
    public var features: (@Sendable (_ imagePath: String) throws -> CompactHypercolumns)?

    public init(pipeline: SegmentationPipeline,
                features: (@Sendable (_ imagePath: String) throws -> CompactHypercolumns)? = nil) {
        self.pipeline = pipeline
        self.features = features
    }

    /// Evaluates every sample that has ground truth; `progress(done, total)` after each image.
    public func evaluate(_ samples: [DatasetSample],
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> SegmentationScores {
        let classes = pipeline.segmenter.classes
        var matrix = ConfusionMatrix(classCount: classes.count)
        for (index, sample) in samples.enumerated() {
            guard let truth = try sample.groundTruth(classes: Array(classes.dropFirst())) else { continue }
            let logits: Tensor
            if let features {
                logits = try pipeline.segmenter.logits(try features(sample.imagePath))
            } else {
                logits = try pipeline.logits(try ImageDecoder.decodeRGB(contentsOf: sample.imagePath))
            }
            let prediction = LabelUpsampler.labels(fromLogits: logits, height: truth.height, width: truth.width)
            try matrix.add(groundTruth: truth, prediction: prediction)
            progress(index + 1, samples.count)
        }
        return try SegmentationScores(matrix: matrix, classNames: classes)
    }
}
