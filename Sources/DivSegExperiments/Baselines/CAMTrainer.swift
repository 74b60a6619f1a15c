import DivSegCore
import DivSegIO
import Dispatch
import Foundation
import DivSegDatasets
import DivSeg

/// Trains a ``CAMBaseline`` from image-level tags and chooses its background threshold on
/// the training images that have masks (TheMethod.md, "Localizers").
///
/// 1. **Features**: every training image's block5_conv3 is globally averaged (512 values);
///    ``CAMBaseline/inputScale`` is set to 1 / each channel's RMS over the images (1 for a
///    channel that is zero everywhere), so the inputs are of order 1.
/// 2. **Classifier**: one logistic regression per class on those vectors (independent
///    sigmoids, targets = whether the image is tagged with the class; images tagged with none
///    of the classes are negatives for all), binary cross-entropy averaged over images and
///    summed over classes, L2 penalty ``weightDecay``, Adam (β₁ 0.9, β₂ 0.999, ε 1e-8) with
///    ``learningRate``, ``epochs`` passes in seeded mini-batches of ``batchSize`` images.
///    Weights start at zero and each bias at the log-odds of its class's frequency, so the
///    result depends on the seed only through the batch order.
/// 3. **Threshold**: the training images with masks are read again (one image's features in
///    memory at a time), their class maps scored at every value of ``thresholds`` by
///    ``ThresholdSearch``, and the threshold with the highest training mIoU kept (the lowest
///    on ties). The default grid is 0.05, 0.10, …, 0.60; TheMethod.md, "Localizers"'s numpy version found 0.2.
///
/// The whole fit is tiny (N × 512 inputs): a few seconds for hundreds of images and epochs;
/// reading the features dominates.
///
/// ```swift
/// let (cam, report) = try CAMTrainer().train(samples: train.samples, classes: ClassNames.voc) {
///     try cache.features(for: $0, extractor: extractor)
/// }
/// print(report.trainingAccuracy, cam.threshold)
/// ```
public struct CAMTrainer: Sendable, Codable, Equatable {
    /// Passes over the training images; within ``epochsRange``.
    public var epochs: Int = 300
    /// The ``epochs`` accepted. An epoch is a few milliseconds of pooled-feature arithmetic
    /// per hundred images, so the default 300 is quick, but beyond 100 000 a run would take
    /// hours without changing the fit.
    public static let epochsRange = 1...100_000
    /// Images per Adam step (the last batch of an epoch may be smaller).
    public var batchSize: Int = 32
    /// Adam step size; within ``learningRateRange``.
    public var learningRate: Float = 1e-3
    /// The ``learningRate``s accepted: positive and finite; Adam's step is about the
    /// learning rate per weight, and steps above 1 throw the classifier's weights far
    /// outside the scale of the pooled features.
    public static let learningRateRange: ClosedRange<Float> = 1e-7...1
    /// L2 penalty on the weights (not the biases), added to the gradient.
    public var weightDecay: Float = 1e-4
    /// Seed of the batch order.
    public var seed: UInt64 = 0
    /// Background thresholds tried on the training masks.
    public var thresholds: [Float] = ThresholdSearch.grid(from: 0.05, through: 0.6, by: 0.05)

