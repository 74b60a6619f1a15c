import DivSegCore
import Dispatch

/// Trains an ``AveragePooledLocalizer`` for one class from image-level tags, on the same
/// images the paper's localizer would use (``LocalizerTrainingImages``: the tagged images,
/// as many untagged ones, a held-out fifth of each for the report).
///
/// The model is a logistic regression on 512 numbers per image (the RMS-scaled global
/// average of block5_conv3), fitted by ``LogisticRegression`` with the CAM peer's settings
/// (300 epochs of Adam at 1e-3, batches of 32, L2 1e-4), so the fit takes well under a second;
/// reading each image's features once dominates. Deterministic for a given ``seed``.
///
/// ```swift
/// let (giraffe, report) = try AveragePooledLocalizerTrainer().train(
///     className: "giraffe", positives: giraffePaths, negativeCandidates: otherPaths,
///     features: { path, _ in try cache.features(for: path, extractor: extractor) })
/// print(report.summary)
/// ```
public struct AveragePooledLocalizerTrainer: Sendable {
    /// The classifier fit (its seed is drawn from ``seed``).
    public var regression = LogisticRegression(epochs: 300, batchSize: 32, learningRate: 1e-3, weightDecay: 1e-4)
    /// Seeds the negatives, the held-out split and the batch order.
    public var seed: UInt64 = 1
    /// Negatives drawn per positive image; by default every untagged image, as the CAM
    /// peer's classifier sees them (chosen on coco-mini's train split: 32.5 mIoU there
    /// against 28.4 with the paper's 1:1, docs/RESULTS.md). The fit stays per class, so the
    /// bundle is still independent of every other class.
    public var negativesPerPositive = Double.infinity
    /// Share of the positives and of the negatives held out for the report.
    public var heldOutFraction = 0.2
    /// After measuring accuracy on the held-out images, fit again on all of them (the
    /// shipped weights then use every tagged image; the fit takes well under a second).
    public var refitOnAllImages = true

    public init() {}

