import DivSegCore
import Foundation

/// Why points could not be sampled. The messages say what the caller passed and what was
/// expected, so the fix is evident.
///
/// ```swift
/// do {
///     let picks = try sampler.foregroundPicks(scores: map, similarity: similarity)
/// } catch {
///     print(error)   // e.g. "A score map has 5000 values but the feature grid has 5376 ..."
/// }
/// ```
public enum SamplingError: Error, Equatable, CustomStringConvertible {
    /// The hypercolumns are not a `[channels, height, width]` tensor with data in it.
    case invalidFeatures(shape: [Int])
    /// A score map does not have one value per grid location.
    case scoreCountMismatch(label: Int?, count: Int, expected: Int)
    /// A score is NaN or infinite (a broken localizer or unscaled data).
    case nonFiniteScore(label: Int?, location: Int)
    /// A location index outside the grid.
    case locationOutOfRange(location: Int, locationCount: Int)
    /// A foreground label that is 0 (background's label) or negative.
    case invalidLabel(Int)
    /// The same label appears twice among the class score maps of one image.
    case duplicateLabel(Int)
    /// A setting of ``PointSampler`` is out of its range.
    case invalidSetting(SettingViolation)

    public var description: String {
        switch self {
        case .invalidFeatures(let shape):
            return "Sampling needs hypercolumns shaped [channels, height, width] with every extent "
                + "positive, got shape \(shape). Pass Hypercolumns.features as extracted "
                + "([\(FeatureGrid.channels), \(FeatureGrid.height), \(FeatureGrid.width)])."
        case .scoreCountMismatch(let label, let count, let expected):
            return "A score map\(labelText(label)) has \(count) values but the feature grid has "
                + "\(expected) locations. Score maps must be computed on the same grid as the "
                + "hypercolumns, one value per location in row-major order."
        case .nonFiniteScore(let label, let location):
            return "The score map\(labelText(label)) holds a NaN or infinite value at location "
                + "\(location). Check the localizer's weights and its scoreScale (it must be a "
                + "positive, finite number)."
        case .locationOutOfRange(let location, let count):
            return "Location \(location) is outside the feature grid (valid: 0..<\(count))."
        case .invalidLabel(let label):
            return "Foreground class label \(label) is invalid: label 0 is reserved for "
                + "background and labels must be positive."
        case .duplicateLabel(let label):
            return "Label \(label) was given two score maps for the same image; pass each "
                + "present class once."
        case .invalidSetting(let violation):
            return violation.description
        }
    }

    private func labelText(_ label: Int?) -> String {
        label.map { " (label \($0))" } ?? ""
    }
}

// Without this, `error.localizedDescription` on Linux is a generic message.
extension SamplingError: LocalizedError {
    public var errorDescription: String? { description }
}

extension SamplingError: SettingError {
    public static let settingOwner = "PointSampler"
}
