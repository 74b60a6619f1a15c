/// How the class score maps that training labels are sampled from are computed (issue #11,
/// lever 4): from the image alone (the default), or averaged with the maps of its mirror
/// image — the localizer scores the horizontally flipped image's features, the map is
/// mirrored back and the two are averaged, which evens out the localizers' left/right
/// quirks at the cost of a second backbone run per training image (cached as the feature
/// cache's `-hflip` entry). Only training labels use it; `segment` does not.
///
/// ```swift
/// var augmentation = ScoreMapAugmentation()
/// augmentation.flip = true
/// let scores = augmentation.combined(scores, flipped: flippedScores)   // mean of both
/// ```
public struct ScoreMapAugmentation: Sendable, Codable, Equatable {
    /// Average each class map with its mirror image's (default false).
    public var flip: Bool

    /// The default: the image's own maps only.
    public init(flip: Bool = false) { self.flip = flip }

    /// The text this setting adds to sample-store keys: empty for the default, so that the
    /// picks stored before this setting existed stay valid.
    public var keyText: String { flip ? "hflip" : "" }

    /// A score map of the mirrored image brought back to the image's own columns.
    ///
    /// ```swift
    /// ScoreMapAugmentation.mirrored([1, 2, 3, 4, 5, 6], width: 3)   // [3, 2, 1, 6, 5, 4]
    /// ```
    ///
    /// - Precondition: `scores.count` is a multiple of `width`.
    public static func mirrored(_ scores: [Float], width: Int = FeatureGrid.width) -> [Float] {
        precondition(width > 0 && scores.count % width == 0, "a score map of whole rows of \(width)")
        var out = scores
        for start in stride(from: 0, to: scores.count, by: width) {
            for c in 0..<width { out[start + c] = scores[start + width - 1 - c] }
        }
        return out
    }

    /// The map labels are sampled from: `scores` itself, or with ``flip`` the mean of
    /// `scores` and the mirrored `flipped` map (the localizer's scores on the mirror image's
    /// features).
    ///
    /// - Precondition: with ``flip``, `flipped` has the size of `scores`.
    public func combined(_ scores: [Float], flipped: [Float]?, width: Int = FeatureGrid.width) -> [Float] {
        guard flip, let flipped else { return scores }
        precondition(flipped.count == scores.count, "score maps of one grid")
        let back = Self.mirrored(flipped, width: width)
        return zip(scores, back).map { 0.5 * ($0 + $1) }
    }
}
