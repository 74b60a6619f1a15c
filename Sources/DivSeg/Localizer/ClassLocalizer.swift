import DivSegIO

/// What the rest of the method needs from a class's localizer, whatever its architecture:
/// a per-location sampling score on the 64×84 grid and an image-level probability.
///
/// Two architectures exist, chosen per bundle so that classes stay independent plug-ins:
/// ``Localizer`` (the paper's max-pooled hypercolumn MLP) and ``AveragePooledLocalizer``
/// (a CAM-style linear classifier on average-pooled block5_conv3, TheMethod.md, "Localizers").
/// ``LocalizerFile/load(contentsOf:featureRule:)`` opens either.
///
/// ```swift
/// let giraffe = try LocalizerFile.load(contentsOf: "classes/giraffe/localizer.h5")
/// let s = giraffe.score(compact)              // 5376 values, a typical positive peaks near 1
/// print(giraffe.probability(compact))
/// ```
public protocol ClassLocalizer: Sendable {
    /// The class it finds (informational; bundles name classes themselves).
    var className: String { get }
    /// How scores become the image probability: a ``LocalizerLoss`` raw value or "average-pooled".
    var lossName: String { get }
    /// Feature channels the first layer reads (4224 hypercolumn channels, or 512).
    var inputChannels: Int { get }
    /// Hidden units (0 for a linear localizer).
    var hiddenUnits: Int { get }
    /// s_c: the mean over the positive training images of the score's maximum.
    var scoreScale: Float { get }
    /// The sampling score on the 64×84 grid (5376 values, row-major).
    func score(_ features: CompactHypercolumns, kind: LocalizerScore) -> [Float]
    /// The image-level probability that the class is present.
    func probability(_ features: CompactHypercolumns) -> Float
    /// Writes the localizer as HDF5 (atomically).
    func save(to path: String, storage: HDF5Storage) throws
}

extension ClassLocalizer {
    /// The paper's sampling score S_c (``LocalizerScore/foreground``).
    public func score(_ features: CompactHypercolumns) -> [Float] { score(features, kind: .foreground) }
}

extension Localizer: ClassLocalizer {
    public var lossName: String { loss.rawValue }
}
