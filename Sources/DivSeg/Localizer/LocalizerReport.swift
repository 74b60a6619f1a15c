/// What training one localizer did and how well it classifies images: the training record
/// of a class bundle (BundlesAndRegistries.md).
///
/// Image-level accuracy and AUC are measured on held-out images when enough were held out
/// (``evaluatedOn`` `== .heldOut`), otherwise on the training images themselves — which
/// flatters the model; ``notes`` then says so.
///
/// ```swift
/// let (giraffe, report) = try trainer.train(className: "giraffe", positives: p,
///                                           negativeCandidates: n, features: load)
/// print(report.summary)   // "giraffe: 18 steps in 2.3 s, final loss 0.41, held-out accuracy 0.75, AUC 0.88"
/// ```
public struct LocalizerReport: Sendable, Codable, Equatable {
    /// Which images accuracy and AUC were measured on.
    public enum EvaluationSet: String, Sendable, Codable {
        case heldOut = "held-out"
        case training = "training"
    }

    public var className: String
    /// How scores became the image probability: a ``LocalizerLoss`` raw value, or
    /// "average-pooled" for an ``AveragePooledLocalizer``.
    public var loss: String
    public var hiddenUnits: Int
    public var seed: UInt64
    /// Images trained on, with and without the tag.
    public var trainingPositives: Int
    public var trainingNegatives: Int
    /// Images held out for evaluation (0 when evaluated on the training images).
    public var heldOutPositives: Int
    public var heldOutNegatives: Int
    /// Epochs at the learning rate, then at the reduced one.
    public var epochs: Int
    public var fineTuneEpochs: Int
    /// Training steps (one image each).
    public var steps: Int
    /// Mean training loss of each epoch (before each step's update).
    public var epochLosses: [Double]
    /// Mean training loss of the last epoch.
    public var finalLoss: Double
    /// Where accuracy, AUC and evaluation loss were measured.
    public var evaluatedOn: EvaluationSet
    /// Mean log-loss on the evaluation images.
    public var evaluationLoss: Double
    /// Fraction of evaluation images whose probability is on the right side of 0.5.
    public var accuracy: Double
    /// Area under the ROC curve of the image probabilities (0.5 = chance).
    public var auc: Double
    /// s_c and the alternative scores' scales (see ``Localizer``).
    public var scoreScale: Float
    public var differenceScale: Float
    public var backgroundScale: Float
    /// Wall-clock seconds of the whole run and of the training steps alone.
    public var seconds: Double
    public var secondsPerStep: Double
    /// Caveats, e.g. evaluation on training images, clamped scales.
    public var notes: [String]

    /// One line for logs.
    public var summary: String {
        func f(_ x: Double) -> String { String(Double(Int((x * 100).rounded())) / 100) }
        let set = evaluatedOn == .heldOut ? "held-out" : "training-set"
        return "\(className): \(steps) steps in \(f(seconds)) s, final loss \(f(finalLoss)), "
            + "\(set) accuracy \(f(accuracy)), AUC \(f(auc))"
    }
}
