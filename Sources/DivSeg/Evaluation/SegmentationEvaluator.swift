import DivSegCore
import DivSegIO
import DivSegDatasets

/// Scores a segmentation pipeline on dataset samples with ground truth (VOC protocol: one
/// confusion matrix over all pixels at original resolution, 255 ignored; classes the
/// segmenter does not know count as background), with the pipeline's prediction rules
/// (``SegmentationPipeline/adjustment``) and optionally the dense CRF.
///
/// ```swift
/// let scores = try SegmentationEvaluator(pipeline: pipeline).evaluate(dataset.samples)
/// print(scores.table())
/// let refined = try SegmentationEvaluator(pipeline: pipeline, crf: DenseCRFParameters())
///     .evaluate(dataset.samples)                   // the same images through the CRF
/// ```
public struct SegmentationEvaluator: Sendable {
    /// Must label pixels with segmenter channel indices (the default of ``SegmentationPipeline``).
    public var pipeline: SegmentationPipeline
    /// Where features come from (e.g. a ``FeatureCache``); nil computes them.
    public var features: (@Sendable (_ imagePath: String) throws -> CompactHypercolumns)?
    /// Where the mirror image's features come from when the pipeline's
    /// ``SegmentationPipeline/testTimeFlip`` is set and ``features`` is given (e.g. a
    /// ``FeatureCache`` with `flipped: true`); nil computes them from the decoded image.
    public var mirrorFeatures: (@Sendable (_ imagePath: String) throws -> CompactHypercolumns)?
    /// Dense-CRF refinement of every prediction; nil evaluates the plain upsampled argmax.
    /// The CRF needs each image at the ground truth's size, so images are decoded even when
    /// features come from `features`.
    public var crf: DenseCRFParameters?
    /// Checked by ``run(_:progress:)`` before each image: once cancelled, it stops after the
    /// image in progress and reports the images done so far (`evaluate` on Ctrl-C).
    /// ``evaluate(_:progress:)`` and ``confusionMatrix(_:progress:)`` always do every image.
    /// Nil: never stopped.
    public var cancellation: CancellationToken?
    /// Diagnostic: segment each image as if its tags were known — the classes present in its
    /// ground-truth mask — with the pipeline's ``SegmentationPipeline/taggedAdjustment``
    /// (`evaluate --oracle-tags`): what ``SegmentationPipeline/segment(_:tags:)`` achieves
    /// for users who know their images' tags. False: the pipeline's untagged rules.
    public var oracleTags = false

    /// - Parameter crf: the CRF to apply; by default the pipeline's own (``SegmentationPipeline/crf``).
    public init(pipeline: SegmentationPipeline,
                features: (@Sendable (_ imagePath: String) throws -> CompactHypercolumns)? = nil,
                crf: DenseCRFParameters? = nil) {
        self.pipeline = pipeline
        self.features = features
        self.crf = crf ?? pipeline.crf
    }

    /// Evaluates every sample that has ground truth; `progress(done, total)` after each image.
    public func evaluate(_ samples: [DatasetSample],
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> SegmentationScores {
        try SegmentationScores(matrix: try confusionMatrix(samples, progress: progress), classNames: pipeline.segmenter.classes)
    }

    /// The confusion matrix over `samples` (those with ground truth), labels in the order of
    /// the segmenter's classes — what ``evaluate(_:progress:)`` scores. Matrices of disjoint
    /// sets of images sum (``ConfusionMatrix/merge(_:)``) to the matrix of their union, which
    /// is how sharded evaluations are combined (``EvaluationPart``).
    ///
    /// ```swift
    /// let part = try evaluator.confusionMatrix(shard.select(samples))
    /// ```
    public func confusionMatrix(_ samples: [DatasetSample],
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> ConfusionMatrix {
        // Every sample, whatever ``cancellation`` says: only ``run(_:progress:)`` can report a
        // partial matrix as partial.
        var whole = self
        whole.cancellation = nil
        return try whole.run(samples, progress: progress).matrix
    }

    /// What ``run(_:progress:)`` got through: the confusion matrix of the first
    /// ``imagesDone`` samples, and whether ``cancellation`` stopped it before the end.
    public struct Run: Sendable {
        public var matrix: ConfusionMatrix
        /// Samples done (in order; samples without ground truth count as done).
        public var imagesDone: Int
        /// Samples asked for.
        public var imagesTotal: Int
        /// Whether ``SegmentationEvaluator/cancellation`` stopped the run early.
        public var interrupted: Bool { imagesDone < imagesTotal }
    }

    /// Like ``confusionMatrix(_:progress:)``, but stops between two images once
    /// ``cancellation`` is cancelled and says how far it got — a partial result over the
    /// images done rather than nothing.
    ///
    /// ```swift
    /// var evaluator = SegmentationEvaluator(pipeline: pipeline)
    /// evaluator.cancellation = token                       // cancelled from a signal handler
    /// let run = try evaluator.run(samples)
    /// if run.interrupted { print("scores over \(run.imagesDone) of \(run.imagesTotal) images") }
    /// ```
    public func run(_ samples: [DatasetSample], progress: (Int, Int) -> Void = { _, _ in }) throws -> Run {
        let classes = pipeline.segmenter.classes
        var matrix = ConfusionMatrix(classCount: classes.count)
        for (index, sample) in samples.enumerated() {
            // Between images only: a matrix always holds whole images.
            if cancellation?.isCancelled == true {
                return Run(matrix: matrix, imagesDone: index, imagesTotal: samples.count)
            }
            guard let truth = try sample.groundTruth(classes: Array(classes.dropFirst())) else { continue }
            let needsImage = features == nil || crf != nil || (pipeline.testTimeFlip && mirrorFeatures == nil)
            let image = needsImage ? try ImageDecoder.decodeRGB(contentsOf: sample.imagePath) : nil
            let raw: Tensor
            if let features {
                var mirror: CompactHypercolumns?
                if pipeline.testTimeFlip {
                    mirror = try mirrorFeatures?(sample.imagePath)
                        ?? pipeline.extractor.extractCompact(from: FeatureCache.mirrored(image!))
                }
                raw = try pipeline.logits(features: try features(sample.imagePath), mirrorFeatures: mirror)
            } else {
                raw = try pipeline.logits(image!)
            }
            let logits = try pipeline.adjustedLogits(raw, tags: oracleTags ? Self.tags(in: truth, classes: classes) : nil)
            let prediction: LabelMap
            if let crf, let image {
                guard image.width == truth.width, image.height == truth.height else {
                    throw EvaluationError.sizeMismatch(groundTruthWidth: truth.width, groundTruthHeight: truth.height,
                                                       predictionWidth: image.width, predictionHeight: image.height)
                }
                prediction = try DenseCRF(parameters: crf).labels(image: image, logits: logits)
            } else {
                prediction = LabelUpsampler.labels(fromLogits: logits, height: truth.height, width: truth.width)
            }
            try matrix.add(groundTruth: truth, prediction: prediction)
            progress(index + 1, samples.count)
        }
        return Run(matrix: matrix, imagesDone: samples.count, imagesTotal: samples.count)
    }

    /// The names of the classes (other than background) present in a ground-truth map whose
    /// labels index `classes`.
    static func tags(in truth: LabelMap, classes: [String]) -> [String] {
        var present = [Bool](repeating: false, count: 256)
        for label in truth.labels { present[Int(label)] = true }
        return classes.indices.dropFirst().filter { present[$0] }.map { classes[$0] }
    }
}
