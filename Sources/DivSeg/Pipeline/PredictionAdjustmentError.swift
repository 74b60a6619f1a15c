/// Why a ``PredictionAdjustment`` or an image's tags cannot be used.
public enum PredictionAdjustmentError: Error, Equatable, CustomStringConvertible {
    /// A rule's value is out of range.
    case invalidParameter(String)
    /// A tag names no class of the segmenter.
    case unknownTag(String, known: [String])

    public var description: String {
        switch self {
        case .invalidParameter(let detail):
            return "Invalid prediction rule: \(detail)."
        case .unknownTag(let tag, let known):
            return "The tag '\(tag)' is not a class of this segmenter; its classes are: "
                + "\(known.joined(separator: ", ")). Pass only these names (background needs no tag)."
        }
    }
}
