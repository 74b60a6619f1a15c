import DivSegCore
import Dispatch
import DivSegDatasets

/// Trains the localizer of one class from image-level tags (TheMethod.md, paper §3.1): every
/// image tagged with the class plus random untagged ones (1:1 by default), one image per
/// step, Adam, the paper's schedule (2 epochs at ``learningRate``, then 1 at a tenth of it).
///
/// Before training, each hypercolumn channel's RMS over the training images is measured and
/// its inverse becomes the localizer's fixed input scale (TheMethod.md, "Localizers": raw VGG channels
/// differ in scale by orders of magnitude). After training, s_c (``MaxPooledLocalizer/scoreScale``)
/// is the mean of max F over the positive training images, and a ``LocalizerReport`` gives
/// the image-level accuracy and AUC on held-out images (20 % of positives and of negatives
/// by default).
///
/// Training is deterministic: the same images in the same order with the same settings and
/// ``seed`` give bit-identical weights. Features come from a closure — typically a
/// ``FeatureCache`` — one image at a time, so memory holds one image's features unless
/// ``keepFeaturesInMemory`` is set.
///
/// ```swift
/// let cache = try FeatureCache(directory: "cache", weightsAt: weights)
/// var trainer = LocalizerTrainer()
/// trainer.seed = 7
/// let (giraffe, report) = try trainer.train(
///     className: "giraffe", positives: giraffePaths, negativeCandidates: otherPaths,
///     cache: cache, extractor: extractor) { p in
///     print("\(p.step)/\(p.totalSteps) loss \(p.runningLoss)")
/// }
/// try giraffe.save(to: "classes/giraffe/localizer.h5")
/// print(report.summary)
/// ```
public struct LocalizerTrainer: Sendable {
    /// Hidden units of the first layer (paper: 1024); at least 1, and few enough that
    /// ``trainingBytes(hiddenUnits:)`` fits in physical memory.
    public var hiddenUnits = 1024
    /// The MIL loss.
    public var loss = LocalizerLoss.globalSoftmax
    /// Adam's learning rate for the first ``epochs``; within ``learningRateRange``.
    public var learningRate: Float = 1e-4
    /// The ``learningRate``s accepted: positive and finite; Adam moves every weight by about
    /// the learning rate per step, and steps above 1 leave the scale of the (RMS-normalised)
    /// inputs entirely.
    public static let learningRateRange: ClosedRange<Float> = 1e-8...1
    /// Epochs at ``learningRate`` (paper: 2).
    public var epochs = 2
    /// Epochs afterwards at ``learningRate`` × ``fineTuneFactor`` (paper: 1).
    public var fineTuneEpochs = 1
    public var fineTuneFactor: Float = 0.1
    /// Adam's decay rates and stabiliser.
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Seeds every random choice: negatives, held-out split, initial weights, image order, flips.
    public var seed: UInt64 = 1
    /// Negatives drawn per positive image (paper: 1).
    public var negativesPerPositive: Double = 1
    /// Grid cells along each edge left out of the max (paper: 0). TheMethod.md, "Localizers" saw global-
    /// softmax localizers peak at border cells in every image; a margin of 1–2 rules that out.
    public var borderMargin = 0
    /// Trains each step on the features of the mirrored image with probability ½ (off in
    /// the paper). Mirrored features need their own forward pass of the backbone (cached
    /// as separate entries): mirroring the features would change nothing, since the max is
    /// over all locations.
    public var horizontalFlips = false
    /// Share of the positives and of the negatives held out for the report. Too few held out
    /// (fewer than 2 of either, or none left to train on) ⇒ no hold-out: the report is on
    /// the training images and says so.
    public var heldOutFraction = 0.2
    /// How input channels are scaled.
    public var inputScaling = InputScaling.rootMeanSquare
    /// Keeps every image's features in memory after the first load (~35 MB per image) instead
    /// of loading them at every step.
    public var keepFeaturesInMemory = false

