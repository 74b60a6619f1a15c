import DivSegCore
import Foundation

/// Why dense-CRF inference could not run. Every message says what was found and what to do.
///
/// ```swift
/// do {
///     let crf = try DenseCRF(parameters: DenseCRFParameters(iterations: -1))
/// } catch {
///     print(error)   // "DenseCRFParameters.iterations is -1 but must be ≥ 0."
/// }
/// ```
public enum DenseCRFError: Error, Equatable, CustomStringConvertible {
    /// A setting of ``DenseCRFParameters`` is out of range.
    case invalidParameter(name: String, value: String, requirement: String)
    /// The image has no pixels.
    case emptyImage
    /// Probabilities, marginals or label ids do not fit the image or each other.
    case sizeMismatch(what: String, got: String, expected: String)
    /// A pixel's probabilities hold a negative, NaN or infinite value, or are all zero.
    case invalidProbabilities(x: Int, y: Int, detail: String)
    /// The lattice refused the kernel's features (e.g. a standard deviation so small that
    /// positions divided by it leave the lattice's coordinate range).
    case lattice(PermutohedralLatticeError)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "DenseCRFParameters.\(name) is \(value) but must be \(requirement)."
        case .emptyImage:
            return "The image has no pixels; the dense CRF needs at least one."
        case let .sizeMismatch(what, got, expected):
            return "\(what) is \(got) but \(expected) was expected; give one probability per label "
                + "and pixel at the image's full resolution ([labels, height, width]), e.g. from "
                + "LabelUpsampler.probabilities(fromLogits:height:width:)."
        case let .invalidProbabilities(x, y, detail):
            return "The probabilities of pixel (\(x), \(y)) are unusable: \(detail). Pass a softmax "
                + "output (non-negative, finite, not all zero per pixel)."
        case .lattice(let error):
            return "The CRF kernel could not be built: \(error)"
        }
    }
}

// Without this, `error.localizedDescription` on Linux is a generic message.
extension DenseCRFError: LocalizedError {
    public var errorDescription: String? { description }
}