    /// Checks the settings.
    ///
    /// - Throws: ``LocalizerError/invalidSetting(name:value:requirement:)``.
    public func validate() throws(LocalizerError) {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ requirement: String) throws(LocalizerError) {
            if !ok { throw .invalidSetting(name: name, value: "\(value)", requirement: requirement) }
        }
        try check(regression.epochs >= 1, "epochs", regression.epochs, "at least 1")
        try check(regression.batchSize >= 1, "batchSize", regression.batchSize, "at least 1")
        try check(regression.learningRate.isFinite && regression.learningRate > 0, "learningRate",
                  regression.learningRate, "finite and positive")
        try check(regression.weightDecay.isFinite && regression.weightDecay >= 0, "weightDecay",
                  regression.weightDecay, "finite and non-negative")
        try check(negativesPerPositive > 0, "negativesPerPositive", negativesPerPositive,
                  "positive (infinity = every untagged image)")
        try check(heldOutFraction >= 0 && heldOutFraction < 1, "heldOutFraction", heldOutFraction, "in [0, 1)")
    }

    /// Trains the localizer of `className`; arguments as ``LocalizerTrainer``'s.
    ///
    /// - Throws: ``LocalizerError`` (settings, no positives or negatives, features
    ///   unavailable, divergence).
    public func train(className: String, positives: [String], negativeCandidates: [String],
                      features: LocalizerTrainer.FeatureProvider,
                      progress: ((LocalizerTrainer.Progress) -> Void)? = nil)
        throws -> (localizer: AveragePooledLocalizer, report: LocalizerReport)
    {
        try train(className: className, positives: positives, negativeCandidates: negativeCandidates,
                  states: { path, flipped in try features(path, flipped).state }, progress: progress)
    }

    /// Gives the compact state (block5_conv3 and global) of an image, mirrored or not.
    public typealias StateProvider = (_ imagePath: String, _ flipped: Bool) throws -> ImageState

    /// Trains from the compact per-image state (``ImageState``, e.g. ``FeatureCache/state(for:extractor:flipped:)``)
    /// — all the model reads, so the full hypercolumns are never loaded. Gives the same
    /// localizer and report as ``train(className:positives:negativeCandidates:features:progress:)``.
    ///
    /// ```swift
    /// let (giraffe, report) = try AveragePooledLocalizerTrainer().train(
    ///     className: "giraffe", positives: p, negativeCandidates: n,
    ///     states: { path, flipped in try cache.state(for: path, extractor: extractor, flipped: flipped) })
    /// ```
    public func train(className: String, positives: [String], negativeCandidates: [String],
                      states: StateProvider,
                      progress: ((LocalizerTrainer.Progress) -> Void)? = nil)
        throws -> (localizer: AveragePooledLocalizer, report: LocalizerReport)
    {
        let started = DispatchTime.now().uptimeNanoseconds
        func seconds(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        try validate()
        var rng = SplitMix64(seed: seed)
        let images = try LocalizerTrainingImages(
            className: className, positives: positives, negativeCandidates: negativeCandidates,
            negativesPerPositive: negativesPerPositive, heldOutFraction: heldOutFraction, rng: &rng)
        var notes = images.notes

        // Every image is read once; the positives' features are kept for the score scale.
        let all = images.training + (images.heldOut ? images.evaluation : [])
        let k = CompactHypercolumns.block5Conv3Channels.count
        var pooled: [String: [Float]] = [:]
        var positiveFeatures: [String: ImageState] = [:]
        let totalSteps = all.count + regression.epochs * (refitOnAllImages && images.heldOut ? 2 : 1)
        for (n, (path, present)) in all.enumerated() where pooled[path] == nil {
            let compact: ImageState
            do { compact = try states(path, false) } catch {
                throw LocalizerError.featuresUnavailable(imagePath: path, reason: "\(error)")
            }
            pooled[path] = compact.pooledBlock5Conv3
            if present { positiveFeatures[path] = compact }
            progress?(Self.progress(step: n + 1, of: totalSteps, loss: .nan, since: started, featureSteps: all.count))
        }

        var epochsDone = 0
        func fitModel(on rows: [(path: String, present: Bool)]) throws -> (AveragePooledLocalizer, [Double]) {
            var x = [Float](repeating: 0, count: rows.count * k)
            var y = [Float](repeating: 0, count: rows.count)
            for (i, (path, present)) in rows.enumerated() {
                for j in 0..<k { x[i * k + j] = pooled[path]![j] }
                y[i] = present ? 1 : 0
            }
            let scale = LogisticRegression.scaleToUnitRMS(&x, rows: rows.count, features: k)
            var fit = regression
            fit.seed = rng.next()
            let model: LogisticRegression.Model
            do {
                model = try fit.fit(x: x, y: y, rows: rows.count, features: k, outputs: 1) { _, loss in
                    epochsDone += 1
                    progress?(Self.progress(step: all.count + epochsDone, of: totalSteps, loss: loss, since: started,
                                            featureSteps: all.count))
                }
            } catch {
                throw LocalizerError.diverged(className: className, step: error.epoch)
            }
            // Said as a training failure, not as "invalid parameters" from the initialiser.
            if FiniteCheck.firstNonFinite(model.weights + model.bias) != nil {
                throw LocalizerError.nonFiniteWeights(className: className, array: "weights")
            }
            var localizer = try AveragePooledLocalizer(className: className, weights: model.weights,
                                                       bias: model.bias[0], inputScale: scale)
            // s_c: the positives' mean peak; a map below zero everywhere falls back to the mean
            // height of the peak above its image's mean, as for the paper's localizer.
            var peaks: [Float] = [], heights: [Float] = []
            for (path, present) in rows where present {
                let map = localizer.activationMap(positiveFeatures[path]!)
                let peak = map.max()!
                peaks.append(peak)
                heights.append(peak - map.reduce(0, +) / Float(map.count))
            }
            let meanPeak = peaks.reduce(0, +) / Float(max(1, peaks.count))
            let meanHeight = heights.reduce(0, +) / Float(max(1, heights.count))
            if meanPeak.isFinite && meanPeak > 1e-6 {
                localizer.scoreScale = meanPeak
            } else if meanHeight.isFinite && meanHeight > 1e-6 {
                notes.append("scoreScale: the positives' mean peak is \(meanPeak), not positive; the mean height "
                    + "of the peak above its image's mean (\(meanHeight)) is used instead")
                localizer.scoreScale = meanHeight
            } else {
                notes.append("scoreScale: the map is flat on the positives; 1 is used")
            }
            return (localizer, model.epochLosses)
        }

        var (localizer, epochLosses) = try fitModel(on: images.training)

        // Image-level evaluation: z = w · (scale ⊙ pooled) + b, the same number as the map's mean.
        var logits: [(Float, Bool)] = []
        var lossSum = 0.0, correct = 0
        for (path, present) in images.evaluation {
            let p = pooled[path]!
            var z = localizer.bias
            for j in 0..<k { z += localizer.weights[j] * localizer.inputScale[j] * p[j] }
            lossSum += Double(LocalizerLoss.logLoss(logit: z, present: present))
            if (z >= 0) == present { correct += 1 }
            logits.append((z, present))
        }
        if refitOnAllImages && images.heldOut {
            (localizer, epochLosses) = try fitModel(on: all)
            notes.append("accuracy and AUC measured on the held-out images, then the weights refitted on all "
                + "\(all.count) images")
        }
        let batches = (images.training.count + regression.batchSize - 1) / regression.batchSize
        let report = LocalizerReport(
            className: className, loss: AveragePooledLocalizer.objective.rawValue, hiddenUnits: 0, seed: seed,
            trainingPositives: images.trainPositives.count, trainingNegatives: images.trainNegatives.count,
            heldOutPositives: images.heldPositives.count, heldOutNegatives: images.heldNegatives.count,
            epochs: regression.epochs, fineTuneEpochs: 0, steps: regression.epochs * batches,
            epochLosses: epochLosses, finalLoss: epochLosses.last ?? .nan,
            evaluatedOn: images.heldOut ? .heldOut : .training,
            evaluationLoss: lossSum / Double(images.evaluation.count),
            accuracy: Double(correct) / Double(images.evaluation.count),
            auc: LocalizerDiagnostics.auc(positives: logits.filter(\.1).map(\.0),
                                          negatives: logits.filter { !$0.1 }.map(\.0)),
            scoreScale: localizer.scoreScale, differenceScale: localizer.scoreScale,
            backgroundScale: localizer.scoreScale, seconds: seconds(since: started),
            secondsPerStep: 0, notes: notes)
        return (localizer, report)
    }

    static func progress(step: Int, of total: Int, loss: Double, since start: UInt64,
                         featureSteps: Int = 0) -> LocalizerTrainer.Progress {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var progress = LocalizerTrainer.Progress(step: step, totalSteps: total, epoch: 0, runningLoss: loss,
                                                 elapsedSeconds: elapsed,
                                                 secondsRemaining: elapsed / Double(step) * Double(total - step))
        progress.featureSteps = featureSteps
        return progress
    }
}