    /// The fixed per-channel input scale.
    public enum InputScaling: String, Sendable, Codable {
        /// 1 / RMS of the channel over the training images (channels whose RMS is below a
        /// tenth of the median channel's count as having that tenth, so that a channel
        /// silent in training cannot explode on new images).
        case rootMeanSquare = "rms"
        /// No scaling (raw VGG activations).
        case none
    }

    /// Where training is, for a progress bar or an ETA.
    public struct Progress: Sendable {
        /// Steps done (1-based) and in all.
        public var step: Int
        public var totalSteps: Int
        /// Epoch of this step (0-based; the fine-tuning epochs come last).
        public var epoch: Int
        /// Mean loss of the current epoch so far.
        public var runningLoss: Double
        public var elapsedSeconds: Double
        /// Estimated from the mean step time so far.
        public var secondsRemaining: Double
        /// Steps 1…featureSteps read (or compute) the images' features, one image each; the
        /// steps after them train (one epoch each for the CAM-style localizer). 0 when
        /// features are read during training (the paper's localizer).
        public var featureSteps = 0
    }

    /// The features of an image (mirrored when the flag is set).
    public typealias FeatureProvider = (_ imagePath: String, _ flipped: Bool) throws -> CompactHypercolumns

    public init() {}

    /// Bytes that training a localizer of `hiddenUnits` holds at once: per hidden unit, the
    /// first layer's 4224 weights six times (weights, folded kernel, Adam's two moments, the
    /// gradient, the starting point) and its activations on the three feature grids
    /// (5376 + 1344 + 336 values), in float32. Computed in floating point so that absurd
    /// sizes cannot overflow.
    public static func trainingBytes(hiddenUnits: Int) -> Double {
        let grids = FeatureGrid.locations + FeatureGrid.locations / 4 + FeatureGrid.locations / 16
        let perUnit = 6 * FeatureGrid.channels + grids + 16
        return Double(hiddenUnits) * Double(perUnit) * Double(MemoryLayout<Float>.size)
    }

    /// The largest ``hiddenUnits`` whose training fits in `bytes` of memory.
    public static func maximumHiddenUnits(inMemory bytes: Double) -> Int {
        Int((bytes / trainingBytes(hiddenUnits: 1)).rounded(.down))
    }

    /// What `hiddenUnits` fails to meet — at least 1, and a training that fits in `memory`
    /// bytes (default: this machine's physical memory) — or nil when it is fine. The
    /// estimate comes first so that a typo such as 100000000 is refused with figures instead
    /// of failing deep inside an allocation (or being killed by the kernel).
    public static func hiddenUnitsProblem(_ hiddenUnits: Int,
                                          memory: Double = MemoryBudget.physicalBytes) -> String? {
        guard hiddenUnits >= 1 else { return "at least 1" }
        let needed = trainingBytes(hiddenUnits: hiddenUnits)
        guard needed > memory else { return nil }
        return "at most \(maximumHiddenUnits(inMemory: memory)): training would need an estimated "
            + "\(MemoryBudget.text(needed)) but this machine has \(MemoryBudget.text(memory)) of physical memory"
    }

