/// How a localizer turns its score map into the image-level probability it is trained on:
/// the two MIL losses of the paper's ``MaxPooledLocalizer`` (``LocalizerLoss``) or the
/// average pooling of the CAM-style ``AveragePooledLocalizer``. Its raw value is what bundle
/// manifests (`localizer.loss`) and localizer files (`loss` attribute) record.
///
/// ```swift
/// let giraffe = try LocalizerFile.load(contentsOf: "classes/giraffe/localizer.h5")
/// print(giraffe.objective)            // averagePooled
/// print(giraffe.objective.rawValue)   // "average-pooled"
/// ```
public enum LocalizerObjective: String, Sendable, CaseIterable {
    case globalSoftmax = "global-softmax"
    case pixelSoftmax = "pixel-softmax"
    case averagePooled = "average-pooled"

    /// The objective of a max-pooled localizer trained with `loss`.
    public init(_ loss: LocalizerLoss) {
        switch loss {
        case .globalSoftmax: self = .globalSoftmax
        case .pixelSoftmax: self = .pixelSoftmax
        }
    }
}
