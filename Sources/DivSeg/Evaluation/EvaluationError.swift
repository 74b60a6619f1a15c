/// Why a ground-truth/prediction pair or a confusion matrix could not be evaluated.
///
/// Every case carries the numbers needed to act on it, and ``description`` says what to do:
///
/// ```swift
/// var matrix = ConfusionMatrix(classCount: 21)
/// do {
///     try matrix.add(groundTruth: truth, prediction: prediction)
/// } catch {
///     print(error)   // The prediction is 320×240 but its ground truth is 640×480; …
/// }
/// ```
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    /// Ground truth and prediction differ in size; predictions must be brought to the
    /// ground truth's (original) resolution first, e.g. with ``LabelUpsampler``.
    case sizeMismatch(groundTruthWidth: Int, groundTruthHeight: Int,
                      predictionWidth: Int, predictionHeight: Int)
    /// The prediction holds a label outside `0..<classCount` (255 included: a prediction
    /// never abstains). `pixels` counts the pixels holding that label.
    case predictionLabelOutOfRange(label: UInt8, pixels: Int64, classCount: Int)
    /// The ground truth holds a label outside `0..<classCount` other than 255 (ignore).
    case groundTruthLabelOutOfRange(label: UInt8, pixels: Int64, classCount: Int)
    /// Two confusion matrices (or a matrix and a class-name list) disagree on the number
    /// of classes.
    case classCountMismatch(expected: Int, got: Int)
    /// A class name occurs twice; names key the per-class scores, so they must be unique.
    case duplicateClassName(String)
    /// The matrix has counted no pixel at all (nothing added, or every pixel ignored), so
    /// no score is defined.
    case nothingEvaluated

    public var description: String {
        switch self {
        case let .sizeMismatch(gw, gh, pw, ph):
            return "The prediction is \(pw)×\(ph) but its ground truth is \(gw)×\(gh); "
                + "evaluate at the ground truth's resolution (upsample the prediction's logits "
                + "with LabelUpsampler before the argmax)."
        case let .predictionLabelOutOfRange(label, pixels, classCount):
            return "The prediction has \(pixels) pixel(s) labelled \(label), outside the "
                + "\(classCount) classes 0...\(classCount - 1) being evaluated; map its labels to "
                + "the evaluated classes first."
        case let .groundTruthLabelOutOfRange(label, pixels, classCount):
            return "The ground truth has \(pixels) pixel(s) labelled \(label), outside the "
                + "\(classCount) classes 0...\(classCount - 1) being evaluated (255 = ignore is "
                + "allowed); map dataset labels to the evaluated classes, or count more classes."
        case let .classCountMismatch(expected, got):
            return "Class counts disagree: expected \(expected), got \(got); only matrices and "
                + "class lists of the same class set can be combined."
        case .duplicateClassName(let name):
            return "The class name '\(name)' occurs more than once; class names must be unique."
        case .nothingEvaluated:
            return "No pixel has been evaluated (no pair added, or every ground-truth pixel is "
                + "255 = ignore), so IoU and accuracy are undefined."
        }
    }
}
