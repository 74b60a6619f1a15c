import DivSegCore
import Foundation

/// Why a localizer could not be built, trained, loaded or saved. Every message names the
/// file or setting at fault and says what to do.
///
/// ```swift
/// do {
///     let giraffe = try Localizer(contentsOf: "classes/giraffe/localizer.h5")
/// } catch let error as LocalizerError {
///     print(error)   // e.g. "... was trained on features 'x' but this build computes ..."
/// }
/// ```
public enum LocalizerError: Error, Equatable, CustomStringConvertible {
    /// Parameter arrays of the wrong length for the declared architecture.
    case invalidParameters(detail: String)
    /// A setting of ``LocalizerTrainer`` is out of range.
    case invalidSetting(SettingViolation)
    /// No positive (tagged) training image for the class.
    case noPositives(className: String)
    /// No candidate image without the tag to draw negatives from.
    case noNegatives(className: String)
    /// The features of a training or evaluation image could not be obtained.
    case featuresUnavailable(imagePath: String, reason: String)
    /// Training produced a NaN or infinite loss.
    case diverged(className: String, step: Int)
    /// Training ended with a NaN or infinite value in the named parameter array.
    case nonFiniteWeights(className: String, array: String)
    /// A localizer file was written for hypercolumns built by another rule.
    case incompatibleFeatureRule(path: String, found: String, expected: String)
    /// A localizer file's dataset has the wrong shape.
    case wrongShape(path: String, dataset: String, found: [Int], expected: [Int])
    /// A localizer file lacks something or holds an unknown value.
    case malformedFile(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidParameters(let detail):
            return "Invalid localizer parameters: \(detail). Build the arrays with the shapes "
                + "documented on Localizer.init (fc1 [hidden, 4224], fc2 [2, hidden])."
        case .invalidSetting(let violation):
            return violation.description
        case .noPositives(let className):
            return "No training image is tagged '\(className)'. Check the class name (and its "
                + "aliases) against the dataset's tags."
        case .noNegatives(let className):
            return "Every candidate image is tagged '\(className)', so there are no negatives. "
                + "Add images that do not show the class."
        case .featuresUnavailable(let imagePath, let reason):
            return "The features of '\(imagePath)' could not be obtained: \(reason). Check that "
                + "the image exists and decodes, and that the feature cache directory is writable."
        case .diverged(let className, let step):
            return "Training the '\(className)' localizer diverged (NaN or infinite loss) at step "
                + "\(step + 1). Lower the learning rate, or check the features for NaN values."
        case .nonFiniteWeights(let className, let array):
            return "Training the '\(className)' localizer produced NaN or infinite values in '\(array)'; nothing "
                + "was written. Lower the learning rate, or check the features (and feature cache) for NaN values."
        case .incompatibleFeatureRule(let path, let found, let expected):
            return "The localizer '\(path)' was trained on features '\(found)', but this build "
                + "computes '\(expected)'. Retrain the class (divseg-registry train)."
        case .wrongShape(let path, let dataset, let found, let expected):
            return "The localizer file '\(path)' has '\(dataset)' of shape \(found), expected "
                + "\(expected). It was written by another tool or damaged; retrain the class."
        case .malformedFile(let path, let detail):
            return "The localizer file '\(path)' is not usable: \(detail). It was written by "
                + "another tool or version, or damaged; retrain the class to regenerate it."
        }
    }
}

// Without this, `error.localizedDescription` on Linux is a generic message.
extension LocalizerError: LocalizedError {
    public var errorDescription: String? { description }
}

extension LocalizerError: SettingError {
    public static let settingOwner = "LocalizerTrainer"
}
