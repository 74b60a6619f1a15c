import DivSegCore
import Foundation
import DivSegDatasets
import DivSeg
import DivSegIO

/// Why a baseline (``CAMBaseline``, ``LocalizerArgmaxBaseline``) could not be trained,
/// calibrated, applied, saved or loaded. Every message says what was found and what to do.
///
/// ```swift
/// do {
///     let cam = try CAMBaseline(contentsOf: "out/cam.json")
/// } catch let error as BaselineError {
///     print(error)   // e.g. "The CAM baseline file 'out/cam.json' is not usable: …"
/// }
/// ```
public enum BaselineError: Error, Equatable, CustomStringConvertible {
    /// The class list is empty, longer than 254 (labels are bytes, 255 is "ignore"), holds
    /// "background" or holds a name twice.
    case invalidClasses(detail: String)
    /// A setting is out of its range.
    case invalidSetting(SettingViolation)
    /// No training image was given.
    case noTrainingImages
    /// No training image has pixel-level ground truth, so no threshold can be chosen.
    case noGroundTruth(images: Int)
    /// Features of an unexpected shape (the CAM needs `block5` = `[1536, 16, 21]`).
    case featureMismatch(detail: String)
    /// Score maps that do not fit the class list or the feature grid.
    case scoreMismatch(detail: String)
    /// Training produced a NaN or infinite loss.
    case diverged(epoch: Int)
    /// An evaluation step failed (sizes or labels of a prediction and its ground truth).
    case evaluationFailed(detail: String)
    /// A baseline file could not be read or written.
    case fileFailed(path: String, reason: String)
    /// A baseline file was read but is not a usable baseline of this kind.
    case malformedFile(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidClasses(let detail):
            return "Invalid class list for the baseline: \(detail). Pass 1…254 distinct foreground "
                + "class names (background is implicit, label 0)."
        case .invalidSetting(let violation):
            return violation.description
        case .noTrainingImages:
            return "The baseline got no training image. Check the dataset spec and split "
                + "(and that the images exist)."
        case .noGroundTruth(let images):
            return "None of the \(images) training images has a pixel-level mask, so the "
                + "background threshold cannot be chosen. Train on a split with masks (COCO, VOC), "
                + "or set the threshold yourself."
        case .featureMismatch(let detail):
            return "The features do not fit the baseline: \(detail). Use CompactHypercolumns from "
                + "HypercolumnExtractor.extractCompact (or the FeatureCache) of this build."
        case .scoreMismatch(let detail):
            return "The score maps do not fit the baseline: \(detail). Pass one map per class, in "
                + "the baseline's class order, each with one value per grid location."
        case .diverged(let epoch):
            return "Training the CAM classifier diverged (NaN or infinite loss) in epoch \(epoch + 1). "
                + "Lower the learning rate, or check the features for NaN values."
        case .evaluationFailed(let detail):
            return "Scoring the baseline against the ground truth failed: \(detail)"
        case .fileFailed(let path, let reason):
            return "The baseline file '\(path)' could not be accessed: \(reason). Check the path "
                + "and permissions."
        case .malformedFile(let path, let detail):
            return "The baseline file '\(path)' is not usable: \(detail). It was written by another "
                + "tool or version, or damaged; train the baseline again to regenerate it."
        }
    }

    /// Checks a baseline's foreground class list.
    static func validate(classes: [String]) throws(BaselineError) {
        if let problem = ClassNames.foregroundListProblem(classes) { throw .invalidClasses(detail: problem) }
    }
}

// Without this, `error.localizedDescription` on Linux is a generic message.
extension BaselineError: LocalizedError {
    public var errorDescription: String? { description }
}

extension BaselineError: SettingError {
    public static let settingOwner = "CAMTrainer"
}
