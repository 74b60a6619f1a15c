import DivSeg

/// What a retraining is about to do, reported before its long work starts
/// (``SegmenterRetrainer/Phase/plan(_:)``): how many training images must be (re-)sampled and
/// how many come from the sample store, how many of those need the backbone, and the
/// training that follows. Counts only — how long it takes is estimated from the measured rate
/// once the first images are done.
///
/// ```swift
/// try editor.retrain { phase in
///     if case .plan(let plan) = phase { print(plan.lines.joined(separator: "\n")) }
/// }
/// ```
public struct SamplingPlan: Sendable, Equatable {
    /// Training images (the union of the bundles' corpora).
    public var images: Int
    /// Images with a pick missing from the sample store (all of them without a store):
    /// these are opened and sampled.
    public var toSample: Int
    /// Images whose picks all come from the sample store.
    public var fromStore: Int { images - toSample }
    /// Whether a sample store is used at all.
    public var usesStore: Bool
    /// Of the images to sample, which have full feature-cache entries and which need the
    /// backbone (nil when not counted).
    public var features: FeaturePlan?
    /// Segmenter epochs and self-training rounds of the training phase.
    public var epochs: Int
    public var selfTrainingRounds: Int

    public init(images: Int, toSample: Int, usesStore: Bool, features: FeaturePlan?, epochs: Int,
                selfTrainingRounds: Int) {
        self.images = images
        self.toSample = toSample
        self.usesStore = usesStore
        self.features = features
        self.epochs = epochs
        self.selfTrainingRounds = selfTrainingRounds
    }

    /// The announcement, one line per phase, e.g.
    /// `sampling: 315 of 315 images to sample, 0 from the sample store (no entries for these images and settings yet); features: 0 of 315 images cached, 315 to compute with the backbone`
    /// and `training (after sampling): the segmenter, 5 epochs, then 1 self-training round`.
    public var lines: [String] {
        var sampling = "sampling: \(toSample) of \(images) image\(images == 1 ? "" : "s") to sample, "
        if usesStore {
            sampling += "\(fromStore) from the sample store"
            if toSample == images && images > 0 { sampling += " (no entries for these images and settings yet)" }
        } else {
            sampling += "no sample store"
        }
        if toSample > 0, let features { sampling += "; features: \(features)" }
        let rounds = selfTrainingRounds == 0 ? "" : ", then \(selfTrainingRounds) self-training round\(selfTrainingRounds == 1 ? "" : "s")"
        return [sampling, "training (after sampling): the segmenter, \(epochs) epoch\(epochs == 1 ? "" : "s")\(rounds)"]
    }
}