    /// Checks every setting.
    ///
    /// - Throws: ``LocalizerError/invalidSetting(name:value:requirement:)``.
    public func validate() throws(LocalizerError) {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ requirement: String) throws(LocalizerError) {
            if !ok { throw .invalidSetting(name: name, value: "\(value)", requirement: requirement) }
        }
        if let problem = Self.hiddenUnitsProblem(hiddenUnits) {
            throw .invalidSetting(name: "hiddenUnits", value: "\(hiddenUnits)", requirement: problem)
        }
        try check(Self.learningRateRange.contains(learningRate), "learningRate", learningRate,
                  "in \(Self.learningRateRange.boundText)")
        try check(epochs >= 0 && fineTuneEpochs >= 0 && epochs + fineTuneEpochs >= 1, "epochs",
                  "\(epochs) + \(fineTuneEpochs) fine-tuning", "non-negative, at least one epoch in all")
        try check(fineTuneFactor.isFinite && fineTuneFactor > 0, "fineTuneFactor", fineTuneFactor, "finite and positive")
        try check(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)")
        try check(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)")
        try check(epsilon > 0, "epsilon", epsilon, "positive")
        try check(negativesPerPositive > 0, "negativesPerPositive", negativesPerPositive,
                  "positive (infinity = every untagged image)")
        try check(borderMargin >= 0 && 2 * borderMargin < FeatureGrid.height, "borderMargin", borderMargin,
                  "in 0..<\(FeatureGrid.height / 2)")
        try check(heldOutFraction >= 0 && heldOutFraction < 1, "heldOutFraction", heldOutFraction, "in [0, 1)")
    }

    /// Trains on images given as paths, features from a ``FeatureCache`` (computed with
    /// `extractor` on a miss).
    public func train(className: String, positives: [String], negativeCandidates: [String],
                      cache: FeatureCache, extractor: HypercolumnExtractor,
                      progress: ((Progress) -> Void)? = nil) throws -> (localizer: MaxPooledLocalizer, report: LocalizerReport) {
        try train(className: className, positives: positives, negativeCandidates: negativeCandidates,
                  features: { path, flipped in try cache.features(for: path, extractor: extractor, flipped: flipped) },
                  progress: progress)
    }

    /// Trains on a dataset's samples: positives are those tagged `className`, negatives are
    /// drawn from the others.
    ///
    /// ```swift
    /// let coco = try Dataset.open(spec: "coco:../shared/data/coco-mini", split: "train")
    /// let (elephant, report) = try trainer.train(className: "elephant", samples: coco.samples,
    ///                                            features: load)
    /// ```
    public func train(className: String, samples: [DatasetSample], features: FeatureProvider,
                      progress: ((Progress) -> Void)? = nil) throws -> (localizer: MaxPooledLocalizer, report: LocalizerReport) {
        let tagged = samples.filter { $0.tags.contains(className) }.map(\.imagePath)
        let others = samples.filter { !$0.tags.contains(className) }.map(\.imagePath)
        return try train(className: className, positives: tagged, negativeCandidates: others,
                         features: features, progress: progress)
    }

    /// Trains the localizer of `className`.
    ///
    /// - Parameters:
    ///   - positives: images tagged with the class (duplicates are dropped).
    ///   - negativeCandidates: images not tagged with it; ``negativesPerPositive`` × the
    ///     positives are drawn from them at random (all of them if there are fewer). Any
    ///     that is also a positive is ignored.
    ///   - features: the features of an image.
    ///   - progress: called after every step.
    /// - Throws: ``LocalizerError`` (settings, no positives or negatives, features
    ///   unavailable, divergence).
    public func train(className: String, positives: [String], negativeCandidates: [String],
                      features: FeatureProvider,
                      progress: ((Progress) -> Void)? = nil) throws -> (localizer: MaxPooledLocalizer, report: LocalizerReport) {
        let started = DispatchTime.now().uptimeNanoseconds
        func seconds(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        try validate()
        var rng = SplitMix64(seed: seed)
        let images = try LocalizerTrainingImages(
            className: className, positives: positives, negativeCandidates: negativeCandidates,
            negativesPerPositive: negativesPerPositive, heldOutFraction: heldOutFraction, rng: &rng)
        let (trainPositives, trainNegatives) = (images.trainPositives, images.trainNegatives)
        let (heldPositives, heldNegatives, heldOut) = (images.heldPositives, images.heldNegatives, images.heldOut)
        var notes = images.notes

        var memory: [String: CompactHypercolumns] = [:]
        func load(_ path: String, flipped: Bool) throws -> CompactHypercolumns {
            let key = (flipped ? "1" : "0") + path
            if let cached = memory[key] { return cached }
            let result: CompactHypercolumns
            do {
                result = try features(path, flipped)
            } catch {
                throw LocalizerError.featuresUnavailable(imagePath: path, reason: "\(error)")
            }
            if keepFeaturesInMemory { memory[key] = result }
            return result
        }

        let training = images.training
        var scale = [Float](repeating: 1, count: FeatureGrid.channels)
        if inputScaling == .rootMeanSquare {
            var statistics = ChannelStatistics()
            for (path, _) in training { statistics.add(try load(path, flipped: false)) }
            scale = statistics.inverseRMS()
        }

        let start = MaxPooledLocalizer(randomWithHiddenUnits: hiddenUnits, className: className, loss: loss,
                              inputScale: scale, borderMargin: borderMargin, seed: rng.next())
        var session = LocalizerTrainingSession(start: start, beta1: beta1, beta2: beta2, epsilon: epsilon)

        let totalEpochs = epochs + fineTuneEpochs
        let totalSteps = totalEpochs * training.count
        var epochLosses: [Double] = []
        let trainingStarted = DispatchTime.now().uptimeNanoseconds
        var step = 0
        for epoch in 0..<totalEpochs {
            let rate = epoch < epochs ? learningRate : learningRate * fineTuneFactor
            var order = Array(training.indices)
            order.shuffle(using: &rng)
            var sum = 0.0
            for (n, index) in order.enumerated() {
                let flipped = horizontalFlips && rng.next() & 1 == 1
                let (path, present) = training[index]
                let evaluation = session.step(try load(path, flipped: flipped), present: present, learningRate: rate)
                guard evaluation.loss.isFinite else { throw LocalizerError.diverged(className: className, step: step) }
                sum += Double(evaluation.loss)
                step += 1
                if let progress {
                    let elapsed = seconds(since: trainingStarted)
                    progress(Progress(step: step, totalSteps: totalSteps, epoch: epoch,
                                      runningLoss: sum / Double(n + 1), elapsedSeconds: elapsed,
                                      secondsRemaining: elapsed / Double(step) * Double(totalSteps - step)))
                }
            }
            epochLosses.append(sum / Double(training.count))
        }
        let trainingSeconds = seconds(since: trainingStarted)

        // Score scales: the mean over positive training images of each score's maximum.
        // Only the scores' differences matter to the MIL loss, so F can sit below zero
        // everywhere; then the peaks' mean height above their image's mean is used instead.
        var peaks: [[Float]] = [[], [], []], heights: [[Float]] = [[], [], []]
        let interior = Self.interior(margin: borderMargin)
        for path in trainPositives {
            let (f, b) = session.maps(try load(path, flipped: false))
            for (k, kind) in [LocalizerScore.foreground, .foregroundMinusBackground, .negativeBackground].enumerated() {
                let values = interior.map { kind.raw(foreground: f[$0], background: b[$0]) }
                let peak = values.max()!
                peaks[k].append(peak)
                heights[k].append(peak - values.reduce(0, +) / Float(values.count))
            }
        }
        let names = ["scoreScale (F)", "differenceScale (F − B)", "backgroundScale (−B)"]
        let scales: [Float] = (0..<3).map { k in
            let meanPeak = peaks[k].reduce(0, +) / Float(peaks[k].count)
            if meanPeak.isFinite && meanPeak > 1e-6 { return meanPeak }
            let meanHeight = heights[k].reduce(0, +) / Float(heights[k].count)
            if meanHeight.isFinite && meanHeight > 1e-6 {
                notes.append("\(names[k]): the positives' mean peak is \(meanPeak), not positive; the mean "
                    + "height of the peak above its image's mean (\(meanHeight)) is used instead")
                return meanHeight
            }
            notes.append("\(names[k]): the score is flat on the positives; 1 is used")
            return 1
        }

        // Image-level evaluation.
        let evaluationSet = images.evaluation
        var logits: [(Float, Bool)] = []
        var lossSum = 0.0, correct = 0
        for (path, present) in evaluationSet {
            let (f, b) = session.maps(try load(path, flipped: false))
            let e = loss.evaluate(foreground: f, background: b, present: present, borderMargin: borderMargin)
            lossSum += Double(e.loss)
            if (e.probability >= 0.5) == present { correct += 1 }
            logits.append((e.logit, present))
        }

        var trained = session.localizer
        // A finite loss on the last step does not prove every weight finite; a localizer with
        // NaN weights must fail here rather than be written into a bundle.
        if let array = trained.firstNonFiniteArray {
            throw LocalizerError.nonFiniteWeights(className: className, array: array)
        }
        trained.scoreScale = scales[0]
        trained.differenceScale = scales[1]
        trained.backgroundScale = scales[2]
        let report = LocalizerReport(
            className: className, loss: loss.rawValue, hiddenUnits: hiddenUnits, seed: seed,
            trainingPositives: trainPositives.count, trainingNegatives: trainNegatives.count,
            heldOutPositives: heldPositives.count, heldOutNegatives: heldNegatives.count,
            epochs: epochs, fineTuneEpochs: fineTuneEpochs, steps: step, epochLosses: epochLosses,
            finalLoss: epochLosses.last ?? .nan, evaluatedOn: heldOut ? .heldOut : .training,
            evaluationLoss: lossSum / Double(evaluationSet.count),
            accuracy: Double(correct) / Double(evaluationSet.count),
            auc: LocalizerDiagnostics.auc(positives: logits.filter(\.1).map(\.0),
                                          negatives: logits.filter { !$0.1 }.map(\.0)),
            scoreScale: scales[0], differenceScale: scales[1], backgroundScale: scales[2],
            seconds: seconds(since: started), secondsPerStep: trainingSeconds / Double(max(1, step)),
            notes: notes)
        return (trained, report)
    }

    /// Row-major grid locations at least `margin` cells from every edge.
    static func interior(margin: Int) -> [Int] {
        let (h, w) = (FeatureGrid.height, FeatureGrid.width)
        return (margin..<(h - margin)).flatMap { r in (margin..<(w - margin)).map { r * w + $0 } }
    }

    /// Per-channel sums of squares over images, at each group's own resolution.
    struct ChannelStatistics {
        var sumSquares = [Double](repeating: 0, count: FeatureGrid.channels)
        var counts = [Double](repeating: 0, count: FeatureGrid.channels)

        mutating func add(_ features: CompactHypercolumns) {
            for (tensor, channels) in [(features.grid, CompactHypercolumns.gridChannels),
                                       (features.block4, CompactHypercolumns.block4Channels),
                                       (features.block5, CompactHypercolumns.block5Channels)] {
                let plane = tensor.shape[1] * tensor.shape[2]
                var sums = [Double](repeating: 0, count: channels.count)
                tensor.scalars.withUnsafeBufferPointer { x in
                    sums.withUnsafeMutableBufferPointer { out in
                        let out = out.baseAddress!
                        Parallel.forEachChunk(of: 0..<channels.count, minimumChunk: 16) { range in
                            for ch in range {
                                var s: Float = 0
                                let p = x.baseAddress! + ch * plane
                                for i in 0..<plane { s += p[i] * p[i] }
                                out[ch] = Double(s)
                            }
                        }
                    }
                }
                for (i, ch) in channels.enumerated() {
                    sumSquares[ch] += sums[i]
                    counts[ch] += Double(plane)
                }
            }
        }

        /// 1 / max(RMS, a tenth of the median positive RMS) per channel.
        func inverseRMS() -> [Float] {
            let rms = zip(sumSquares, counts).map { $1 > 0 ? ($0 / $1).squareRoot() : 0 }
            let positive = rms.filter { $0 > 0 }.sorted()
            let floor = positive.isEmpty ? 1 : max(positive[positive.count / 2] / 10, 1e-12)
            return rms.map { Float(1 / max($0, floor)) }
        }
    }
}
