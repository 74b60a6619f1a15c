import DivSegCore
import Foundation

/// Why a segmenter could not be trained, applied, loaded or saved. Every message says what
/// was found, what was expected and what to do about it.
///
/// ```swift
/// do {
///     let segmenter = try Segmenter(contentsOf: "classes/segmenter.h5")
/// } catch let error as SegmenterError {
///     print(error)   // e.g. "... was trained on features 'vgg16-…' but this build computes …"
/// }
/// ```
public enum SegmenterError: Error, Equatable, CustomStringConvertible {
    /// Training was asked for on a training set without points.
    case emptyTrainingSet
    /// The class list is unusable: empty, index 0 not "background", or duplicate names.
    case invalidClasses(detail: String)
    /// A training label outside `0..<classCount`.
    case labelOutOfRange(label: Int, classCount: Int)
    /// Vectors, feature maps or descriptors of the wrong length or shape.
    case dimensionMismatch(what: String, got: String, expected: String)
    /// A setting of ``SegmenterTrainer`` is out of range.
    case invalidSetting(SettingViolation)
    /// Training produced a NaN or infinite loss.
    case diverged(epoch: Int, batch: Int)
    /// Training ended with a NaN or infinite value in the named parameter array.
    case nonFiniteWeights(array: String)
    /// A segmenter file was written for hypercolumns built by another rule.
    case incompatibleFeatureRule(path: String, found: String, expected: String)
    /// A segmenter file lacks something or its arrays do not fit together.
    case malformedFile(path: String, detail: String)

    public var description: String {
        switch self {
        case .emptyTrainingSet:
            return "The segmenter training set holds no points. Sample points from at least one "
                + "image with a registered class before training."
        case .invalidClasses(let detail):
            return "Invalid segmenter class list: \(detail). Pass the class names in label order, "
                + "with \"background\" first (label 0)."
        case .labelOutOfRange(let label, let classCount):
            return "A training point has label \(label), but there are only \(classCount) classes "
                + "(labels 0..<\(classCount)). Pass the full class list the labels were assigned from."
        case .dimensionMismatch(let what, let got, let expected):
            return "\(what) has \(got) but \(expected) was expected. Features and global "
                + "descriptors must come from the same backbone the segmenter was trained with."
        case .invalidSetting(let violation):
            return violation.description
        case .diverged(let epoch, let batch):
            return "Segmenter training diverged (loss became NaN or infinite) in epoch \(epoch + 1), "
                + "batch \(batch + 1). Lower the learning rate, or check the features for NaN values."
        case .nonFiniteWeights(let array):
            return "Segmenter training produced NaN or infinite values in its \(array); the segmenter was not "
                + "kept. Lower the learning rate, or check the features (and feature cache) for NaN values."
        case .incompatibleFeatureRule(let path, let found, let expected):
            return "The segmenter '\(path)' was trained on features '\(found)', but this build "
                + "computes '\(expected)'. Retrain the segmenter (divseg-registry retrain)."
        case .malformedFile(let path, let detail):
            return "The segmenter file '\(path)' is not usable: \(detail). It was written by "
                + "another tool or version, or damaged; retrain the segmenter to regenerate it."
        }
    }
}

// Without this, `error.localizedDescription` on Linux is a generic message.
extension SegmenterError: LocalizedError {
    public var errorDescription: String? { description }
}

extension SegmenterError: SettingError {
    public static let settingOwner = "SegmenterTrainer"
}
