/// Why a ``PermutohedralLattice`` could not be built or rescaled.
///
/// ```swift
/// do {
///     let lattice = try PermutohedralLattice(features: positions, dimension: 2)
/// } catch {
///     print(error)   // e.g. "Lattice feature 7 of point 12 is NaN; …"
/// }
/// ```
public enum PermutohedralLatticeError: Error, Equatable, CustomStringConvertible {
    /// `dimension` is outside `1...PermutohedralLattice.maximumDimension`.
    case unsupportedDimension(Int)
    /// The feature array is empty or its length is not a multiple of `dimension`.
    case featureCountMismatch(count: Int, dimension: Int)
    /// A feature is NaN or infinite.
    case nonFiniteFeature(point: Int, feature: Int)
    /// A feature is so large that lattice coordinates would overflow 32-bit integers.
    case featureOutOfRange(point: Int, feature: Int, value: Float, limit: Float)
    /// A per-point scale array has the wrong length or holds a NaN or infinite value.
    case invalidScale(what: String, detail: String)

    public var description: String {
        switch self {
        case .unsupportedDimension(let d):
            return "A permutohedral lattice needs 1...\(PermutohedralLattice.maximumDimension) feature "
                + "dimensions, got \(d)."
        case let .featureCountMismatch(count, dimension):
            return "The lattice got \(count) feature values, which is not a positive multiple of the "
                + "dimension \(dimension); pass point-major features (point i at i·d ..< (i+1)·d)."
        case let .nonFiniteFeature(point, feature):
            return "Lattice feature \(feature) of point \(point) is NaN or infinite; features must be "
                + "finite (divide positions and colours by finite, positive standard deviations)."
        case let .featureOutOfRange(point, feature, value, limit):
            return "Lattice feature \(feature) of point \(point) is \(value), beyond ±\(limit); "
                + "features are positions divided by the kernel's standard deviation, so a tiny "
                + "standard deviation is the likely cause."
        case let .invalidScale(what, detail):
            return "Invalid \(what) scale for the lattice: \(detail)."
        }
    }
}
