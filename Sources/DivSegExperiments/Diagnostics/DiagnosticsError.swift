import DivSegCore
import Foundation
import DivSegDatasets
import DivSeg
import DivSegIO

/// Why a diagnostic (``PipelineDiagnostics``, ``OracleSampler``) could not run. Every
/// message says what was found and what to do.
///
/// ```swift
/// do {
///     let diagnostics = try PipelineDiagnostics(classes: names, localizers: localizers)
/// } catch {
///     print(error)   // e.g. "2 localizers for 3 classes; pass one localizer per class, …"
/// }
/// ```
public enum DiagnosticsError: Error, Equatable, CustomStringConvertible {
    /// The class list is empty, longer than 254, holds "background" or a name twice.
    case invalidClasses(detail: String)
    /// The number of localizers differs from the number of classes.
    case localizerCountMismatch(classes: Int, localizers: Int)
    /// A setting is out of its range.
    case invalidSetting(SettingViolation)
    /// Cell labels or score maps that do not fit the feature grid.
    case gridMismatch(detail: String)
    /// None of the images has pixel-level ground truth.
    case noGroundTruth(images: Int)

    public var description: String {
        switch self {
        case .invalidClasses(let detail):
            return "Invalid class list for the diagnostics: \(detail). Pass 1…254 distinct "
                + "foreground class names (background is implicit, label 0)."
        case .localizerCountMismatch(let classes, let localizers):
            return "\(localizers) localizers for \(classes) classes; pass one localizer per class, "
                + "in class order."
        case .invalidSetting(let violation):
            return violation.description
        case .gridMismatch(let detail):
            return "The maps do not fit the feature grid: \(detail). Cell labels come from "
                + "PipelineDiagnostics.cellLabels(of:), score maps from Localizer.score(_:), one "
                + "value per location of the 64×84 grid."
        case .noGroundTruth(let images):
            return "None of the \(images) images has a pixel-level mask, so nothing can be measured. "
                + "Use a split with masks (COCO, VOC)."
        }
    }

    /// Checks a foreground class list.
    static func validate(classes: [String]) throws(DiagnosticsError) {
        if let problem = ClassNames.foregroundListProblem(classes) { throw .invalidClasses(detail: problem) }
    }
}

// Without this, `error.localizedDescription` on Linux is a generic message.
extension DiagnosticsError: LocalizedError {
    public var errorDescription: String? { description }
}

extension DiagnosticsError: SettingError {
    public static let settingOwner = "Diagnostics"
}