    public init(epochs: Int = 300, batchSize: Int = 32, learningRate: Float = 1e-3, weightDecay: Float = 1e-4,
                seed: UInt64 = 0, thresholds: [Float] = ThresholdSearch.grid(from: 0.05, through: 0.6, by: 0.05)) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.seed = seed
        self.thresholds = thresholds
    }

    /// Where training is.
    public enum Progress: Sendable, Equatable {
        /// Pooled features of `done` of `total` training images read.
        case features(done: Int, total: Int)
        /// Epoch `epoch` (1-based) of `epochs` finished with mean loss `loss`.
        case training(epoch: Int, epochs: Int, loss: Double)
        /// Class maps of `done` of `total` images with masks scored for the threshold.
        case threshold(done: Int, total: Int)
    }

    /// What a training run did.
    public struct Report: Sendable, Equatable, Codable {
        /// Training images, and how many of them have masks (used for the threshold).
        public var images: Int
        public var imagesWithMasks: Int
        /// Images tagged with each class (class order).
        public var positives: [Int]
        /// Mean loss of every epoch (BCE summed over classes, mean over images; penalty excluded).
        public var epochLosses: [Double]
        /// Share of (image, class) decisions at p ≥ 0.5 that match the tags, on the training images.
        public var trainingAccuracy: Double
        /// Share of training images whose predicted tag set (p ≥ 0.5) equals their tags.
        public var exactMatchRate: Double
        /// Training mIoU of every threshold tried, and the chosen one.
        public var thresholdCandidates: [ThresholdSearch.Candidate]
        public var threshold: Float
        /// Wall time, seconds.
        public var seconds: Double
    }

    /// Checks the settings.
    ///
    /// - Throws: ``BaselineError/invalidSetting(name:value:requirement:)``.
    public func validate() throws(BaselineError) {
        func require(_ ok: Bool, _ name: String, _ value: Any, _ requirement: String) throws(BaselineError) {
            if !ok { throw .invalidSetting(name: name, value: "\(value)", requirement: requirement) }
        }
        try require(Self.epochsRange.contains(epochs), "epochs", epochs, "in \(Self.epochsRange.boundText)")
        try require(batchSize > 0, "batchSize", batchSize, "positive")
        try require(Self.learningRateRange.contains(learningRate), "learningRate", learningRate,
                    "in \(Self.learningRateRange.boundText)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weightDecay", weightDecay, "non-negative and finite")
        try require(!thresholds.isEmpty && thresholds.allSatisfy(\.isFinite), "thresholds", thresholds,
                    "a non-empty list of finite values")
    }

    /// Trains the classifier on the samples' tags and chooses the threshold on their masks.
    ///
    /// - Parameters:
    ///   - samples: training images; tags are matched against `classes` (canonical names).
    ///   - classes: foreground classes; label `i + 1` = `classes[i]`.
    ///   - features: the features of an image, by path (e.g. a ``FeatureCache`` lookup).
    ///   - progress: called after each image read, each epoch and each image scored.
    /// - Throws: ``BaselineError`` (settings, classes, no images, no masks, divergence),
    ///   or whatever `features` or ``DatasetSample/groundTruth(classes:)`` throws.
    public func train(samples: [DatasetSample], classes: [String],
                      features: (String) throws -> CompactHypercolumns,
                      progress: ((Progress) -> Void)? = nil) throws -> (baseline: CAMBaseline, report: Report) {
        try validate()
        try BaselineError.validate(classes: classes)
        guard !samples.isEmpty else { throw BaselineError.noTrainingImages }
        let start = DispatchTime.now().uptimeNanoseconds
        let (n, c, k) = (samples.count, classes.count, CAMBaseline.block5Conv3Channels.count)

        // 1. Pooled features and targets.
        var x = [Float](repeating: 0, count: n * k)
        var y = [Float](repeating: 0, count: n * c)
        for (i, sample) in samples.enumerated() {
            let pooled = try CAMBaseline.pooledFeatures(try features(sample.imagePath))
            for j in 0..<k { x[i * k + j] = pooled[j] }
            for (ci, name) in classes.enumerated() where sample.tags.contains(name) { y[i * c + ci] = 1 }
            progress?(.features(done: i + 1, total: n))
        }
        let scale = LogisticRegression.scaleToUnitRMS(&x, rows: n, features: k)
        let positives = (0..<c).map { ci in (0..<n).filter { y[$0 * c + ci] == 1 }.count }

        // 2. Logistic regressions, Adam.
        let regression = LogisticRegression(epochs: epochs, batchSize: batchSize, learningRate: learningRate,
                                            weightDecay: weightDecay, seed: seed)
        let model: LogisticRegression.Model
        do {
            model = try regression.fit(x: x, y: y, rows: n, features: k, outputs: c) { epoch, loss in
                progress?(.training(epoch: epoch, epochs: epochs, loss: loss))
            }
        } catch {
            throw BaselineError.diverged(epoch: error.epoch)
        }
        let (w, b, epochLosses) = (model.weights, model.bias, model.epochLosses)

        // Training accuracy of the tags.
        let all = model.logits(x: x, rows: n)
        var correct = 0, exact = 0
        for i in 0..<n {
            var allRight = true
            for ci in 0..<c {
                let right = (all[i * c + ci] >= 0) == (y[i * c + ci] == 1)
                if right { correct += 1 } else { allRight = false }
            }
            if allRight { exact += 1 }
        }

        // 3. Threshold on the training masks.
        var baseline = try CAMBaseline(classes: classes, weights: w, bias: b, inputScale: scale, threshold: 0)
        let withMasks = samples.filter(\.hasGroundTruth)
        guard !withMasks.isEmpty else { throw BaselineError.noGroundTruth(images: n) }
        var search = try ThresholdSearch(thresholds: thresholds, classes: classes)
        for (i, sample) in withMasks.enumerated() {
            if let truth = try sample.groundTruth(classes: classes) {
                try search.add(classMaps: try baseline.classMaps(try features(sample.imagePath)), groundTruth: truth)
            }
            progress?(.threshold(done: i + 1, total: withMasks.count))
        }
        let best = try search.best()
        baseline.threshold = best.threshold
        let report = Report(images: n, imagesWithMasks: search.images, positives: positives, epochLosses: epochLosses,
                            trainingAccuracy: Double(correct) / Double(n * c),
                            exactMatchRate: Double(exact) / Double(n), thresholdCandidates: search.candidates(),
                            threshold: best.threshold,
                            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return (baseline, report)
    }
}
