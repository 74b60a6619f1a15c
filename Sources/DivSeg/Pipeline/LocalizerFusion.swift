import DivSegCore

/// Adds each class's localizer map (``LocalizerScore/foreground``, the map dense training
/// labels are thresholded on), times a weight, to the segmenter's logit of that class before
/// the prediction rules (issue #11, lever 9; chosen on held-out train2017 images, see
/// docs/RESULTS.md). The two models see an image differently — the segmenter a stride-4
/// hypercolumn per location, the localizer block5_conv3 at stride 16, trained on whole
/// images' tags — and on unseen images the localizer's map is the better judge of *which*
/// classes are present, the segmenter's logits of where their edges run.
///
/// ```swift
/// // One entry per segmenter channel: nil for background.
/// let maps = LocalizerFusion(localizers: [nil] + (try registry.bundles.map { try $0.loadLocalizer() }))
/// pipeline.localizerFusion = maps                    // weight 16, the default
/// ```
public struct LocalizerFusion: Sendable {
    /// The weight chosen on held-out train2017 images (``weightRange`` bounds what is accepted).
    public static let defaultWeight: Float = 16
    /// Weights accepted: 0 (the maps add nothing) to 1000 (the maps alone decide).
    public static let weightRange: ClosedRange<Float> = 0...1000

    /// One entry per segmenter channel: the localizer of that channel's class, or nil for a
    /// channel left as the segmenter gives it (background, or a class without a localizer).
    public var localizers: [(any Localizer)?]
    /// The factor on each map (a typical positive image's map peaks near 1).
    public var weight: Float

    public init(localizers: [(any Localizer)?], weight: Float = LocalizerFusion.defaultWeight) {
        self.localizers = localizers
        self.weight = weight
    }

    /// `logits` `[channels, 64, 84]` with each channel's map, times ``weight``, added.
    ///
    /// - Precondition: one entry of ``localizers`` per channel of `logits`.
    public func apply(to logits: Tensor, features: CompactHypercolumns) -> Tensor {
        precondition(localizers.count == logits.shape[0],
                     "one localizer entry per segmenter channel (\(logits.shape[0])), got \(localizers.count)")
        guard weight != 0 else { return logits }
        var out = logits
        let plane = logits.count / logits.shape[0]
        for (channel, localizer) in localizers.enumerated() {
            guard let localizer else { continue }
            let map = localizer.score(features, kind: .foreground)
            precondition(map.count == plane, "a localizer map of the segmenter's grid")
            out.scalars.withUnsafeMutableBufferPointer { z in
                for i in 0..<plane { z[channel * plane + i] += weight * map[i] }
            }
        }
        return out
    }
}
